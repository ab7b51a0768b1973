public import Platform
import WAL
import Wire
/// Decodes one line of the Graphite plaintext protocol into a metric sample:
/// `path value [timestamp]`, or with tags `path;tag=value;tag2=value value [timestamp]`.
///
/// - Separators are runs of spaces or tabs; surrounding whitespace is ignored and a blank line is
///   skipped (no record, no reject).
/// - The path (the part before the first `;`) becomes the sample name; it must be printable ASCII
///   without spaces or UTF-8 text (bytes 0x21…0x7E and valid multi-byte sequences).
/// - Tags become labels in order, each `name=value` with a non-empty name (no `!`, `^`, `=`) and
///   a non-empty value (no `~`); the source is the `host` tag's value, else empty.
/// - The value is a finite decimal float (`nan`, `inf` are rejected).
/// - The timestamp is epoch seconds, integer or decimal (exact to the nanosecond); absent or `-1`
///   → `receivedAt`; other negatives are rejected.
/// - Rejected (nothing emitted): a missing value, more than three fields, invalid characters,
///   invalid UTF-8, malformed tags, bad numbers.
///
/// - Complexity: O(line length); no allocation once the label buffer has grown.
/// - Thread: value type, one per connection/loop.
public struct GraphiteDecoder {
    @usableFromInline var metric = MetricDraft()
    /// Always empty: every span points into the line.
    @usableFromInline var scratch: [UInt8] = []

    public init() {}

    /// Decodes `line` (no LF) and emits one sample into `sink`, or one reject.
    /// - Parameter receivedAt: nanoseconds since the epoch, used when the line has no timestamp.
    @inlinable
    public mutating func decode(_ line: ByteView, receivedAt: Int64, into sink: inout some RecordSink) {
        switch parse(line, receivedAt: receivedAt) {
        case .metric: metric.emit(input: line, scratch: scratch, into: &sink)
        case .log, .skipped: break
        case .rejected(let reason): sink.reject(reason, sample: line)
        }
    }

    /// Validates `v` and fills ``metric``.
    @usableFromInline
    mutating func parse(_ v: ByteView, receivedAt: Int64) -> DecodeOutcome {
        metric.reset()
        var lo = 0
        var hi = v.count
        while lo < hi, ByteView.isSpace(v[lo]) { lo += 1 }
        while hi > lo, ByteView.isSpace(v[hi - 1]) { hi -= 1 }
        if lo == hi { return .skipped }
        if let problem = TextCheck.problem(v, lo, hi, allowedControls: TextCheck.tabOnly) { return .rejected(problem) }
        do throws(DecodeFailure) {
            try parseLine(v, lo, hi, receivedAt: receivedAt)
            return .metric
        } catch {
            return .rejected(error.reason)
        }
    }

    @inline(__always)
    private static func isBlank(_ b: UInt8) -> Bool { b == ASCII.space || b == ASCII.tab }

    private mutating func parseLine(_ v: ByteView, _ lo: Int, _ hi: Int, receivedAt: Int64) throws(DecodeFailure) {
        // Path and tags (the text is known to be valid UTF-8 without control characters).
        var i = lo
        while i < hi, !Self.isBlank(v[i]), v[i] != ASCII.semicolon {
            guard v[i] != 0x7F else { throw DecodeFailure("invalid character in metric path") }
            i += 1
        }
        let name = TextSpan(lo, i)
        guard i > lo else { throw DecodeFailure("empty metric path") }
        while i < hi, v[i] == ASCII.semicolon {
            i += 1
            let keyStart = i
            while i < hi, !Self.isBlank(v[i]), v[i] != ASCII.semicolon, v[i] != ASCII.equals {
                let b = v[i]
                guard b != 0x21, b != 0x5E else { throw DecodeFailure("invalid character in tag name") }  // ! ^
                i += 1
            }
            guard i > keyStart else { throw DecodeFailure("empty tag name") }
            guard i < hi, v[i] == ASCII.equals else { throw DecodeFailure("tag without '='") }
            let keyEnd = i
            i += 1
            let valueStart = i
            while i < hi, !Self.isBlank(v[i]), v[i] != ASCII.semicolon {
                guard v[i] != 0x7E else { throw DecodeFailure("invalid character in tag value") }  // ~
                i += 1
            }
            guard i > valueStart else { throw DecodeFailure("empty tag value") }
            let key = TextSpan(keyStart, keyEnd)
            let value = TextSpan(valueStart, i)
            if v[keyStart ..< keyEnd].equals("host") { metric.source = value }
            metric.labels.append(FieldSpan(key: key, value: value))
        }
        guard i < hi else { throw DecodeFailure("missing value") }
        // Value.
        while Self.isBlank(v[i]) { i += 1 }  // the line does not end in blanks
        let valueStart = i
        while i < hi, !Self.isBlank(v[i]) { i += 1 }
        guard let value = DecimalText.parseDouble(v[valueStart ..< i]) else { throw DecodeFailure("invalid value") }
        guard value.isFinite else { throw DecodeFailure("non-finite value") }
        // Timestamp.
        var timestamp = receivedAt
        if i < hi {
            while Self.isBlank(v[i]) { i += 1 }
            let tsStart = i
            while i < hi, !Self.isBlank(v[i]) { i += 1 }
            guard i == hi else { throw DecodeFailure("too many fields") }
            let text = v[tsStart ..< hi]
            if !text.equals("-1") {
                guard let ns = DecimalText.epochNanoseconds(text, autoUnit: false) else {
                    throw DecodeFailure("invalid timestamp")
                }
                timestamp = ns
            }
        }
        metric.timestamp = timestamp
        metric.samples.append(SampleSpan(name: name, value: value))
    }
}
