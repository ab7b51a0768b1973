public import Ingest
public import Platform
import WAL

/// Maps one line of `journalctl --output=json` (one journal entry as a JSON object) to a log
/// record.
///
/// | journal field | record |
/// |---|---|
/// | `__REALTIME_TIMESTAMP` (µs since the epoch) | timestamp (the receive time when missing) |
/// | `_HOSTNAME` | host (the mapper's host when missing) |
/// | `SYSLOG_IDENTIFIER`, else `_COMM` | app |
/// | `PRIORITY` 0…7 | severity |
/// | `SYSLOG_FACILITY` 0…23 | facility |
/// | `MESSAGE` | message (empty when missing or null) |
/// | `_PID`, `_UID`, `_SYSTEMD_UNIT`, `_SYSTEMD_USER_UNIT`, `_TRANSPORT`, `_BOOT_ID` | fields `pid`, `uid`, `unit`, `user_unit`, `transport`, `boot_id`, in that order |
/// | other fields without a leading `_` (the application's own: `CODE_FILE`, `MESSAGE_ID`, …) | fields named in lower case, sorted by name |
/// | `__CURSOR` | not in the record: the entry's position, ``cursor`` |
///
/// Other trusted fields (a leading `_`: `_CMDLINE`, `_MACHINE_ID`, …) and `SYSLOG_PID`,
/// `SYSLOG_TIMESTAMP`, `SYSLOG_RAW` are left out. Values come as journalctl writes them: a
/// string; an array of byte values when the value is not printable UTF-8 (the bytes are taken,
/// and repaired to UTF-8 with U+FFFD where they are not UTF-8); an array of such values when
/// the field appears more than once (the record's roles take the first, an application field
/// becomes one record field per value); `null` when the value is too large and journalctl ran
/// without `--all` (the field is left out).
///
/// A line that is not a JSON object, or has no `__CURSOR`, is rejected through
/// `sink.reject` and emits nothing.
///
/// - Complexity: O(line length); no allocation per entry once its buffers have grown, except
///   for entries with byte arrays or repeated fields.
/// - Thread: a value type; one per reader.
public struct JournalEntryMapper {
    private let host: [UInt8]
    private var members: [FlatJSON.Member] = []
    private var scratch: [UInt8] = []
    private var fields: [(key: ByteSpan, value: ByteSpan)] = []
    private var cursorBytes: [UInt8] = []
    private var roles = [ByteSpan?](repeating: nil, count: Role.all.count)
    private var trusted = [ByteSpan?](repeating: nil, count: JournalEntryMapper.trustedFields.count)
    private var userFields: [Int] = []

    /// A mapper whose records say `host` when the entry has no `_HOSTNAME`.
    public init(host: String) {
        self.host = Array(host.utf8)
        members.reserveCapacity(32)
        fields.reserveCapacity(16)
    }

    /// The `__CURSOR` of the last entry mapped, `nil` before the first.
    public var cursor: String? { cursorBytes.isEmpty ? nil : String(decoding: cursorBytes, as: UTF8.self) }

    /// Maps `line` (without its LF) to one record in `sink`, or one reject.
    /// - Parameter receivedAt: nanoseconds since the epoch, used when the entry has no
    ///   `__REALTIME_TIMESTAMP`.
    /// - Returns: the message's length in bytes when a record was emitted; `nil` when the line
    ///   was rejected (``cursor`` is then unchanged).
    public mutating func map(_ line: ByteView, receivedAt: Int64, into sink: inout some RecordSink) -> Int? {
        guard FlatJSON.parseObject(line, into: &members) else {
            sink.reject("journal entry is not a JSON object", sample: line)
            return nil
        }
        scratch.removeAll(keepingCapacity: true)
        fields.removeAll(keepingCapacity: true)
        userFields.removeAll(keepingCapacity: true)
        for i in roles.indices { roles[i] = nil }
        for i in trusted.indices { trusted[i] = nil }
        for (index, member) in members.enumerated() {
            let key = line[member.key]
            if let role = Role(key) {
                roles[role.rawValue] = span(member.kind, member.value, line)
            } else if let slot = Self.trustedFields.firstIndex(where: { key.equals($0.journal) }) {
                trusted[slot] = span(member.kind, member.value, line)
            } else if key.count > 0, key[0] != UInt8(ascii: "_"), !Self.droppedFields.contains(where: { key.equals($0) }) {
                userFields.append(index)
            }
        }
        guard let cursor = roles[Role.cursor.rawValue] else {
            sink.reject("journal entry has no __CURSOR", sample: line)
            return nil
        }
        for (slot, value) in trusted.enumerated() {
            guard let value else { continue }
            let key = scratch.count
            withLiteral(Self.trustedFields[slot].field) { $0.append(to: &scratch) }
            fields.append((ByteSpan(key ..< scratch.count, inScratch: true), value))
        }
        appendUserFields(line)

        let app = roles[Role.identifier.rawValue] ?? roles[Role.comm.rawValue]
        return ByteView.with(scratch) { s in
            let timestamp = Self.integer(roles[Role.realtime.rawValue], line, s).flatMap { $0.multipliedReportingOverflow(by: 1000).overflow ? nil : $0 * 1000 }
            let severity = Self.integer(roles[Role.priority.rawValue], line, s).flatMap { (0 ... 7).contains($0) ? UInt8($0) : nil }
            let facility = Self.integer(roles[Role.facility.rawValue], line, s).flatMap { (0 ... 23).contains($0) ? UInt8($0) : nil }
            let message = (roles[Role.message.rawValue] ?? .empty).view(line, s)
            ByteView.withKey((roles[Role.hostname.rawValue] ?? .empty).view(line, s), orElse: host) { host in
                withValidUTF8(host) { host in
                    withValidUTF8((app ?? .empty).view(line, s)) { app in
                        withValidUTF8(message) { message in
                            sink.beginLog(
                                timestamp: timestamp ?? receivedAt, severity: severity ?? LogRecord.unknownLevel,
                                facility: facility ?? LogRecord.unknownLevel, host: host, app: app, message: message)
                        }
                    }
                }
            }
            for field in fields {
                withValidUTF8(field.value.view(line, s)) { sink.field(key: field.key.view(line, s), value: $0) }
            }
            sink.finishRecord()
            cursorBytes.removeAll(keepingCapacity: true)
            cursor.view(line, s).append(to: &cursorBytes)
            return message.count
        }
    }

    private static func integer(_ span: ByteSpan?, _ line: ByteView, _ scratch: ByteView) -> Int64? {
        span?.view(line, scratch).parseInt64()
    }

    /// Application fields sorted by name, lower-cased, one record field per value.
    private mutating func appendUserFields(_ line: ByteView) {
        let members = members
        userFields.sort { a, b in
            let x = line[members[a].key]
            let y = line[members[b].key]
            for i in 0 ..< min(x.count, y.count) where x[i] != y[i] { return x[i] < y[i] }
            return x.count < y.count
        }
        for index in userFields {
            let member = members[index]
            let keyStart = scratch.count
            let key = line[member.key]
            for i in 0 ..< key.count { scratch.append(key[i] &- UInt8(ascii: "A") < 26 ? key[i] | 0x20 : key[i]) }
            let keySpan = ByteSpan(keyStart ..< scratch.count, inScratch: true)
            if member.kind == .list {
                for element in FlatJSON.elements(line, of: member.value) {
                    if let value = span(element.kind, element.value, line) { fields.append((keySpan, value)) }
                }
            } else if let value = span(member.kind, member.value, line) {
                fields.append((keySpan, value))
            }
        }
    }

    /// Where a value's bytes are: in the line when it needs no decoding, else decoded into the
    /// scratch buffer; `nil` for null.
    private mutating func span(_ kind: FlatJSON.Kind, _ value: Range<Int>, _ line: ByteView) -> ByteSpan? {
        if kind == .plainString || kind == .bare { return ByteSpan(value, inScratch: false) }
        let start = scratch.count
        guard FlatJSON.decode(kind, value, in: line, to: &scratch) else { return nil }
        return ByteSpan(start ..< scratch.count, inScratch: true)
    }

    /// Trusted fields kept, in record order.
    static let trustedFields: [(journal: StaticString, field: StaticString)] = [
        ("_PID", "pid"), ("_UID", "uid"), ("_SYSTEMD_UNIT", "unit"), ("_SYSTEMD_USER_UNIT", "user_unit"),
        ("_TRANSPORT", "transport"), ("_BOOT_ID", "boot_id"),
    ]

    /// Application-side fields left out: they repeat what the record has, or are noise.
    static let droppedFields: [StaticString] = ["SYSLOG_PID", "SYSLOG_TIMESTAMP", "SYSLOG_RAW"]

    /// The journal fields that fill the record's own slots.
    private enum Role: Int, CaseIterable {
        case cursor, realtime, hostname, identifier, comm, message, priority, facility

        init?(_ key: ByteView) {
            guard let role = Self.all.first(where: { key.equals($0.journalName) }) else { return nil }
            self = role
        }

        /// `allCases` builds a new array at every use; this one is built once.
        static let all = allCases

        var journalName: StaticString {
            switch self {
            case .cursor: "__CURSOR"
            case .realtime: "__REALTIME_TIMESTAMP"
            case .hostname: "_HOSTNAME"
            case .identifier: "SYSLOG_IDENTIFIER"
            case .comm: "_COMM"
            case .message: "MESSAGE"
            case .priority: "PRIORITY"
            case .facility: "SYSLOG_FACILITY"
            }
        }
    }
}

/// A range of bytes in a line or (`inScratch`) in a decoding buffer.
struct ByteSpan {
    var range: Range<Int>
    var inScratch: Bool

    /// No bytes (a field the entry does not have).
    static let empty = ByteSpan(0 ..< 0, inScratch: true)

    init(_ range: Range<Int>, inScratch: Bool) {
        self.range = range
        self.inScratch = inScratch
    }

    @_lifetime(copy line, copy scratch)
    func view(_ line: ByteView, _ scratch: ByteView) -> ByteView {
        inScratch ? scratch[range] : line[range]
    }
}
