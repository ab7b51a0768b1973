import Platform
import WAL
import Synchronization

/// Bounds the bytes sealed but not yet written to the WAL, per shard and in total.
///
/// Batchers reserve a batch's bytes when they seal it; the shard writer releases them after
/// the append. When a listener sees the gate over its limit it stops reading (TCP then pushes
/// back on the sender) and registers a resume action, which the gate runs once usage falls
/// below three quarters of every limit. Thread-safe; one lock operation per batch.
public final class InFlightGate: Sendable {
    public let maxTotalBytes: Int
    public let maxShardBytes: Int

    private struct State {
        var total = 0
        var perShard: [Int]
        var paused: [@Sendable () -> Void] = []
        var peak = 0
    }

    private let state: Mutex<State>

    public init(shardCount: Int, maxTotalBytes: Int, maxShardBytes: Int) {
        self.maxTotalBytes = maxTotalBytes
        self.maxShardBytes = maxShardBytes
        state = Mutex(State(perShard: Array(repeating: 0, count: shardCount)))
    }

    /// Counts `bytes` as in flight for `shard`.
    public func reserve(bytes: Int, shard: Int) {
        state.withLock {
            $0.total += bytes
            $0.perShard[shard] += bytes
            $0.peak = max($0.peak, $0.total)
        }
    }

    /// Releases `bytes`; runs the registered resume actions when usage is low enough again.
    public func release(bytes: Int, shard: Int) {
        let resume: [@Sendable () -> Void] = state.withLock { s in
            s.total -= bytes
            s.perShard[shard] -= bytes
            guard !s.paused.isEmpty, Self.isLow(s, maxTotal: maxTotalBytes, maxShard: maxShardBytes) else { return [] }
            defer { s.paused.removeAll() }
            return s.paused
        }
        for action in resume { action() }
    }

    /// Whether listeners should stop reading.
    public var isOverLimit: Bool {
        state.withLock { s in s.total >= maxTotalBytes || s.perShard.contains { $0 >= maxShardBytes } }
    }

    /// Registers `resume` to run when usage falls low enough; runs it at once if it already has.
    public func pause(until resume: @escaping @Sendable () -> Void) {
        let now = state.withLock { s -> Bool in
            if Self.isLow(s, maxTotal: maxTotalBytes, maxShard: maxShardBytes) { return true }
            s.paused.append(resume)
            return false
        }
        if now { resume() }
    }

    /// Bytes in flight now, and the most seen at once.
    public var usage: (total: Int, peak: Int, perShard: [Int]) { state.withLock { ($0.total, $0.peak, $0.perShard) } }

    private static func isLow(_ s: State, maxTotal: Int, maxShard: Int) -> Bool {
        s.total <= maxTotal / 4 * 3 && !s.perShard.contains { $0 > maxShard / 4 * 3 }
    }
}
