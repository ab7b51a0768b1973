import Platform
import WAL
/// Per-event-loop counters per source (host or peer), cheap enough to update per record: a
/// small direct-mapped cache in front of a dictionary, and names made into Strings only when a
/// source is first seen. Bounded: past `limit` sources, new ones count under the overflow slot
/// (slot 0, ``overflowHash``), which ``IngestStats`` does not keep; a drain clears the table once
/// it is full or holds 4,096 sources, so that new sources get slots again in the next second.
struct SourceTable {
    /// The hash under which the overflow slot is drained.
    static let overflowHash: UInt64 = 0

    struct Entry {
        var hash: UInt64
        var name: String
        var listener: ListenerKind
        var records = 0
        var bytes = 0
        var rejects = 0
        var lastSeen: Int64 = 0
    }

    private(set) var entries: [Entry] = [Entry(hash: overflowHash, name: "(other)", listener: .native)]
    private var index: [UInt64: Int] = [:]
    private var cacheTags = [UInt64](repeating: .max, count: 64)
    private var cacheSlots = [Int](repeating: 0, count: 64)
    /// The most sources with a slot of their own (at least 1).
    let limit: Int

    /// Clears a drained table holding this many sources.
    private var clearingPoint: Int { min(limit, 4096) }

    /// A table with room for `limit` sources besides the overflow slot.
    init(limit: Int) { self.limit = max(1, limit) }

    /// Sources with a slot of their own.
    var count: Int { entries.count - 1 }

    /// The slot of the source with `hash` (named `name` if new).
    mutating func slot(hash: UInt64, name: ByteView, listener: ListenerKind) -> Int {
        let c = Int(truncatingIfNeeded: hash & 63)
        if cacheTags[c] == hash { return cacheSlots[c] }
        let slot: Int
        if let known = index[hash] {
            slot = known
        } else if count < limit {
            slot = entries.count
            entries.append(Entry(hash: hash, name: name.string, listener: listener))
            index[hash] = slot
        } else {
            return 0
        }
        cacheTags[c] = hash
        cacheSlots[c] = slot
        return slot
    }

    mutating func count(_ slot: Int, records: Int, bytes: Int, at time: Int64) {
        entries[slot].records &+= records
        entries[slot].bytes &+= bytes
        entries[slot].lastSeen = time
    }

    mutating func reject(_ slot: Int, at time: Int64) {
        entries[slot].rejects &+= 1
        entries[slot].lastSeen = time
    }

    /// The counts since the last drain, by source hash; counters start again from zero.
    mutating func drain() -> [UInt64: SourceStats] {
        var out: [UInt64: SourceStats] = [:]
        for i in entries.indices where entries[i].records > 0 || entries[i].rejects > 0 {
            let e = entries[i]
            var stats = SourceStats(name: e.name, listener: e.listener)
            stats.records = e.records
            stats.bytes = e.bytes
            stats.rejects = e.rejects
            stats.lastSeen = e.lastSeen
            out[e.hash] = stats
            entries[i].records = 0
            entries[i].bytes = 0
            entries[i].rejects = 0
        }
        if count >= clearingPoint {
            entries.removeSubrange(1...)
            index.removeAll()
            for c in cacheTags.indices { cacheTags[c] = .max }
        }
        return out
    }
}
