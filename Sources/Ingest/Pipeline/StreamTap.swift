import Synchronization

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
/// records the filter selects. Selected records go to the consumer in a bounded queue drained by
/// its own thread; when the consumer falls behind, batches are dropped and counted, never
/// waited for. Thread-safe.
public final class StreamTap: Sendable {
    private struct State {
        var queue: [([UInt8], Int)] = []
        var stopping = false
        var dropped = 0
        var delivered = 0
    }

    private let filter: Mutex<TapFilter>
    private let state = Mutex(State())
        private let wakeup: Mutex<BackgroundThread?> = Mutex(nil)
    private let signal = DispatchSemaphoreBox()
    private let maxQueued: Int

    /// - Parameters:
    ///   - maxQueued: batches waiting for the consumer before new ones are dropped.
    ///   - consume: called on the tap's thread with records in the WAL encoding (read them with
    ///     ``RecordCursor``) and their count.
    public init(filter: TapFilter = TapFilter(), maxQueued: Int = 256, consume: @escaping @Sendable ([UInt8], Int) -> Void) {
        self.filter = Mutex(filter)
        self.maxQueued = maxQueued
        let thread = BackgroundThread(name: "hypha-tap") { [self] in
            while true {
                signal.wait()
                let (batches, stopping) = state.withLock { s in
                    defer { s.queue.removeAll(keepingCapacity: true) }
                    return (s.queue, s.stopping)
                }
                for (bytes, count) in batches { consume(bytes, count) }
                state.withLock { $0.delivered += batches.count }
                if stopping && state.withLock({ $0.queue.isEmpty }) { return }
            }
        }
        wakeup.withLock { $0 = thread }
    }

    /// Replaces the filter (on rule reload).
    public func update(_ new: TapFilter) { filter.withLock { $0 = new } }

    /// Batches dropped because the consumer was behind, and batches delivered.
    public var counts: (dropped: Int, delivered: Int) { state.withLock { ($0.dropped, $0.delivered) } }

    /// Selects the wanted records of one written batch payload.
    /// - Complexity: O(records); reads two fields per record, copies only selected ones.
    public func scan(_ payload: [UInt8], count: Int) {
        let f = filter.withLock { $0 }
        guard !f.isEmpty else { return }
        var selected: [UInt8] = []
        var n = 0
        var cursor = RecordCursor(payload, count: payload.count)
        unsafe payload.withUnsafeBytes { raw in
            let all = unsafe ByteView(raw)
            while true {
                let start = cursor.offset
                guard let range = try? cursor.nextBody(), range.count > 9 else { return }
                let body = all[range]
                let keep: Bool
                switch body[0] {
                case RecordKind.metric.rawValue:
                    // kind, timestamp, value, then the name.
                    var name = RecordValidator.Reader(view: body, offset: 17)
                    if let length = name.varint(), length <= UInt64(body.count - name.offset) {
                        keep = f.metricNameHashes.contains(SourceHash.hash(body[name.offset ..< name.offset + Int(length)]))
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
        let accepted = state.withLock { s -> Bool in
            guard s.queue.count < maxQueued else {
                s.dropped += 1
                return false
            }
            s.queue.append((selected, n))
            return true
        }
        if accepted { signal.signal() }
    }

    /// Delivers what is queued, then stops the thread.
    public func stop() {
        state.withLock { $0.stopping = true }
        signal.signal()
        wakeup.withLock { $0 }?.join()
    }
}

