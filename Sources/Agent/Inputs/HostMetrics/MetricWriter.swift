import Ingest
import Platform

/// Emits the samples of one collection: the same timestamp, the `host` label first, and only
/// the samples in a window of their sequence, so that a collection emitted over several polls
/// (the budget) emits each sample once. The parsers produce the same samples in the same order
/// from the same file contents, so a sample is known by its index.
struct MetricWriter {
    let timestamp: Int64
    let host: [UInt8]
    /// Samples before this index were emitted by an earlier poll.
    let first: Int
    /// Samples from this index on are left for a later poll.
    let end: Int
    /// The index of the next sample.
    private(set) var index = 0

    init(timestamp: Int64, host: [UInt8], first: Int = 0, limit: Int = .max) {
        self.timestamp = timestamp
        self.host = host
        self.first = first
        end = first + min(limit, .max - first)
    }

    /// Samples emitted by this writer.
    var emitted: Int { max(0, min(index, end) - first) }
    /// Whether samples were left for a later poll.
    var isCutShort: Bool { index > end }

    /// One sample named `name` with `value`; `labels` adds the labels after `host`.
    mutating func emit<S: RecordSink>(_ name: ByteView, _ value: Double, into sink: inout S, labels: (inout S) -> Void = { _ in }) {
        defer { index += 1 }
        guard index >= first, index < end else { return }
        ByteView.with(host) { host in
            sink.beginMetric(timestamp: timestamp, name: name, value: value, source: host)
            withLiteral("host") { sink.field(key: $0, value: host) }
        }
        labels(&sink)
        sink.finishRecord()
    }

    /// ``emit(_:_:into:labels:)`` with a literal name.
    mutating func emit<S: RecordSink>(_ name: StaticString, _ value: Double, into sink: inout S, labels: (inout S) -> Void = { _ in }) {
        withLiteral(name) { emit($0, value, into: &sink, labels: labels) }
    }
}

/// Adds the label `key` = `value` to the open sample.
func label(_ key: StaticString, _ value: ByteView, _ sink: inout some RecordSink) {
    withLiteral(key) { sink.field(key: $0, value: value) }
}

/// Adds the label `key` = `value` to the open sample.
func label(_ key: StaticString, _ value: StaticString, _ sink: inout some RecordSink) {
    withLiteral(value) { label(key, $0, &sink) }
}

/// Splits a line of a /proc file into its whitespace-separated words.
struct Words {
    private(set) var ranges: [Range<Int>] = []

    mutating func split(_ line: ByteView) {
        ranges.removeAll(keepingCapacity: true)
        var i = 0
        while i < line.count {
            while i < line.count, line[i] == 0x20 || line[i] == 0x09 { i += 1 }
            let start = i
            while i < line.count, line[i] != 0x20, line[i] != 0x09 { i += 1 }
            if i > start { ranges.append(start ..< i) }
        }
    }

    var count: Int { ranges.count }
}

/// Calls `body` with each line of `contents` (without its LF).
func forEachLine(_ contents: ByteView, _ body: (ByteView) -> Void) {
    var start = 0
    while start < contents.count {
        let end = contents.firstIndex(of: UInt8(ascii: "\n"), from: start) ?? contents.count
        body(contents[start ..< end])
        start = end + 1
    }
}

extension ByteView {
    /// The unsigned decimal number filling the view, as a Double; `nil` if it is not one.
    var unsignedNumber: Double? {
        guard count > 0 else { return nil }
        var v: UInt64 = 0
        for i in 0 ..< count {
            let d = self[i] &- UInt8(ascii: "0")
            guard d < 10 else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            guard !o1, !o2 else { return nil }
            v = a
        }
        return Double(v)
    }
}
