import NIOCore
import Platform
import Synchronization

/// The bounded queue between a ``PortListener``'s event loops (which push the records each read
/// decoded, in ``EncodingSink``'s form) and its polls (which take them), plus what the listener
/// counts and the connections it must close.
///
/// The bound is ``limit`` bytes of encoded records, checked after each push: a TCP handler that
/// finds the queue full stops reading and registers a resume action (``pause(until:)``), which
/// runs once polls have taken the queue to three quarters of the limit or less. A read already
/// received is always queued whole, so the queue exceeds the limit by at most one read per
/// connection. A datagram arriving while the queue is full is dropped and counted.
///
/// Thread-safe: one lock operation per read pushed and per poll.
final class ListenQueue: Sendable {
    let limit: Int

    private struct State {
        var bytes: [UInt8] = []
        /// Where the oldest record not yet taken starts.
        var start = 0
        var records = 0
        var paused: [@Sendable () -> Void] = []
        var connections: [ObjectIdentifier: any Channel] = [:]
        var closed = false
        var counts = ListenStatistics()

        var queuedBytes: Int { bytes.count - start }
    }

    private let state = Mutex(State())

    init(limit: Int) {
        precondition(limit > 0, "a listen queue needs room")
        self.limit = limit
    }

    /// Moves `sink`'s records and rejects into the queue, leaving it empty.
    /// - Returns: whether the queue is full now (the caller should stop reading).
    func push(_ sink: inout EncodingSink) -> Bool {
        let full = state.withLock { s in
            s.bytes.append(contentsOf: sink.bytes)
            s.records += sink.count
            s.counts.receivedRecords += sink.count
            s.counts.rejectedFrames += sink.rejected
            s.counts.peakQueuedBytes = max(s.counts.peakQueuedBytes, s.queuedBytes)
            return s.queuedBytes >= limit
        }
        sink.clear()
        return full
    }

    /// Whether the queue is at or over its limit.
    var isFull: Bool { state.withLock { $0.queuedBytes >= limit } }

    /// Counts one datagram dropped because the queue was full.
    func countDroppedDatagram() { state.withLock { $0.counts.droppedDatagrams += 1 } }

    /// Registers `resume` to run (on the polling thread) once the queue is low enough; runs it
    /// at once if it already is.
    func pause(until resume: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            if s.queuedBytes <= limit / 4 * 3 { return true }
            s.paused.append(resume)
            return false
        }
        if now { resume() }
    }

    /// Copies the oldest records into `out` (emptied first) up to `budget`: records are taken
    /// while fewer than `budget.records` were and their encoded bytes stay under `budget.bytes`
    /// (the record that crosses it is taken whole). Runs the resume actions when the queue is
    /// low enough afterwards.
    /// - Returns: the records taken, and whether more wait.
    func take(budget: ReadBudget, into out: inout [UInt8]) -> (records: Int, isMoreWaiting: Bool) {
        out.removeAll(keepingCapacity: true)
        let (taken, more, resume) = state.withLock { s -> (Int, Bool, [@Sendable () -> Void]) in
            var end = s.start
            var taken = 0
            ByteView.with(s.bytes) { all in
                while taken < s.records, taken < budget.records, end - s.start < budget.bytes {
                    end += EncodingSink.recordLength(all, at: end)
                    taken += 1
                }
                all[s.start ..< end].append(to: &out)
            }
            s.records -= taken
            s.start = end
            if s.records == 0 {
                s.bytes.removeAll(keepingCapacity: true)
                s.start = 0
            } else if s.start > s.bytes.count / 2 {
                s.bytes.removeSubrange(0 ..< s.start)
                s.start = 0
            }
            guard !s.paused.isEmpty, s.queuedBytes <= limit / 4 * 3 else { return (taken, s.records > 0, []) }
            defer { s.paused.removeAll() }
            return (taken, s.records > 0, s.paused)
        }
        for action in resume { action() }
        return (taken, more)
    }

    /// Keeps `channel` to close at ``close()``; closes it at once if that has run.
    func track(_ channel: any Channel) {
        let closed = state.withLock { s in
            if !s.closed {
                s.connections[ObjectIdentifier(channel)] = channel
                s.counts.connections = s.connections.count
            }
            return s.closed
        }
        if closed { channel.close(promise: nil) }
    }

    /// Forgets a closed connection.
    func untrack(_ channel: any Channel) {
        state.withLock { s in
            s.connections[ObjectIdentifier(channel)] = nil
            s.counts.connections = s.connections.count
        }
    }

    /// Closes every connection, now and as they are accepted, and drops what is queued.
    func close() {
        let open = state.withLock { s in
            s.closed = true
            s.bytes = []
            s.start = 0
            s.records = 0
            s.paused = []
            return Array(s.connections.values)
        }
        for channel in open { channel.close(promise: nil) }
    }

    /// Accepts connections again after ``close()`` (a listener bound anew).
    func reopen() { state.withLock { $0.closed = false } }

    /// The counts and the queue's fill now.
    var statistics: ListenStatistics {
        state.withLock { s in
            var counts = s.counts
            counts.queuedRecords = s.records
            counts.queuedBytes = s.queuedBytes
            counts.pausedConnections = s.paused.count
            return counts
        }
    }
}

/// What a ``PortListener`` has received, refused and holds.
public struct ListenStatistics: Sendable, Equatable {
    /// Records decoded since the listener started.
    public var receivedRecords = 0
    /// Frames (lines, syslog messages, datagrams) the decoders rejected as malformed or too long.
    public var rejectedFrames = 0
    /// Datagrams dropped because the queue was full.
    public var droppedDatagrams = 0
    /// Records waiting for a poll, and their encoded bytes.
    public var queuedRecords = 0
    public var queuedBytes = 0
    /// The most encoded bytes queued at once.
    public var peakQueuedBytes = 0
    /// TCP connections open now.
    public var connections = 0
    /// TCP connections not being read now because the queue is full.
    public var pausedConnections = 0

    public init() {}
}
