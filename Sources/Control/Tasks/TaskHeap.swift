/// A binary min-heap: the smallest element on top. The book's timers and the scheduler's
/// least-loaded daemon use it.
///
/// - Complexity: `push` and `pop` O(log n), `init(_:)` O(n), `min` O(1).
struct TaskHeap<Element: Comparable>: Sendable where Element: Sendable {
    private(set) var elements: [Element]

    init() { elements = [] }

    /// A heap of `elements`, built in O(n).
    init(_ elements: [Element]) {
        self.elements = elements
        var i = elements.count / 2
        while i > 0 {
            i -= 1
            siftDown(i)
        }
    }

    var isEmpty: Bool { elements.isEmpty }
    var count: Int { elements.count }
    var min: Element? { elements.first }

    mutating func push(_ element: Element) {
        elements.append(element)
        var i = elements.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard elements[i] < elements[parent] else { break }
            elements.swapAt(i, parent)
            i = parent
        }
    }

    @discardableResult
    mutating func pop() -> Element? {
        guard !elements.isEmpty else { return nil }
        elements.swapAt(0, elements.count - 1)
        let top = elements.removeLast()
        siftDown(0)
        return top
    }

    private mutating func siftDown(_ start: Int) {
        var i = start
        let n = elements.count
        while true {
            let l = 2 * i + 1
            guard l < n else { return }
            var smallest = l
            if l + 1 < n, elements[l + 1] < elements[l] { smallest = l + 1 }
            guard elements[smallest] < elements[i] else { return }
            elements.swapAt(i, smallest)
            i = smallest
        }
    }
}

/// A timer of one task: a suspend/terminate deadline or a terminated task's removal time.
struct TaskTimer: Comparable, Sendable {
    var at: Int64
    var serial: UInt64
    static func < (a: TaskTimer, b: TaskTimer) -> Bool { a.at != b.at ? a.at < b.at : a.serial < b.serial }
}

/// When a daemon's earliest renewable lease may lapse.
struct DaemonTimer: Comparable, Sendable {
    var at: Int64
    var daemonID: String
    static func < (a: DaemonTimer, b: DaemonTimer) -> Bool { a.at != b.at ? a.at < b.at : a.daemonID < b.daemonID }
}
