import Platform
import Synchronization
import WAL

/// What the control plane wants from the stream: metric names (by ``SourceHash`` of their
/// bytes) and whether any log records at all.
public struct TapFilter: Sendable, Equatable {
    public var metricNameHashes: Set<UInt64>
    public var wantsLogs: Bool
    /// Only log records at this severity or more severe (a lower number); 255: every log.
    public var logSeverityCeiling: UInt8

    public init(metricNames: some Sequence<String> = [], wantsLogs: Bool = false, logSeverityCeiling: UInt8 = 255) {
        metricNameHashes = Set(metricNames.map { SourceHash.hash($0) })
        self.wantsLogs = wantsLogs
        self.logSeverityCeiling = logSeverityCeiling
    }

    /// Nothing wanted: the tap costs nothing.
    public var isEmpty: Bool { metricNameHashes.isEmpty && !wantsLogs }
}

/// Hands the records the control plane wants to it, one batch at a time, off the record path.
///
/// Each shard writer calls ``scan(_:count:)`` after a batch is in the WAL: a walk over the
/// encoded records that reads only each record's kind and (for metrics) name, copying out the
/// records the filter selects. Selected records go to the consumer through a bounded queue
/// drained by its own thread (``WorkerThread``, `hypha-tap`); when the consumer falls behind,
/// batches are dropped and counted, never waited for. Thread-safe.
public final class StreamTap: Sendable {
    private let filter: Mutex<TapFilter>
    private let worker: WorkerThread<([UInt8], Int)>

    /// - Parameters:
    ///   - maxQueued: batches waiting for the consumer before new ones are dropped.
    ///   - consume: called on the tap's thread with records in the WAL encoding (read them with
    ///     ``RecordCursor``) and their count.
    public init(filter: TapFilter = TapFilter(), maxQueued: Int = 256, consume: @escaping @Sendable ([UInt8], Int) -> Void) {
        self.filter = Mutex(filter)
        worker = WorkerThread(name: "hypha-tap", capacity: maxQueued) { wake in
            for (bytes, count) in wake.jobs { consume(bytes, count) }
        }
    }

    /// Replaces the filter (on rule reload).
    public func update(_ new: TapFilter) { filter.withLock { $0 = new } }

    /// Batches dropped because the consumer was behind, and batches delivered.
    public var counts: (dropped: Int, delivered: Int) {
        let load = worker.load
        return (load.refused, load.handled)
    }

    /// Selects the wanted records of one written batch payload.
    /// - Complexity: O(records); reads two fields per record, copies only selected ones.
    public func scan(_ payload: [UInt8], count: Int) {
        let f = filter.withLock { $0 }
        guard !f.isEmpty else { return }
        var selected: [UInt8] = []
        var n = 0
        var cursor = RecordCursor(payload, count: payload.count)
        ByteView.with(payload) { all in
            while true {
                let start = cursor.offset
                guard let range = try? cursor.nextBody(), range.count > 9 else { return }
                let body = all[range]
                let keep: Bool
                switch body[0] {
                case RecordKind.metric.rawValue:
                    // kind, timestamp, value, then the name.
                    var reader = ByteReader(body, offset: 17)
                    if let name = reader.lengthPrefixed() {
                        keep = f.metricNameHashes.contains(SourceHash.hash(name))
                    } else {
                        keep = false
                    }
                case RecordKind.log.rawValue:
                    // kind, timestamp, then the severity byte.
                    keep = f.wantsLogs && body[9] <= f.logSeverityCeiling
                default:
                    keep = false
                }
                if keep {
                    all[start ..< range.upperBound].append(to: &selected)
                    n += 1
                }
            }
        }
        guard n > 0 else { return }
        worker.submit((selected, n))
    }

    /// Delivers what is queued, then stops the thread.
    public func stop() { worker.stop() }
}
