import Platform
import WAL
import Synchronization

/// Recycles batch payload buffers from the shard writers back to the batchers, so sealing a
/// batch does not allocate (and the kernel does not zero) a fresh quarter-megabyte each time.
/// Bounded: at most `limit` buffers wait in the pool. Thread-safe; one lock per batch.
public final class PayloadPool: Sendable {
    private let buffers = Mutex<[[UInt8]]>([])
    let limit: Int
    let capacity: Int

    init(limit: Int, capacity: Int) {
        self.limit = limit
        self.capacity = capacity
    }

    /// A buffer with at least the pool's capacity, for ``ShardedPayloads`` to write over (its
    /// size is room, its bytes are not cleared). A fresh one only reserves its capacity: an
    /// event loop that never batches never touches its pages.
    func take() -> [UInt8] {
        if let buffer = buffers.withLock({ $0.popLast() }) { return buffer }
        var fresh: [UInt8] = []
        fresh.reserveCapacity(capacity)
        return fresh
    }

    /// Returns a buffer once its batch is written.
    func recycle(_ buffer: [UInt8]) {
        guard buffer.capacity >= capacity, buffer.capacity <= capacity * 4 else { return }
        buffers.withLock { if $0.count < limit { $0.append(buffer) } }
    }
}
