public import Platform
import WAL
import Wire
/// Decodes one line of InfluxDB 1.x line protocol into metric samples:
/// `measurement[,tag=value…] field=value[,field=value…] [timestamp]`.
///
/// - Escapes: measurement `\,` `\ `; tag keys, tag values and field keys `\,` `\=` `\ `; a
///   backslash before any other byte is kept (and still protects that byte from being read as a
///   separator). String field values are double-quoted with `\"` and `\\`.
/// - Field values: float (`1`, `-1.5`, `1e3`; finite only), integer `12i`, unsigned `12u`,
///   boolean `t T true True TRUE` (1) / `f F false False FALSE` (0). String fields are skipped.
/// - Each numeric or boolean field becomes one sample named `measurement` when the field key is
///   `value`, else `measurement_field`; labels are the tags in order; the source is the `host`
///   tag's value (empty when absent).
/// - The timestamp is an integer in `precision` units (negative allowed), converted to
///   nanoseconds; absent → `receivedAt`.
/// - Surrounding whitespace is ignored; blank lines and lines starting with `#` are skipped
///   (return 0, no reject), as is a line whose fields are all strings.
/// - Rejected (nothing emitted): invalid UTF-8 or control characters (tab excepted), missing
///   measurement or fields, empty tag or field keys/values, bad numbers, duplicate tag or field
///   keys, trailing garbage, timestamp overflow.
///
/// - Complexity: O(line length + fields² + tags²) (duplicate checks on the usually few keys); no
///   allocation once the scratch buffers have grown to the largest line seen.
/// - Thread: value type, one per connection/loop.
public struct InfluxLineDecoder {
    @usableFromInline var metric = MetricDraft()
    @usableFromInline var scratch: [UInt8] = []
    var fieldKeys: [TextSpan] = []

    public init() {
        scratch.reserveCapacity(256)
        fieldKeys.reserveCapacity(16)
    }

    /// Decodes `line` (no LF) and emits its samples into `sink`, or one reject.
    /// - Returns: the number of samples emitted (0 after a reject or for a skipped line).
    @inlinable
    @discardableResult
    public mutating func decode(
        _ line: ByteView, precision: InfluxPrecision, receivedAt: Int64, into sink: inout some RecordSink
    ) -> Int {
        switch parse(line, precision: precision, receivedAt: receivedAt) {
        case .metric:
            metric.emit(input: line, scratch: scratch, into: &sink)
            return metric.samples.count
        case .log, .skipped:
            return 0
        case .rejected(let reason):
            sink.reject(reason, sample: line)
            return 0
        }
    }

    /// Validates `v` and fills ``metric``.
    @usableFromInline
    mutating func parse(_ v: ByteView, precision: InfluxPrecision, receivedAt: Int64) -> DecodeOutcome {
        metric.reset()
        scratch.removeAll(keepingCapacity: true)
        fieldKeys.removeAll(keepingCapacity: true)
        var lo = 0
        var hi = v.count
        while lo < hi, ByteView.isSpace(v[lo]) { lo += 1 }
        while hi > lo, ByteView.isSpace(v[hi - 1]) { hi -= 1 }
        if lo == hi || v[lo] == ASCII.hash { return .skipped }
        if let problem = TextCheck.problem(v, lo, hi, allowedControls: TextCheck.tabOnly) { return .rejected(problem) }
        do throws(DecodeFailure) {
            try parseLine(v, lo, hi, precision: precision, receivedAt: receivedAt)
        } catch {
            return .rejected(error.reason)
        }
        let s = scratch
        let duplicate = ByteView.with(s) { sv -> StaticString? in
            let labels = metric.labels
            if Self.hasDuplicate(labels.count, { labels[$0].key.view(input: v, scratch: sv).elementsEqual(labels[$1].key.view(input: v, scratch: sv)) }) {
                return "duplicate tag key"
            }
            let keys = fieldKeys
            if Self.hasDuplicate(keys.count, { keys[$0].view(input: v, scratch: sv).elementsEqual(keys[$1].view(input: v, scratch: sv)) }) {
                return "duplicate field key"
            }
            return nil
        }
        if let duplicate { return .rejected(duplicate) }
        return metric.samples.isEmpty ? .skipped : .metric
    }

    /// Whether any two of `count` keys are equal (`equal(a, b)` compares keys `a` and `b`).
    private static func hasDuplicate(_ count: Int, _ equal: (Int, Int) -> Bool) -> Bool {
        guard count > 1 else { return false }
        for a in 1 ..< count {
            for b in 0 ..< a where equal(a, b) { return true }
        }
        return false
    }

    private mutating func parseLine(
        _ v: ByteView, _ lo: Int, _ hi: Int, precision: InfluxPrecision, receivedAt: Int64
    ) throws(DecodeFailure) {
        var i = lo
        // Measurement.
        let (measurementEnd, measurementEscaped) = Self.scanName(v, i, hi, stopAtEquals: false)
        guard measurementEnd > lo else { throw DecodeFailure("missing measurement") }
        let measurement = lo ..< measurementEnd
        let measurementSpan = measurementEscaped ? appendUnescaped(v, measurement, equals: false) : TextSpan(lo, measurementEnd)
        i = measurementEnd
        // Tags.
        while i < hi, v[i] == ASCII.comma {
            i += 1
            let (keyEnd, keyEscaped) = Self.scanName(v, i, hi, stopAtEquals: true)
            guard keyEnd > i else { throw DecodeFailure("empty tag key") }
            guard keyEnd < hi, v[keyEnd] == ASCII.equals else { throw DecodeFailure("tag without '='") }
            let key = keyEscaped ? appendUnescaped(v, i ..< keyEnd, equals: true) : TextSpan(i, keyEnd)
            let valueStart = keyEnd + 1
            let (valueEnd, valueEscaped) = Self.scanName(v, valueStart, hi, stopAtEquals: true)
            guard valueEnd > valueStart else { throw DecodeFailure("empty tag value") }
            guard valueEnd == hi || v[valueEnd] != ASCII.equals else { throw DecodeFailure("unescaped '=' in tag value") }
            let value = valueEscaped ? appendUnescaped(v, valueStart ..< valueEnd, equals: true) : TextSpan(valueStart, valueEnd)
            if !key.inScratch, v[key.lower ..< key.upper].equals("host") { metric.source = value }
            metric.labels.append(FieldSpan(key: key, value: value))
            i = valueEnd
        }
        guard i < hi else { throw DecodeFailure("missing fields") }
        guard v[i] == ASCII.space || v[i] == ASCII.tab else { throw DecodeFailure("invalid measurement or tag") }
        while v[i] == ASCII.space || v[i] == ASCII.tab { i += 1 }  // the line does not end in blanks
        // Fields.
        while true {
            let keyStart = i
            let (keyEnd, keyEscaped) = Self.scanName(v, i, hi, stopAtEquals: true)
            guard keyEnd > keyStart else { throw DecodeFailure("empty field key") }
            guard keyEnd < hi, v[keyEnd] == ASCII.equals else { throw DecodeFailure("field without '='") }
            let key = keyEscaped ? appendUnescaped(v, keyStart ..< keyEnd, equals: true) : TextSpan(keyStart, keyEnd)
            fieldKeys.append(key)
            i = keyEnd + 1
            guard i < hi, v[i] != ASCII.space, v[i] != ASCII.tab, v[i] != ASCII.comma else {
                throw DecodeFailure("missing field value")
            }
            if v[i] == ASCII.quote {
                var j = i + 1
                while j < hi, v[j] != ASCII.quote {
                    if v[j] == ASCII.backslash { j += 1 }
                    j += 1
                }
                guard j < hi else { throw DecodeFailure("unterminated string field") }
                i = j + 1
            } else {
                let valueStart = i
                while i < hi, v[i] != ASCII.comma, v[i] != ASCII.space, v[i] != ASCII.tab { i += 1 }
                let number = try Self.fieldValue(v[valueStart ..< i])
                let name: TextSpan
                if !keyEscaped, v[keyStart ..< keyEnd].equals("value") {
                    name = measurementSpan
                } else {
                    let start = scratch.count
                    if measurementEscaped {
                        _ = appendUnescaped(v, measurement, equals: false)
                    } else {
                        v[measurement].append(to: &scratch)
                    }
                    scratch.append(0x5F)  // _
                    if keyEscaped {
                        _ = appendUnescaped(v, keyStart ..< keyEnd, equals: true)
                    } else {
                        v[keyStart ..< keyEnd].append(to: &scratch)
                    }
                    name = TextSpan(start, scratch.count, inScratch: true)
                }
                metric.samples.append(SampleSpan(name: name, value: number))
            }
            if i == hi {
                metric.timestamp = receivedAt
                return
            }
            if v[i] == ASCII.comma {
                i += 1
                continue
            }
            guard v[i] == ASCII.space || v[i] == ASCII.tab else { throw DecodeFailure("invalid field value") }
            break
        }
        // Timestamp.
        while v[i] == ASCII.space || v[i] == ASCII.tab { i += 1 }
        guard let units = v[i ..< hi].parseInt64() else { throw DecodeFailure("invalid timestamp") }
        let (ns, overflow) = units.multipliedReportingOverflow(by: precision.nanosecondsPerUnit)
        guard !overflow else { throw DecodeFailure("timestamp out of range") }
        metric.timestamp = ns
    }

    /// The end of a name starting at `i` (before an unescaped `,`, space, tab or — for keys and
    /// tag values — `=`), and whether it contains backslashes.
    private static func scanName(_ v: ByteView, _ start: Int, _ hi: Int, stopAtEquals: Bool) -> (Int, Bool) {
        var i = start
        var escaped = false
        while i < hi {
            let b = v[i]
            if b == ASCII.backslash {
                escaped = true
                i = min(i + 2, hi)
                continue
            }
            if b == ASCII.comma || b == ASCII.space || b == ASCII.tab || (stopAtEquals && b == ASCII.equals) { break }
            i += 1
        }
        return (i, escaped)
    }

    /// Appends `v[range]` to scratch with `\,` `\ ` (and `\=` when `equals`) resolved.
    private mutating func appendUnescaped(_ v: ByteView, _ range: Range<Int>, equals: Bool) -> TextSpan {
        let start = scratch.count
        var k = range.lowerBound
        while k < range.upperBound {
            let b = v[k]
            if b == ASCII.backslash, k + 1 < range.upperBound {
                let e = v[k + 1]
                if e == ASCII.comma || e == ASCII.space || (equals && e == ASCII.equals) {
                    scratch.append(e)
                    k += 2
                    continue
                }
            }
            scratch.append(b)
            k += 1
        }
        return TextSpan(start, scratch.count, inScratch: true)
    }

    /// A numeric or boolean field value.
    private static func fieldValue(_ t: ByteView) throws(DecodeFailure) -> Double {
        let n = t.count
        guard n > 0 else { throw DecodeFailure("missing field value") }
        switch t[0] {
        case 0x74, 0x54:  // t T
            if n == 1 || t.equals("true") || t.equals("True") || t.equals("TRUE") { return 1 }
            throw DecodeFailure("invalid boolean field")
        case 0x66, 0x46:  // f F
            if n == 1 || t.equals("false") || t.equals("False") || t.equals("FALSE") { return 0 }
            throw DecodeFailure("invalid boolean field")
        default:
            break
        }
        switch t[n - 1] {
        case 0x69:  // i
            guard n > 1, let value = t[0 ..< n - 1].parseInt64() else { throw DecodeFailure("invalid integer field") }
            return Double(value)
        case 0x75:  // u
            guard n > 1, let value = DecimalText.parseUInt64(t[0 ..< n - 1]) else {
                throw DecodeFailure("invalid unsigned field")
            }
            return Double(value)
        default:
            guard let value = DecimalText.parseDouble(t), value.isFinite else { throw DecodeFailure("invalid float field") }
            return value
        }
    }
}
