import Platform
import WAL

/// Keeps the `limit` best records of a shard for a search (the newest, or the oldest), in a
/// bounded heap: memory stays at `limit` records however much of the WAL matches.
struct RowCollector: RecordCollector {
    /// One kept record: its place in the order and its encoded body.
    struct Row: Sendable {
        var timestamp: Int64
        var shard: Int
        var sequence: UInt64
        var body: [UInt8]
    }

    let limit: Int
    let order: LogOrder
    /// Rows, the worst of them on top (for eviction).
    private(set) var heap: BoundedHeap<Row>
    /// Matches that did not fit (or were pushed out): the answer is truncated.
    private(set) var dropped = 0

    init(limit: Int, order: LogOrder) {
        self.limit = limit
        self.order = order
        let newest = order == .newestFirst
        heap = BoundedHeap(capacity: limit) { a, b in
            // `true` when `a` is worse than `b`: it leaves first.
            newest ? Self.before(a, b) : Self.before(b, a)
        }
    }

    /// The record order oldest first: timestamp, then shard, then sequence.
    static func before(_ a: Row, _ b: Row) -> Bool {
        (a.timestamp, a.shard, a.sequence) < (b.timestamp, b.shard, b.sequence)
    }

    var prefersNewest: Bool { order == .newestFirst }

    func wants(_ header: BatchHeader) -> Bool {
        guard heap.isFull, let worst = heap.top else { return limit > 0 }
        return order == .newestFirst ? header.maxTimestamp >= worst.timestamp : header.minTimestamp <= worst.timestamp
    }

    mutating func collect(shard: Int, sequence: UInt64, body: ByteView, layout: LogLayout) {
        guard limit > 0 else {
            dropped += 1
            return
        }
        if heap.isFull, let worst = heap.top {
            let better = order == .newestFirst
                ? (layout.timestamp, shard, sequence) > (worst.timestamp, worst.shard, worst.sequence)
                : (layout.timestamp, shard, sequence) < (worst.timestamp, worst.shard, worst.sequence)
            dropped += 1
            guard better else { return }
        }
        heap.insert(Row(timestamp: layout.timestamp, shard: shard, sequence: sequence, body: body.bytes))
    }

    /// The kept rows, best first.
    func sorted() -> [Row] {
        heap.elements.sorted { order == .newestFirst ? Self.before($1, $0) : Self.before($0, $1) }
    }

    /// The record a row holds.
    static func match(_ row: Row) -> LogMatch? {
        ByteView.with(row.body) { body in
            guard let layout = LogLayout.parse(body) else { return nil }
            let record = LogRecord(
                timestamp: layout.timestamp, severity: layout.severity, facility: layout.facility,
                host: body[layout.host].string, app: body[layout.app].string, message: body[layout.message].string,
                fields: layout.fieldPairs(in: body))
            return LogMatch(shard: row.shard, sequence: row.sequence, record: record)
        }
    }
}

/// A binary heap of at most `capacity` elements whose top is the element `worse` ranks
/// lowest; inserting into a full heap replaces the top.
struct BoundedHeap<Element> {
    let capacity: Int
    /// `worse(a, b)`: `a` leaves before `b`.
    let worse: (Element, Element) -> Bool
    private(set) var elements: [Element] = []

    init(capacity: Int, worse: @escaping (Element, Element) -> Bool) {
        self.capacity = capacity
        self.worse = worse
        elements.reserveCapacity(min(capacity, 1 << 16))
    }

    var isFull: Bool { elements.count >= capacity }
    var top: Element? { elements.first }

    /// Adds `element`; when full, it replaces the top (the caller checked it is better).
    mutating func insert(_ element: Element) {
        guard capacity > 0 else { return }
        if isFull {
            elements[0] = element
            siftDown(0)
            return
        }
        elements.append(element)
        var i = elements.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard worse(elements[i], elements[parent]) else { break }
            elements.swapAt(i, parent)
            i = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        while true {
            let l = 2 * i + 1
            let r = l + 1
            var m = i
            if l < elements.count, worse(elements[l], elements[m]) { m = l }
            if r < elements.count, worse(elements[r], elements[m]) { m = r }
            guard m != i else { return }
            elements.swapAt(i, m)
            i = m
        }
    }
}
