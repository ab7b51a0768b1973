public import Platform
import WAL
import Wire
/// Decodes one framed syslog message (RFC 5424 or RFC 3164, told apart per message) into a log
/// record.
///
/// **RFC 5424** (`<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID STRUCTURED-DATA [MSG]`): `-`
/// (NILVALUE) means receive time, empty host, empty app, or no field. Fields: `procid`, `msgid`
/// (when not `-`), then every SD parameter as `<SD-ID>.<PARAM-NAME>` with its value unescaped
/// (`\"`, `\\`, `\]`; any other backslash is kept). A UTF-8 BOM at the start of MSG is dropped.
/// Header tokens must be printable US-ASCII within the RFC lengths (host 255, app 48, procid 128,
/// msgid 32, SD names 32).
///
/// **RFC 3164** (`<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`): the timestamp is read with
/// ``Timestamps/parseRFC3164(_:receivedAt:)`` (UTC, year from `receivedAt`; an appended `.fraction`
/// of up to 9 digits is accepted), or is an RFC 3339 timestamp (rsyslog forwarding formats). HOST is the next token, unless that token ends in `:`,
/// contains `[`, is the last token or is not printable ASCII (then the sender left the host out,
/// and the token starts the tag). TAG is up to 48 printable characters ended by `[`, `:` or a
/// space; `[PID]` becomes the field `procid`; MSG follows `: ` (or the tag's space). Without a
/// recognisable tag the app is empty and MSG is the whole rest. A message with nothing that looks
/// like a timestamp after PRI (neither `Mmm d…` nor `YYYY-…`) is taken as content: receive time,
/// no host, then TAG and MSG as above. Something that looks like a timestamp but is not valid is
/// rejected.
///
/// Both: PRI `<0>`…`<191>` is required (severity = PRI % 8, facility = PRI / 8); trailing
/// CR/LF/NUL are trimmed; everything after PRI must be valid UTF-8 without control characters
/// other than tab, CR and LF. Any problem rejects the whole message and emits nothing.
///
/// - Complexity: O(message length), a single validation pass plus memchr-driven header scans; no
///   allocation once the scratch buffers have grown to the largest message seen.
/// - Thread: value type, one per connection/loop.
public struct SyslogDecoder {
    @usableFromInline var draft = LogDraft()
    @usableFromInline var scratch: [UInt8] = []

    public init() {
        scratch.reserveCapacity(256)
    }

    /// Decodes `message` (one frame) and emits one log record into `sink`, or one reject.
    /// - Parameter receivedAt: nanoseconds since the epoch; the timestamp when the message has
    ///   none, and the reference year for RFC 3164 timestamps.
    @inlinable
    public mutating func decode(_ message: ByteView, receivedAt: Int64, into sink: inout some RecordSink) {
        if let reason = parse(message, receivedAt: receivedAt) {
            sink.reject(reason, sample: message)
        } else {
            draft.emit(input: message, scratch: scratch, into: &sink)
        }
    }

    /// Validates `raw` and fills ``draft``; `nil` on success, else the reject reason.
    @usableFromInline
    mutating func parse(_ raw: ByteView, receivedAt: Int64) -> StaticString? {
        draft.reset()
        scratch.removeAll(keepingCapacity: true)
        do throws(DecodeFailure) {
            try parseMessage(raw, receivedAt: receivedAt)
            return nil
        } catch {
            return error.reason
        }
    }

    private mutating func parseMessage(_ raw: ByteView, receivedAt: Int64) throws(DecodeFailure) {
        var n = raw.count
        while n > 0, raw[n - 1] == ASCII.lf || raw[n - 1] == ASCII.cr || raw[n - 1] == 0 { n -= 1 }
        let v = raw[0 ..< n]  // same start as `raw`, so spans index both
        guard n > 0, v[0] == ASCII.less else { throw DecodeFailure("missing PRI") }
        var i = 1
        var pri = 0
        while i < n, i <= 3, ASCII.isDigit(v[i]) {
            pri = pri * 10 + Int(v[i] &- 0x30)
            i += 1
        }
        guard i > 1, i < n, v[i] == ASCII.greater, pri <= 191 else { throw DecodeFailure("invalid PRI") }
        i += 1
        if let problem = TextCheck.problem(v, i, n, allowedControls: TextCheck.syslogControls) {
            throw DecodeFailure(problem)
        }
        draft.severity = UInt8(pri & 7)
        draft.facility = UInt8(pri >> 3)
        if n - i >= 2, v[i] == 0x31, v[i + 1] == ASCII.space {
            try parse5424(v, from: i + 2, receivedAt: receivedAt)
        } else {
            try parse3164(v, from: i, receivedAt: receivedAt)
        }
    }

    // MARK: - RFC 5424

    private mutating func parse5424(_ v: ByteView, from start: Int, receivedAt: Int64) throws(DecodeFailure) {
        let n = v.count
        var i = start
        let time = try Self.headerToken(v, &i, maxLength: 64, invalid: "invalid timestamp")
        if v[time].equals("-") {
            draft.timestamp = receivedAt
        } else {
            guard let ts = Timestamps.parseRFC3339(v[time]) else { throw DecodeFailure("invalid timestamp") }
            draft.timestamp = ts
        }
        let host = try Self.headerToken(v, &i, maxLength: 255, invalid: "invalid hostname")
        let app = try Self.headerToken(v, &i, maxLength: 48, invalid: "invalid app-name")
        let procid = try Self.headerToken(v, &i, maxLength: 128, invalid: "invalid procid")
        let msgid = try Self.headerToken(v, &i, maxLength: 32, invalid: "invalid msgid")
        if !v[host].equals("-") { draft.host = TextSpan(host.lowerBound, host.upperBound) }
        if !v[app].equals("-") { draft.app = TextSpan(app.lowerBound, app.upperBound) }
        if !v[procid].equals("-") {
            draft.fields.append(FieldSpan(key: appendKey(.procid), value: TextSpan(procid.lowerBound, procid.upperBound)))
        }
        if !v[msgid].equals("-") {
            draft.fields.append(FieldSpan(key: appendKey(.msgid), value: TextSpan(msgid.lowerBound, msgid.upperBound)))
        }

        guard i < n else { throw DecodeFailure("truncated header") }
        if v[i] == ASCII.minus {
            i += 1
        } else if v[i] == ASCII.openBracket {
            try parseStructuredData(v, &i)
        } else {
            throw DecodeFailure("invalid structured data")
        }
        if i == n {
            draft.message = TextSpan(n, n)
            return
        }
        guard v[i] == ASCII.space else { throw DecodeFailure("invalid structured data") }
        i += 1
        if n - i >= 3, v[i] == 0xEF, v[i + 1] == 0xBB, v[i + 2] == 0xBF { i += 3 }
        draft.message = TextSpan(i, n)
    }

    /// A header field: 1…`maxLength` printable ASCII bytes up to the next space, which must
    /// follow; `i` moves past that space.
    private static func headerToken(
        _ v: ByteView, _ i: inout Int, maxLength: Int, invalid: StaticString
    ) throws(DecodeFailure) -> Range<Int> {
        let n = v.count
        let start = i
        guard start < n else { throw DecodeFailure("truncated header") }
        guard let end = v.firstIndex(of: ASCII.space, from: start) else { throw DecodeFailure("truncated header") }
        guard end > start, end - start <= maxLength else { throw DecodeFailure(invalid) }
        for k in start ..< end where !ASCII.isPrintable(v[k]) { throw DecodeFailure(invalid) }
        i = end + 1
        return start ..< end
    }

    /// SD-NAME characters: printable ASCII except `=`, `]`, `"` (and space).
    @inline(__always)
    private static func isSDName(_ b: UInt8) -> Bool {
        ASCII.isPrintable(b) && b != ASCII.equals && b != ASCII.closeBracket && b != ASCII.quote
    }

    /// One or more `[SD-ID *(SP PARAM-NAME="VALUE")]`; `i` is at the first `[`.
    private mutating func parseStructuredData(_ v: ByteView, _ i: inout Int) throws(DecodeFailure) {
        let n = v.count
        while i < n, v[i] == ASCII.openBracket {
            i += 1
            let idStart = i
            while i < n, Self.isSDName(v[i]) { i += 1 }
            guard i > idStart, i - idStart <= 32 else { throw DecodeFailure("invalid SD-ID") }
            let id = idStart ..< i
            while i < n, v[i] == ASCII.space {
                i += 1
                let nameStart = i
                while i < n, Self.isSDName(v[i]) { i += 1 }
                guard i > nameStart, i - nameStart <= 32 else { throw DecodeFailure("invalid SD-PARAM name") }
                let name = nameStart ..< i
                guard i + 1 < n, v[i] == ASCII.equals, v[i + 1] == ASCII.quote else {
                    throw DecodeFailure("invalid SD-PARAM")
                }
                i += 2
                let valueStart = i
                var escaped = false
                while i < n, v[i] != ASCII.quote {
                    if v[i] == ASCII.backslash {
                        escaped = true
                        i += 1
                    }
                    i += 1
                }
                guard i < n else { throw DecodeFailure("unterminated SD-PARAM value") }
                let valueEnd = i
                i += 1
                let keyStart = scratch.count
                v[id].append(to: &scratch)
                scratch.append(ASCII.dot)
                v[name].append(to: &scratch)
                let key = TextSpan(keyStart, scratch.count, inScratch: true)
                let value = escaped ? unescapeParamValue(v, valueStart, valueEnd) : TextSpan(valueStart, valueEnd)
                draft.fields.append(FieldSpan(key: key, value: value))
            }
            guard i < n, v[i] == ASCII.closeBracket else { throw DecodeFailure("invalid structured data") }
            i += 1
        }
    }

    /// Copies a PARAM-VALUE into scratch, resolving `\"`, `\\` and `\]`.
    private mutating func unescapeParamValue(_ v: ByteView, _ lower: Int, _ upper: Int) -> TextSpan {
        let start = scratch.count
        var k = lower
        while k < upper {
            let b = v[k]
            if b == ASCII.backslash, k + 1 < upper {
                let e = v[k + 1]
                if e == ASCII.quote || e == ASCII.backslash || e == ASCII.closeBracket {
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

    /// Appends the field name `procid` or `msgid` to scratch (byte by byte: no array literal).
    private mutating func appendKey(_ key: FixedKey) -> TextSpan {
        let start = scratch.count
        switch key {
        case .procid:  // p r o c i d
            scratch.append(0x70); scratch.append(0x72); scratch.append(0x6F)
            scratch.append(0x63); scratch.append(0x69); scratch.append(0x64)
        case .msgid:  // m s g i d
            scratch.append(0x6D); scratch.append(0x73); scratch.append(0x67)
            scratch.append(0x69); scratch.append(0x64)
        }
        return TextSpan(start, scratch.count, inScratch: true)
    }

    private enum FixedKey { case procid, msgid }

    // MARK: - RFC 3164

    private mutating func parse3164(_ v: ByteView, from start: Int, receivedAt: Int64) throws(DecodeFailure) {
        let n = v.count
        guard start < n else { throw DecodeFailure("empty message") }
        var i = start
        var hasTimestamp = true
        if let length = Self.rfc3164TimestampLength(v, at: i) {
            guard let ts = Timestamps.parseRFC3164(v[i ..< i + length], receivedAt: receivedAt) else {
                throw DecodeFailure("invalid timestamp")
            }
            draft.timestamp = ts
            i += length
            if i < n, v[i] == ASCII.dot {  // non-standard fractional seconds: `Mmm dd hh:mm:ss.123`
                i += 1
                let start = i
                var fraction: Int64 = 0
                while i < n, ASCII.isDigit(v[i]), i - start < 9 {
                    fraction = fraction * 10 + Int64(v[i] &- 0x30)
                    i += 1
                }
                guard i > start, i == n || v[i] == ASCII.space else { throw DecodeFailure("invalid timestamp") }
                for _ in 0 ..< 9 - (i - start) { fraction *= 10 }
                let (withFraction, overflow) = ts.addingReportingOverflow(fraction)
                guard !overflow else { throw DecodeFailure("invalid timestamp") }
                draft.timestamp = withFraction
            }
        } else if n - i >= 5, ASCII.isDigit(v[i]), ASCII.isDigit(v[i + 1]), ASCII.isDigit(v[i + 2]),
                  ASCII.isDigit(v[i + 3]), v[i + 4] == ASCII.minus {
            let end = v.firstIndex(of: ASCII.space, from: i) ?? n
            guard let ts = Timestamps.parseRFC3339(v[i ..< end]) else { throw DecodeFailure("invalid timestamp") }
            draft.timestamp = ts
            i = end
        } else {
            draft.timestamp = receivedAt
            hasTimestamp = false
        }
        if hasTimestamp {
            guard i == n || v[i] == ASCII.space else { throw DecodeFailure("invalid timestamp") }
            while i < n, v[i] == ASCII.space { i += 1 }
            // HOST, unless the sender left it out.
            if let end = v.firstIndex(of: ASCII.space, from: i), end > i, end - i <= 255, v[end - 1] != ASCII.colon {
                var isHost = true
                for k in i ..< end where !ASCII.isPrintable(v[k]) || v[k] == ASCII.openBracket {
                    isHost = false
                    break
                }
                if isHost {
                    draft.host = TextSpan(i, end)
                    i = end
                    while i < n, v[i] == ASCII.space { i += 1 }
                }
            }
        }
        // TAG[PID]: MSG
        var messageStart = i
        var j = i
        while j < n, j - i <= 48 {
            let b = v[j]
            if b == ASCII.openBracket || b == ASCII.colon || b == ASCII.space { break }
            guard ASCII.isPrintable(b) else {
                j = n
                break
            }
            j += 1
        }
        if j < n, j > i, j - i <= 48 {
            let tag = TextSpan(i, j)
            switch v[j] {
            case ASCII.openBracket:
                var k = j + 1
                while k < n, k - j <= 129, ASCII.isPrintable(v[k]), v[k] != ASCII.closeBracket { k += 1 }
                if k < n, v[k] == ASCII.closeBracket {
                    var after = k + 1
                    if after < n, v[after] == ASCII.colon { after += 1 }
                    if after < n, v[after] == ASCII.space { after += 1 }
                    if after == n || after > k + 1 {
                        draft.app = tag
                        if k > j + 1 {
                            draft.fields.append(FieldSpan(key: appendKey(.procid), value: TextSpan(j + 1, k)))
                        }
                        messageStart = after
                    }
                }
            case ASCII.colon:
                if j + 1 == n || v[j + 1] == ASCII.space {
                    draft.app = tag
                    messageStart = min(j + 2, n)
                }
            default:  // space
                draft.app = tag
                messageStart = j + 1
            }
        }
        draft.message = TextSpan(messageStart, n)
    }

    /// The length of a BSD timestamp at `i` (`Mmm dd hh:mm:ss` 15, `Mmm  d …` 15, `Mmm d …` 14)
    /// when the bytes look like one (month name, space, day digits); `nil` when they do not.
    private static func rfc3164TimestampLength(_ v: ByteView, at i: Int) -> Int? {
        let n = v.count
        guard n - i >= 14, Timestamps.monthNumber(v, at: i) != nil, v[i + 3] == ASCII.space else { return nil }
        if v[i + 4] == ASCII.space, ASCII.isDigit(v[i + 5]) { return n - i >= 15 ? 15 : nil }
        guard ASCII.isDigit(v[i + 4]) else { return nil }
        if ASCII.isDigit(v[i + 5]) { return n - i >= 15 ? 15 : nil }
        return v[i + 5] == ASCII.space ? 14 : nil
    }
}
