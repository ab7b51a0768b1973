public import Ingest
public import Logging
import Platform

/// Samples CPU, memory, load, disk and network figures from /proc (and file system usage
/// through statvfs) at an interval, as metric samples named and labelled as Prometheus'
/// node_exporter does: the `hostmetrics` task's reader.
///
/// Every sample carries the label `host` first (and the host as its source), then its own
/// labels; all samples of one collection share its wall time. The groups and their metrics:
/// ``HostMetricsOptions/Group``, and the parsers' discussions (`CPUStats`, `MemoryStats`,
/// `LoadStats`, `DiskStats`, `FilesystemStats`, `NetworkStats`). A /proc file that does not
/// exist (some containers have no /proc/diskstats) contributes nothing.
///
/// A poll collects when the interval has passed since the last complete collection (the
/// checkpoint keeps it across restarts), then emits the collection up to the budget; what the
/// budget leaves is emitted by the next polls before anything new is collected, so each sample
/// is emitted once.
///
/// Thread: not thread-safe; one thread at a time (the agent's input worker: statvfs and the
/// reads may block).
public final class HostMetricsCollector {
    /// The options it was made with.
    public let options: HostMetricsOptions
    private let logger: Logger
    private let hostBytes: [UInt8]
    private var checkpoint: HostMetricsCheckpoint
    private var collection: Collection?
    private let usage: (String) -> FilesystemUsage?

    /// One collection: the files as read, the file systems' usage, and how many samples of it
    /// were emitted.
    private struct Collection {
        var timestamp: Int64
        var files: [HostMetricsOptions.Group: [UInt8]] = [:]
        var filesystems: [(MountedFilesystem, FilesystemUsage)] = []
        var emitted = 0
    }

    /// A collector resuming from `checkpoint` (empty: it collects at the first poll).
    public convenience init(options: HostMetricsOptions, checkpoint: HostMetricsCheckpoint = HostMetricsCheckpoint(), logger: Logger) {
        self.init(options: options, checkpoint: checkpoint, logger: logger, usage: FilesystemStats.usage(of:))
    }

    /// A collector that learns file system usage from `usage` (tests).
    init(options: HostMetricsOptions, checkpoint: HostMetricsCheckpoint, logger: Logger, usage: @escaping (String) -> FilesystemUsage?) {
        self.options = options
        self.logger = logger
        self.checkpoint = checkpoint
        self.usage = usage
        hostBytes = Array(options.host.utf8)
    }

    /// Collects when due, and emits the collection up to `budget`.
    /// - Throws: ``InputError/Code/fileAccess`` when a /proc file exists but cannot be read.
    public func poll(into sink: inout some RecordSink, budget: ReadBudget, now: ReadTime) throws(InputError) -> ReadProgress<HostMetricsCheckpoint> {
        var meter = BudgetMeter(budget)
        if collection == nil, isDue(now) { collection = try collect(at: now.wall) }
        guard var collection else { return ReadProgress(meter, checkpoint: checkpoint, isMoreWaiting: false) }
        var writer = MetricWriter(timestamp: collection.timestamp, host: hostBytes, first: collection.emitted, limit: meter.recordsLeft)
        emit(collection, writer: &writer, into: &sink)
        meter.spend(records: writer.emitted)
        collection.emitted += writer.emitted
        if writer.isCutShort {
            self.collection = collection
            return ReadProgress(meter, checkpoint: checkpoint, isMoreWaiting: true)
        }
        checkpoint.lastCollected = collection.timestamp
        self.collection = nil
        return ReadProgress(meter, checkpoint: checkpoint, isMoreWaiting: false)
    }

    private func isDue(_ now: ReadTime) -> Bool {
        guard let last = checkpoint.lastCollected else { return true }
        return now.wall &- last >= options.interval.clampedNanoseconds
    }

    private func collect(at timestamp: Int64) throws(InputError) -> Collection {
        var collection = Collection(timestamp: timestamp)
        for group in options.groups {
            collection.files[group] = try read(Self.file(of: group))
            if group == .disk, let mounts = try read("self/mounts") {
                collection.filesystems = ByteView.with(mounts) { FilesystemStats.mounted($0) }.compactMap { mount in usage(mount.mountPoint).map { (mount, $0) } }
            }
        }
        return collection
    }

    private func emit(_ collection: Collection, writer: inout MetricWriter, into sink: inout some RecordSink) {
        for group in options.groups {
            if let contents = collection.files[group] {
                ByteView.with(contents) { contents in
                    switch group {
                    case .cpu: CPUStats.emit(contents, ticksPerSecond: options.ticksPerSecond, writer: &writer, into: &sink)
                    case .memory: MemoryStats.emit(contents, writer: &writer, into: &sink)
                    case .load: LoadStats.emit(contents, writer: &writer, into: &sink)
                    case .disk: DiskStats.emit(contents, writer: &writer, into: &sink)
                    case .network: NetworkStats.emit(contents, writer: &writer, into: &sink)
                    }
                }
            }
            if group == .disk { FilesystemStats.emit(collection.filesystems, writer: &writer, into: &sink) }
        }
    }

    /// The /proc file of a group, relative to the proc root.
    static func file(of group: HostMetricsOptions.Group) -> String {
        switch group {
        case .cpu: "stat"
        case .memory: "meminfo"
        case .load: "loadavg"
        case .disk: "diskstats"
        case .network: "net/dev"
        }
    }

    /// A file under the proc root; `nil` when it does not exist.
    private func read(_ name: String) throws(InputError) -> [UInt8]? {
        let path = options.procRoot + "/" + name
        do {
            let contents = try FileSystem.read(path)
            if contents == nil { logger.debug("no such file; its figures are left out", metadata: ["agent.hostmetrics.path": "\(path)"]) }
            return contents
        } catch {
            throw InputError(.fileAccess, "cannot read a host metrics file", subject: path, cause: error)
        }
    }
}

@available(*, unavailable)
extension HostMetricsCollector: Sendable {}
