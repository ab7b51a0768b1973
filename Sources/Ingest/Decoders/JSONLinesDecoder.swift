public import Platform
import WAL
import Wire
/// Decodes one line of newline-delimited JSON (one object per line) into a log record or a metric
/// sample.
///
/// The line is fully validated against RFC 8259 first: strings (escapes including `\uXXXX` and
/// surrogate pairs; lone surrogates and raw control characters are refused), numbers per the JSON
/// grammar, `true`/`false`/`null`, nesting at most ``maxDepth`` levels (the line's object is level
/// 1), valid UTF-8, nothing but whitespace after the object, and the top level must be an object.
/// A line of only whitespace is ignored (no record, no reject).
///
/// **Log** — the object has `message` (or `msg`), a string. Optional: `timestamp` (or `time`,
/// `ts`): an RFC 3339 string or a non-negative number of epoch seconds (< 1e11), milliseconds
/// (< 1e14), microseconds (< 1e17) or else nanoseconds, fractions allowed; `host`; `app` (or
/// `service`); `level` (or `severity`): a name (emerg/emergency/panic 0, alert 1,
/// crit/critical/fatal 2, err/error 3, warn/warning 4, notice 5, info/information 6, debug/trace 7;
/// any case) or an integer 0…7. Every other member becomes a field, in order: a string's
/// unescaped text, a number's or literal's JSON text, or a nested object's/array's JSON text
/// without insignificant whitespace.
///
/// **Metric** — no `message`/`msg`, but `metric` (or `name`), a non-empty string, and `value`, a
/// number. Optional: `labels`, an object whose values are strings (unescaped) or numbers/booleans
/// (JSON text); `timestamp` (as above); `host` → the sample's source. Other members are ignored.
///
/// When a key appears twice, or two aliases of one role appear (`message` and `msg`), the first
/// listed alias wins (`message` before `msg`, `timestamp` before `time` before `ts`, …), first
/// occurrence first; for a log the others are kept as ordinary fields. Wrong types (`"value":"1"`,
/// `"host":3`), unknown level names, out-of-range numbers and malformed JSON reject the line with
/// a fixed reason and emit nothing.
///
/// - Complexity: O(line length); strings are unescaped only when they contain escapes, nested
///   values copied only when they contain whitespace. No allocation once the scratch buffers have
///   grown to the largest line seen. Recursion depth ≤ ``maxDepth``.
/// - Thread: value type, one per connection/loop.
public struct JSONLinesDecoder {
    /// The deepest nesting accepted; the line's own object is level 1.
    public static let maxDepth = 32

    @usableFromInline var log = LogDraft()
    @usableFromInline var metric = MetricDraft()
    @usableFromInline var scratch: [UInt8] = []
    var members: [Member] = []
    var lowercase: [UInt8] = []
    /// Whitespace seen inside the nested value being scanned (it must be compacted).
    var sawSpace = false
    var labelsCaptured = false
    var labelsValid = true

    struct Member {
        var key: TextSpan
        var value: TextSpan
        var role: Role
        var kind: Kind
    }

    enum Role: UInt8 {
        case other, message, msg, timestamp, time, ts, host, app, service, level, severity, metric, name, value, labels
    }

    enum Kind: UInt8 {
        case string, number, bool, null, object, array
    }

    public init() {
        scratch.reserveCapacity(256)
        members.reserveCapacity(16)
        lowercase.reserveCapacity(16)
    }

    /// Decodes `line` (one JSON object, no LF) and emits one record into `sink`, or one reject.
    /// - Parameter receivedAt: nanoseconds since the epoch, used when the object has no timestamp.
    @inlinable
    public mutating func decode(_ line: ByteView, receivedAt: Int64, into sink: inout some RecordSink) {
        switch parse(line, receivedAt: receivedAt) {
        case .log: log.emit(input: line, scratch: scratch, into: &sink)
        case .metric: metric.emit(input: line, scratch: scratch, into: &sink)
        case .skipped: break
        case .rejected(let reason): sink.reject(reason, sample: line)
        }
    }

    /// Validates `v` and fills ``log`` or ``metric``.
    @usableFromInline
    mutating func parse(_ v: ByteView, receivedAt: Int64) -> DecodeOutcome {
        log.reset()
        metric.reset()
        scratch.removeAll(keepingCapacity: true)
        members.removeAll(keepingCapacity: true)
        labelsCaptured = false
        labelsValid = true
        if Self.skipSpace(v, 0) == v.count { return .skipped }
        if let problem = TextCheck.problem(v, 0, v.count, allowedControls: TextCheck.anyControl) {
            return .rejected(problem)
        }
        do throws(DecodeFailure) {
            try parseDocument(v)
        } catch {
            return .rejected(error.reason)
        }
        let s = scratch
        return ByteView.with(s) { sv in classify(v, sv, receivedAt: receivedAt) }
    }

    // MARK: - Syntax

    @inline(__always)
    static func isSpace(_ b: UInt8) -> Bool { b == ASCII.space || b == ASCII.tab || b == ASCII.lf || b == ASCII.cr }

    @inline(__always)
    static func skipSpace(_ v: ByteView, _ start: Int) -> Int {
        guard start < v.count, isSpace(v[start]) else { return start }
        var i = start + 1
        while i < v.count, isSpace(v[i]) { i += 1 }
        return i
    }

    /// Skips whitespace inside a nested value, noting that the value needs compacting.
    @inline(__always)
    mutating func skipNestedSpace(_ v: ByteView, _ i: inout Int) {
        let j = Self.skipSpace(v, i)
        if j != i {
            sawSpace = true
            i = j
        }
    }

    private mutating func parseDocument(_ v: ByteView) throws(DecodeFailure) {
        let n = v.count
        var i = Self.skipSpace(v, 0)
        guard v[i] == ASCII.openBrace else { throw DecodeFailure("top level is not a JSON object") }
        i = Self.skipSpace(v, i + 1)
        if i < n, v[i] == ASCII.closeBrace {
            i += 1
        } else {
            while true {
                guard i < n, v[i] == ASCII.quote else { throw DecodeFailure("expected a string key") }
                let key = try scanString(v, &i, unescape: true)
                let role = roleOfKey(v, key)
                i = Self.skipSpace(v, i)
                guard i < n, v[i] == ASCII.colon else { throw DecodeFailure("expected ':' after key") }
                i = Self.skipSpace(v, i + 1)
                let (kind, value) = try parseMemberValue(v, &i, role: role)
                members.append(Member(key: key, value: value, role: role, kind: kind))
                i = Self.skipSpace(v, i)
                guard i < n else { throw DecodeFailure("unterminated object") }
                if v[i] == ASCII.comma {
                    i = Self.skipSpace(v, i + 1)
                    continue
                }
                guard v[i] == ASCII.closeBrace else { throw DecodeFailure("expected ',' or '}'") }
                i += 1
                break
            }
        }
        guard Self.skipSpace(v, i) == n else { throw DecodeFailure("trailing characters after the object") }
    }

    /// The value of a member of the line's object, at `i`.
    private mutating func parseMemberValue(_ v: ByteView, _ i: inout Int, role: Role) throws(DecodeFailure) -> (Kind, TextSpan) {
        guard i < v.count else { throw DecodeFailure("unexpected end of line") }
        let start = i
        let b = v[i]
        switch b {
        case ASCII.quote:
            return (.string, try scanString(v, &i, unescape: true))
        case ASCII.openBrace, ASCII.openBracket:
            sawSpace = false
            if role == .labels, b == ASCII.openBrace, !labelsCaptured {
                labelsCaptured = true
                try parseLabels(v, &i)
            } else {
                try skipValue(v, &i, depth: 2)
            }
            let span = sawSpace ? compact(v, start, i) : TextSpan(start, i)
            return (b == ASCII.openBrace ? .object : .array, span)
        default:
            let kind = try scanScalar(v, &i)
            return (kind, TextSpan(start, i))
        }
    }

    /// A number or `true`/`false`/`null` at `i`.
    private static func scanScalarEnd(_ v: ByteView, _ i: Int) throws(DecodeFailure) -> (Kind, Int) {
        let b = v[i]
        if b == ASCII.minus || ASCII.isDigit(b) {
            guard let end = DecimalText.scanJSONNumber(v, from: i) else { throw DecodeFailure("invalid number") }
            return (.number, end)
        }
        let n = v.count
        if b == 0x74, i + 4 <= n, v[i ..< i + 4].equals("true") { return (.bool, i + 4) }
        if b == 0x66, i + 5 <= n, v[i ..< i + 5].equals("false") { return (.bool, i + 5) }
        if b == 0x6E, i + 4 <= n, v[i ..< i + 4].equals("null") { return (.null, i + 4) }
        throw DecodeFailure("invalid JSON value")
    }

    private func scanScalar(_ v: ByteView, _ i: inout Int) throws(DecodeFailure) -> Kind {
        let (kind, end) = try Self.scanScalarEnd(v, i)
        i = end
        return kind
    }

    /// Validates any value at `i` (containers at nesting level `depth`) and moves past it.
    private mutating func skipValue(_ v: ByteView, _ i: inout Int, depth: Int) throws(DecodeFailure) {
        let n = v.count
        guard i < n else { throw DecodeFailure("unexpected end of line") }
        switch v[i] {
        case ASCII.quote:
            _ = try scanString(v, &i, unescape: false)
        case ASCII.openBrace:
            guard depth <= Self.maxDepth else { throw DecodeFailure("JSON nested too deeply") }
            i += 1
            skipNestedSpace(v, &i)
            if i < n, v[i] == ASCII.closeBrace {
                i += 1
                return
            }
            while true {
                guard i < n, v[i] == ASCII.quote else { throw DecodeFailure("expected a string key") }
                _ = try scanString(v, &i, unescape: false)
                skipNestedSpace(v, &i)
                guard i < n, v[i] == ASCII.colon else { throw DecodeFailure("expected ':' after key") }
                i += 1
                skipNestedSpace(v, &i)
                try skipValue(v, &i, depth: depth + 1)
                skipNestedSpace(v, &i)
                guard i < n else { throw DecodeFailure("unterminated object") }
                if v[i] == ASCII.comma {
                    i += 1
                    skipNestedSpace(v, &i)
                    continue
                }
                guard v[i] == ASCII.closeBrace else { throw DecodeFailure("expected ',' or '}'") }
                i += 1
                return
            }
        case ASCII.openBracket:
            guard depth <= Self.maxDepth else { throw DecodeFailure("JSON nested too deeply") }
            i += 1
            skipNestedSpace(v, &i)
            if i < n, v[i] == ASCII.closeBracket {
                i += 1
                return
            }
            while true {
                try skipValue(v, &i, depth: depth + 1)
                skipNestedSpace(v, &i)
                guard i < n else { throw DecodeFailure("unterminated array") }
                if v[i] == ASCII.comma {
                    i += 1
                    skipNestedSpace(v, &i)
                    continue
                }
                guard v[i] == ASCII.closeBracket else { throw DecodeFailure("expected ',' or ']'") }
                i += 1
                return
            }
        default:
            _ = try scanScalar(v, &i)
        }
    }

    /// The `labels` object (level 2) at `i`: validated like any value, and its members recorded as
    /// metric labels. A value that is not a string, number or boolean marks the labels invalid.
    private mutating func parseLabels(_ v: ByteView, _ i: inout Int) throws(DecodeFailure) {
        let n = v.count
        i += 1
        skipNestedSpace(v, &i)
        if i < n, v[i] == ASCII.closeBrace {
            i += 1
            return
        }
        while true {
            guard i < n, v[i] == ASCII.quote else { throw DecodeFailure("expected a string key") }
            let key = try scanString(v, &i, unescape: true)
            skipNestedSpace(v, &i)
            guard i < n, v[i] == ASCII.colon else { throw DecodeFailure("expected ':' after key") }
            i += 1
            skipNestedSpace(v, &i)
            guard i < n else { throw DecodeFailure("unexpected end of line") }
            let start = i
            switch v[i] {
            case ASCII.quote:
                let value = try scanString(v, &i, unescape: true)
                metric.labels.append(FieldSpan(key: key, value: value))
            case ASCII.openBrace, ASCII.openBracket:
                labelsValid = false
                try skipValue(v, &i, depth: 3)
            default:
                if try scanScalar(v, &i) == .null {
                    labelsValid = false
                } else {
                    metric.labels.append(FieldSpan(key: key, value: TextSpan(start, i)))
                }
            }
            skipNestedSpace(v, &i)
            guard i < n else { throw DecodeFailure("unterminated object") }
            if v[i] == ASCII.comma {
                i += 1
                skipNestedSpace(v, &i)
                continue
            }
            guard v[i] == ASCII.closeBrace else { throw DecodeFailure("expected ',' or '}'") }
            i += 1
            return
        }
    }

    /// The string at `i` (on its opening quote); `i` moves past the closing quote. With
    /// `unescape`, the result is the unescaped text (in scratch when it had escapes); without, the
    /// raw contents (still fully validated).
    private mutating func scanString(_ v: ByteView, _ i: inout Int, unescape: Bool) throws(DecodeFailure) -> TextSpan {
        let n = v.count
        let start = i + 1
        var j = start
        // Fast path: no escapes. Eight bytes at a time while none is `"`, `\` or a control.
        while n &- j >= 8 {
            let w = TextCheck.word(v, j)
            let q = w ^ 0x2222_2222_2222_2222
            let e = w ^ 0x5C5C_5C5C_5C5C_5C5C
            let hit = ((q &- 0x0101_0101_0101_0101) & ~q) | ((e &- 0x0101_0101_0101_0101) & ~e)
                | ((w &- 0x2020_2020_2020_2020) & ~w)
            if hit & 0x8080_8080_8080_8080 != 0 { break }
            j &+= 8
        }
        while j < n {
            let b = v[j]
            if b == ASCII.quote {
                i = j + 1
                return TextSpan(start, j)
            }
            if b == ASCII.backslash { break }
            guard b >= 0x20 else { throw DecodeFailure("control character in JSON string") }
            j += 1
        }
        guard j < n else { throw DecodeFailure("unterminated string") }
        let scratchStart = scratch.count
        if unescape { v[start ..< j].append(to: &scratch) }
        var run = j
        while j < n {
            let b = v[j]
            if b == ASCII.quote {
                i = j + 1
                guard unescape else { return TextSpan(start, j) }
                v[run ..< j].append(to: &scratch)
                return TextSpan(scratchStart, scratch.count, inScratch: true)
            }
            guard b >= 0x20 else { throw DecodeFailure("control character in JSON string") }
            guard b == ASCII.backslash else {
                j += 1
                continue
            }
            if unescape { v[run ..< j].append(to: &scratch) }
            guard j + 1 < n else { throw DecodeFailure("unterminated string") }
            let e = v[j + 1]
            var decoded: UInt8 = 0
            switch e {
            case ASCII.quote, ASCII.backslash, 0x2F: decoded = e  // " \ /
            case 0x62: decoded = 0x08  // b
            case 0x66: decoded = 0x0C  // f
            case 0x6E: decoded = 0x0A  // n
            case 0x72: decoded = 0x0D  // r
            case 0x74: decoded = 0x09  // t
            case 0x75:  // u
                guard let unit = Self.hex4(v, j + 2) else { throw DecodeFailure("invalid \\u escape") }
                var scalar = unit
                j += 6
                if unit & 0xFC00 == 0xD800 {
                    guard j + 1 < n, v[j] == ASCII.backslash, v[j + 1] == 0x75, let low = Self.hex4(v, j + 2),
                          low & 0xFC00 == 0xDC00
                    else { throw DecodeFailure("unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    j += 6
                } else if unit & 0xFC00 == 0xDC00 {
                    throw DecodeFailure("unpaired surrogate in \\u escape")
                }
                if unescape { appendUTF8(scalar) }
                run = j
                continue
            default:
                throw DecodeFailure("invalid escape in JSON string")
            }
            if unescape { scratch.append(decoded) }
            j += 2
            run = j
        }
        throw DecodeFailure("unterminated string")
    }

    /// Four hex digits at `at` as a UTF-16 code unit.
    private static func hex4(_ v: ByteView, _ at: Int) -> UInt32? {
        guard at + 4 <= v.count else { return nil }
        var value: UInt32 = 0
        for k in at ..< at + 4 {
            let b = v[k]
            let d: UInt8
            if ASCII.isDigit(b) {
                d = b &- 0x30
            } else if b | 0x20 >= 0x61, b | 0x20 <= 0x66 {
                d = (b | 0x20) &- 0x61 &+ 10
            } else {
                return nil
            }
            value = value << 4 | UInt32(d)
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        if scalar < 0x80 {
            scratch.append(UInt8(scalar))
        } else if scalar < 0x800 {
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        } else if scalar < 0x10000 {
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        } else {
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    /// Copies the (valid) JSON text `v[lower..<upper]` to scratch without whitespace outside strings.
    private mutating func compact(_ v: ByteView, _ lower: Int, _ upper: Int) -> TextSpan {
        let start = scratch.count
        var inString = false
        var escaped = false
        var run = lower
        for j in lower ..< upper {
            let b = v[j]
            if inString {
                if escaped {
                    escaped = false
                } else if b == ASCII.backslash {
                    escaped = true
                } else if b == ASCII.quote {
                    inString = false
                }
            } else if b == ASCII.quote {
                inString = true
            } else if Self.isSpace(b) {
                v[run ..< j].append(to: &scratch)
                run = j + 1
            }
        }
        v[run ..< upper].append(to: &scratch)
        return TextSpan(start, scratch.count, inScratch: true)
    }

    // MARK: - Meaning

    private func roleOfKey(_ v: ByteView, _ key: TextSpan) -> Role {
        guard key.inScratch else { return Self.role(of: v[key.lower ..< key.upper]) }
        let s = scratch
        return ByteView.with(s) { Self.role(of: $0[key.lower ..< key.upper]) }
    }

    static func role(of k: ByteView) -> Role {
        switch k.count {
        case 2: return k.equals("ts") ? .ts : .other
        case 3: return k.equals("msg") ? .msg : k.equals("app") ? .app : .other
        case 4: return k.equals("time") ? .time : k.equals("host") ? .host : k.equals("name") ? .name : .other
        case 5: return k.equals("level") ? .level : k.equals("value") ? .value : .other
        case 6: return k.equals("metric") ? .metric : k.equals("labels") ? .labels : .other
        case 7: return k.equals("message") ? .message : k.equals("service") ? .service : .other
        case 8: return k.equals("severity") ? .severity : .other
        case 9: return k.equals("timestamp") ? .timestamp : .other
        default: return .other
        }
    }

    /// The first member index of each role.
    struct Roles {
        var message, msg, timestamp, time, ts, host, app, service, level, severity, metric, name, value, labels: Int?
    }

    private mutating func classify(_ v: ByteView, _ s: ByteView, receivedAt: Int64) -> DecodeOutcome {
        var r = Roles()
        for k in members.indices {
            switch members[k].role {
            case .other: break
            case .message: if r.message == nil { r.message = k }
            case .msg: if r.msg == nil { r.msg = k }
            case .timestamp: if r.timestamp == nil { r.timestamp = k }
            case .time: if r.time == nil { r.time = k }
            case .ts: if r.ts == nil { r.ts = k }
            case .host: if r.host == nil { r.host = k }
            case .app: if r.app == nil { r.app = k }
            case .service: if r.service == nil { r.service = k }
            case .level: if r.level == nil { r.level = k }
            case .severity: if r.severity == nil { r.severity = k }
            case .metric: if r.metric == nil { r.metric = k }
            case .name: if r.name == nil { r.name = k }
            case .value: if r.value == nil { r.value = k }
            case .labels: if r.labels == nil { r.labels = k }
            }
        }
        do throws(DecodeFailure) {
            let timeIndex = r.timestamp ?? r.time ?? r.ts
            var timestamp = receivedAt
            if let k = timeIndex { timestamp = try Self.timestamp(members[k], v, s) }
            if let messageIndex = r.message ?? r.msg {
                try classifyLog(v, s, r, messageIndex: messageIndex, timeIndex: timeIndex)
                log.timestamp = timestamp
                return .log
            }
            if let nameIndex = r.metric ?? r.name {
                try classifyMetric(v, s, r, nameIndex: nameIndex)
                metric.timestamp = timestamp
                return .metric
            }
            return .rejected("neither message nor metric in JSON object")
        } catch {
            return .rejected(error.reason)
        }
    }

    private mutating func classifyLog(
        _ v: ByteView, _ s: ByteView, _ r: Roles, messageIndex: Int, timeIndex: Int?
    ) throws(DecodeFailure) {
        let message = members[messageIndex]
        guard message.kind == .string else { throw DecodeFailure("message is not a string") }
        log.message = message.value
        let hostIndex = r.host
        if let k = hostIndex {
            guard members[k].kind == .string else { throw DecodeFailure("host is not a string") }
            log.host = members[k].value
        }
        let appIndex = r.app ?? r.service
        if let k = appIndex {
            guard members[k].kind == .string else { throw DecodeFailure("app is not a string") }
            log.app = members[k].value
        }
        let levelIndex = r.level ?? r.severity
        if let k = levelIndex {
            let level = members[k]
            let text = level.value.view(input: v, scratch: s)
            switch level.kind {
            case .string:
                guard let severity = severity(named: text) else { throw DecodeFailure("unknown level name") }
                log.severity = severity
            case .number:
                guard let n = DecimalText.parseDigits(text, 0, text.count), n <= 7 else {
                    throw DecodeFailure("level number is not an integer 0...7")
                }
                log.severity = UInt8(n)
            default:
                throw DecodeFailure("level is not a string or number")
            }
        }
        for k in members.indices
        where k != messageIndex && k != timeIndex && k != hostIndex && k != appIndex && k != levelIndex {
            log.fields.append(FieldSpan(key: members[k].key, value: members[k].value))
        }
    }

    private mutating func classifyMetric(_ v: ByteView, _ s: ByteView, _ r: Roles, nameIndex: Int) throws(DecodeFailure) {
        let name = members[nameIndex]
        guard name.kind == .string else { throw DecodeFailure("metric name is not a string") }
        guard name.value.count > 0 else { throw DecodeFailure("empty metric name") }
        guard let valueIndex = r.value else { throw DecodeFailure("metric without value") }
        let value = members[valueIndex]
        guard value.kind == .number else { throw DecodeFailure("metric value is not a number") }
        guard let number = DecimalText.parseDouble(value.value.view(input: v, scratch: s)), number.isFinite else {
            throw DecodeFailure("metric value out of range")
        }
        if let k = r.labels {
            guard members[k].kind == .object else { throw DecodeFailure("labels is not an object") }
            guard labelsValid else { throw DecodeFailure("label value is not a string, number or bool") }
        } else {
            metric.labels.removeAll(keepingCapacity: true)
        }
        if let k = r.host {
            guard members[k].kind == .string else { throw DecodeFailure("host is not a string") }
            metric.source = members[k].value
        }
        metric.samples.append(SampleSpan(name: name.value, value: number))
    }

    private static func timestamp(_ m: Member, _ v: ByteView, _ s: ByteView) throws(DecodeFailure) -> Int64 {
        let text = m.value.view(input: v, scratch: s)
        switch m.kind {
        case .string:
            guard let ts = Timestamps.parseRFC3339(text) else { throw DecodeFailure("invalid timestamp") }
            return ts
        case .number:
            guard let ts = DecimalText.epochNanoseconds(text, autoUnit: true) else {
                throw DecodeFailure("timestamp number out of range")
            }
            return ts
        default:
            throw DecodeFailure("timestamp is not a string or number")
        }
    }

    /// The syslog severity of a level name, any case.
    private mutating func severity(named text: ByteView) -> UInt8? {
        var hasUpper = false
        for k in 0 ..< text.count where text[k] &- 0x41 < 26 {
            hasUpper = true
            break
        }
        guard hasUpper else { return Self.severity(lowercaseName: text) }
        guard text.count <= 16 else { return nil }
        lowercase.removeAll(keepingCapacity: true)
        for k in 0 ..< text.count { lowercase.append(ASCII.lower(text[k])) }
        let l = lowercase
        return ByteView.with(l) { Self.severity(lowercaseName: $0) }
    }

    static func severity(lowercaseName t: ByteView) -> UInt8? {
        switch t.count {
        case 3: if t.equals("err") { return 3 }
        case 4:
            if t.equals("info") { return 6 }
            if t.equals("warn") { return 4 }
            if t.equals("crit") { return 2 }
        case 5:
            if t.equals("error") { return 3 }
            if t.equals("debug") { return 7 }
            if t.equals("trace") { return 7 }
            if t.equals("fatal") { return 2 }
            if t.equals("alert") { return 1 }
            if t.equals("emerg") { return 0 }
            if t.equals("panic") { return 0 }
        case 6: if t.equals("notice") { return 5 }
        case 7: if t.equals("warning") { return 4 }
        case 8: if t.equals("critical") { return 2 }
        case 9: if t.equals("emergency") { return 0 }
        case 11: if t.equals("information") { return 6 }
        default: break
        }
        return nil
    }
}
