public import Platform
import WAL
// Shared building blocks of the wire decoders: byte spans that point either into the input line
// or into a decoder's scratch buffer, the validated "drafts" a decoder fills before it emits, one-pass
// text checks, and decimal number parsing. Internal; the decoders' public API is in their own files.

/// Why a line was rejected; thrown (typed, allocation-free) inside the parsers.
@usableFromInline
struct DecodeFailure: Error {
    @usableFromInline let reason: StaticString
    @inlinable init(_ reason: StaticString) { self.reason = reason }
}

/// The result of the non-generic parse phase of a decoder.
@usableFromInline
enum DecodeOutcome {
    /// A validated log record is in the decoder's ``LogDraft``.
    case log
    /// Validated metric samples are in the decoder's ``MetricDraft``.
    case metric
    /// Nothing to emit and nothing wrong (comment or blank line, only string fields).
    case skipped
    /// Malformed input.
    case rejected(StaticString)
}

/// A byte range holding decoded text: in the input line, or (`inScratch`) in the decoder's scratch
/// buffer when the text had to be unescaped or assembled.
@usableFromInline
struct TextSpan {
    @usableFromInline var lower: Int
    @usableFromInline var upper: Int
    @usableFromInline var inScratch: Bool

    @inlinable
    init(_ lower: Int, _ upper: Int, inScratch: Bool = false) {
        self.lower = lower
        self.upper = upper
        self.inScratch = inScratch
    }

    @inlinable static var empty: TextSpan { TextSpan(0, 0) }

    @inlinable var count: Int { upper - lower }

    @inlinable @_lifetime(copy input, copy scratch)
    func view(input: ByteView, scratch: ByteView) -> ByteView {
        inScratch ? scratch[lower ..< upper] : input[lower ..< upper]
    }
}

/// A key (or label name) and its value.
@usableFromInline
struct FieldSpan {
    @usableFromInline var key: TextSpan
    @usableFromInline var value: TextSpan

    @inlinable
    init(key: TextSpan, value: TextSpan) {
        self.key = key
        self.value = value
    }
}

/// A fully validated log record waiting to be emitted.
@usableFromInline
struct LogDraft {
    @usableFromInline var timestamp: Int64 = 0
    @usableFromInline var severity: UInt8 = LogRecord.unknownLevel
    @usableFromInline var facility: UInt8 = LogRecord.unknownLevel
    @usableFromInline var host = TextSpan.empty
    @usableFromInline var app = TextSpan.empty
    @usableFromInline var message = TextSpan.empty
    @usableFromInline var fields: [FieldSpan] = []

    init() { fields.reserveCapacity(16) }

    mutating func reset() {
        timestamp = 0
        severity = LogRecord.unknownLevel
        facility = LogRecord.unknownLevel
        host = .empty
        app = .empty
        message = .empty
        fields.removeAll(keepingCapacity: true)
    }

    /// Emits the record: `beginLog`, the fields in order, `finishRecord`.
    @inlinable
    func emit(input: ByteView, scratch: [UInt8], into sink: inout some RecordSink) {
        ByteView.with(scratch) { s in
            sink.beginLog(
                timestamp: timestamp, severity: severity, facility: facility,
                host: host.view(input: input, scratch: s), app: app.view(input: input, scratch: s),
                message: message.view(input: input, scratch: s))
            for f in fields {
                sink.field(key: f.key.view(input: input, scratch: s), value: f.value.view(input: input, scratch: s))
            }
            sink.finishRecord()
        }
    }
}

/// One metric sample's name and value; the labels are shared by every sample of a line.
@usableFromInline
struct SampleSpan {
    @usableFromInline var name: TextSpan
    @usableFromInline var value: Double

    @inlinable
    init(name: TextSpan, value: Double) {
        self.name = name
        self.value = value
    }
}

/// Fully validated metric samples of one line, sharing timestamp, source and labels.
@usableFromInline
struct MetricDraft {
    @usableFromInline var timestamp: Int64 = 0
    @usableFromInline var source = TextSpan.empty
    @usableFromInline var labels: [FieldSpan] = []
    @usableFromInline var samples: [SampleSpan] = []

    init() {
        labels.reserveCapacity(16)
        samples.reserveCapacity(16)
    }

    mutating func reset() {
        timestamp = 0
        source = .empty
        labels.removeAll(keepingCapacity: true)
        samples.removeAll(keepingCapacity: true)
    }

    /// Emits every sample: `beginMetric`, the labels in order, `finishRecord`.
    @inlinable
    func emit(input: ByteView, scratch: [UInt8], into sink: inout some RecordSink) {
        ByteView.with(scratch) { s in
            let sourceView = source.view(input: input, scratch: s)
            for sample in samples {
                sink.beginMetric(timestamp: timestamp, name: sample.name.view(input: input, scratch: s), value: sample.value, source: sourceView)
                for l in labels {
                    sink.field(key: l.key.view(input: input, scratch: s), value: l.value.view(input: input, scratch: s))
                }
                sink.finishRecord()
            }
        }
    }
}

/// ASCII byte constants and classes.
enum ASCII {
    static let tab: UInt8 = 0x09
    static let lf: UInt8 = 0x0A
    static let cr: UInt8 = 0x0D
    static let space: UInt8 = 0x20
    static let quote: UInt8 = 0x22
    static let hash: UInt8 = 0x23
    static let plus: UInt8 = 0x2B
    static let comma: UInt8 = 0x2C
    static let minus: UInt8 = 0x2D
    static let dot: UInt8 = 0x2E
    static let colon: UInt8 = 0x3A
    static let semicolon: UInt8 = 0x3B
    static let less: UInt8 = 0x3C
    static let equals: UInt8 = 0x3D
    static let greater: UInt8 = 0x3E
    static let openBracket: UInt8 = 0x5B
    static let backslash: UInt8 = 0x5C
    static let closeBracket: UInt8 = 0x5D
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D

    @inline(__always) static func isDigit(_ b: UInt8) -> Bool { b &- 0x30 < 10 }
    /// Printable US-ASCII without space (RFC 5424 PRINTUSASCII, 33…126).
    @inline(__always) static func isPrintable(_ b: UInt8) -> Bool { b &- 0x21 < 0x5E }
    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b &- 0x41 < 26 ? b | 0x20 : b }
}

/// One-pass UTF-8 validation that also refuses control characters.
enum TextCheck {
    /// Control characters allowed in syslog messages: tab, LF, CR (multi-line octet-counted frames).
    static let syslogControls: UInt32 = 1 << 9 | 1 << 10 | 1 << 13
    /// Control characters allowed in single-line text protocols: tab.
    static let tabOnly: UInt32 = 1 << 9
    /// Every control character allowed (JSON: its grammar refuses raw controls in strings itself).
    static let anyControl: UInt32 = ~0

    /// `nil` when `v[lower..<upper]` is well-formed UTF-8 (no overlongs, surrogates, values past
    /// U+10FFFF) without control characters other than those in `allowedControls` (bit n: control
    /// character n; DEL is refused unless every control is allowed); else the reason.
    /// O(n), one pass, no allocation.
    static func problem(_ v: ByteView, _ lower: Int, _ upper: Int, allowedControls: UInt32) -> StaticString? {
        let s = v[lower ..< upper]
        let n = s.count
        let printableOnly = allowedControls != anyControl
        var i = 0
        while i < n {
            // Eight bytes at a time while they are plain ASCII (printable, or any ASCII for JSON).
            while n &- i >= 8 {
                let w = word(s, i)
                if w & 0x8080_8080_8080_8080 != 0 { break }
                if printableOnly {
                    // Any byte below 0x20, or equal to 0x7F? (SWAR "has less than" / "has zero".)
                    let below = (w &- 0x2020_2020_2020_2020) & ~w & 0x8080_8080_8080_8080
                    let x = w ^ 0x7F7F_7F7F_7F7F_7F7F
                    let del = (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080
                    if below | del != 0 { break }
                }
                i &+= 8
            }
            guard i < n else { break }
            let b = s[i]
            if b < 0x80 {
                if b < 0x20 {
                    if allowedControls & (1 << UInt32(b)) == 0 { return "control character" }
                } else if b == 0x7F, printableOnly {
                    return "control character"
                }
                i += 1
                continue
            }
            let need: Int
            var cp: UInt32
            let min: UInt32
            if b & 0xE0 == 0xC0 {
                need = 1; cp = UInt32(b & 0x1F); min = 0x80
            } else if b & 0xF0 == 0xE0 {
                need = 2; cp = UInt32(b & 0x0F); min = 0x800
            } else if b & 0xF8 == 0xF0 {
                need = 3; cp = UInt32(b & 0x07); min = 0x10000
            } else {
                return "invalid UTF-8"
            }
            guard i + need < n else { return "invalid UTF-8" }
            for k in 1 ... need {
                let c = s[i + k]
                guard c & 0xC0 == 0x80 else { return "invalid UTF-8" }
                cp = cp << 6 | UInt32(c & 0x3F)
            }
            guard cp >= min, cp <= 0x10FFFF, cp & 0xFFFF_F800 != 0xD800 else { return "invalid UTF-8" }
            i += need + 1
        }
        return nil
    }

    /// Bytes `i..<i+8` of `s` as a little-endian word (the caller checked the bounds).
    @inline(__always)
    static func word(_ s: ByteView, _ i: Int) -> UInt64 { s.word(at: i) }
}

/// Decimal number parsing on bytes, without allocation.
enum DecimalText {
    /// Exact powers of ten representable as `Double` (the Clinger fast path).
    private static let exactPowers: [Double] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ]

    /// Scans a number of the JSON grammar (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`)
    /// starting at `start`; returns the index after it, or `nil` when it is malformed.
    static func scanJSONNumber(_ v: ByteView, from start: Int) -> Int? {
        let n = v.count
        var i = start
        if i < n, v[i] == ASCII.minus { i += 1 }
        guard i < n, ASCII.isDigit(v[i]) else { return nil }
        if v[i] == 0x30 {
            i += 1
        } else {
            while i < n, ASCII.isDigit(v[i]) { i += 1 }
        }
        if i < n, v[i] == ASCII.dot {
            i += 1
            guard i < n, ASCII.isDigit(v[i]) else { return nil }
            while i < n, ASCII.isDigit(v[i]) { i += 1 }
        }
        if i < n, v[i] | 0x20 == 0x65 {  // e or E
            i += 1
            if i < n, v[i] == ASCII.plus || v[i] == ASCII.minus { i += 1 }
            guard i < n, ASCII.isDigit(v[i]) else { return nil }
            while i < n, ASCII.isDigit(v[i]) { i += 1 }
        }
        return i
    }

    /// Parses a whole view as a decimal floating-point literal: optional sign, digits with an
    /// optional `.` (at least one digit in all), optional exponent. No `inf`, `nan`, hex or spaces.
    /// Exact fast path for up to 19 significant digits and |exponent| ≤ 22, else correctly rounded
    /// `strtod` (literals of 64 bytes and more are refused).
    static func parseDouble(_ v: ByteView) -> Double? {
        let n = v.count
        var i = 0
        var negative = false
        if i < n, v[i] == ASCII.minus || v[i] == ASCII.plus {
            negative = v[i] == ASCII.minus
            i += 1
        }
        var mantissa: UInt64 = 0
        var significant = 0
        var exponent = 0
        var digits = 0
        var exact = true
        while i < n, ASCII.isDigit(v[i]) {
            let d = UInt64(v[i] &- 0x30)
            if significant < 19 {
                mantissa = mantissa * 10 + d
                if mantissa != 0 { significant += 1 }
            } else {
                exponent += 1
                if d != 0 { exact = false }
            }
            digits += 1
            i += 1
        }
        if i < n, v[i] == ASCII.dot {
            i += 1
            while i < n, ASCII.isDigit(v[i]) {
                let d = UInt64(v[i] &- 0x30)
                if significant < 19 {
                    mantissa = mantissa * 10 + d
                    if mantissa != 0 { significant += 1 }
                    exponent -= 1
                } else if d != 0 {
                    exact = false
                }
                digits += 1
                i += 1
            }
        }
        guard digits > 0 else { return nil }
        if i < n, v[i] | 0x20 == 0x65 {
            i += 1
            var expNegative = false
            if i < n, v[i] == ASCII.minus || v[i] == ASCII.plus {
                expNegative = v[i] == ASCII.minus
                i += 1
            }
            guard i < n, ASCII.isDigit(v[i]) else { return nil }
            var e = 0
            while i < n, ASCII.isDigit(v[i]) {
                if e < 100_000 { e = e * 10 + Int(v[i] &- 0x30) }
                i += 1
            }
            exponent += expNegative ? -e : e
        }
        guard i == n else { return nil }
        if mantissa == 0 { return negative ? -0.0 : 0.0 }
        if exact, mantissa <= 1 << 53, exponent >= -22, exponent <= 22 {
            var d = Double(mantissa)
            d = exponent >= 0 ? d * exactPowers[exponent] : d / exactPowers[-exponent]
            return negative ? -d : d
        }
        return v.parseDouble()
    }

    /// Parses `v[lower..<upper]` as unsigned decimal digits into an `Int64`; `nil` when empty, on
    /// any other byte, or on overflow.
    static func parseDigits(_ v: ByteView, _ lower: Int, _ upper: Int) -> Int64? {
        guard lower < upper else { return nil }
        var value: Int64 = 0
        for i in lower ..< upper {
            let d = v[i] &- 0x30
            guard d < 10 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(d))
            guard !o1, !o2 else { return nil }
            value = a
        }
        return value
    }

    /// Parses a whole view of decimal digits (optional leading `+`) as a `UInt64`.
    static func parseUInt64(_ v: ByteView) -> UInt64? {
        var i = 0
        if v.count > 0, v[0] == ASCII.plus { i = 1 }
        guard i < v.count else { return nil }
        var value: UInt64 = 0
        while i < v.count {
            let d = v[i] &- 0x30
            guard d < 10 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            guard !o1, !o2 else { return nil }
            value = a
            i += 1
        }
        return value
    }

    /// A non-negative decimal epoch time (`1700000000`, `1700000000.25`, `1.7e9`) in nanoseconds.
    /// With `autoUnit` the unit follows the magnitude of the integer part: seconds below 1e11,
    /// milliseconds below 1e14, microseconds below 1e17, else nanoseconds; without it, seconds.
    /// Plain decimals are converted exactly (fraction digits past nanoseconds are truncated);
    /// exponent forms go through `Double`. `nil` when malformed, negative, or out of range.
    static func epochNanoseconds(_ v: ByteView, autoUnit: Bool) -> Int64? {
        let n = v.count
        var i = 0
        while i < n, ASCII.isDigit(v[i]) { i += 1 }
        let integerEnd = i
        var fractionStart = i
        var fractionEnd = i
        if i < n, v[i] == ASCII.dot {
            i += 1
            fractionStart = i
            while i < n, ASCII.isDigit(v[i]) { i += 1 }
            fractionEnd = i
        }
        guard integerEnd > 0 || fractionEnd > fractionStart else { return nil }
        if i < n {
            // Exponent form: only through Double.
            guard v[i] | 0x20 == 0x65, let d = parseDouble(v), d.isFinite, d >= 0 else { return nil }
            let scale: Double = !autoUnit || d < 1e11 ? 1e9 : d < 1e14 ? 1e6 : d < 1e17 ? 1e3 : 1
            let ns = (d * scale).rounded()
            guard ns < 9.2e18 else { return nil }
            return Int64(ns)
        }
        let integer: Int64
        if integerEnd == 0 {
            integer = 0
        } else {
            guard let parsed = parseDigits(v, 0, integerEnd) else { return nil }
            integer = parsed
        }
        let scale: Int64
        let scaleDigits: Int
        if !autoUnit || integer < 100_000_000_000 {
            scale = 1_000_000_000; scaleDigits = 9
        } else if integer < 100_000_000_000_000 {
            scale = 1_000_000; scaleDigits = 6
        } else if integer < 100_000_000_000_000_000 {
            scale = 1000; scaleDigits = 3
        } else {
            scale = 1; scaleDigits = 0
        }
        let (whole, overflow) = integer.multipliedReportingOverflow(by: scale)
        guard !overflow else { return nil }
        var fraction: Int64 = 0
        var used = 0
        var k = fractionStart
        while k < fractionEnd, used < scaleDigits {
            fraction = fraction * 10 + Int64(v[k] &- 0x30)
            used += 1
            k += 1
        }
        while used < scaleDigits {
            fraction *= 10
            used += 1
        }
        let (total, overflow2) = whole.addingReportingOverflow(fraction)
        guard !overflow2 else { return nil }
        return total
    }
}
