import Glibc
public import Logging
import Platform
import WAL

/// The agent's own log lines, one per event on standard error, in logfmt or JSON: never into
/// its own pipeline (a journald or tail input of the agent reading its own output would loop).
///
/// `ts=2026-12-02T14:00:00.123456789Z level=info msg="node: session open" server=127.0.0.1:7400`
///
/// Thread-safe: each line is one `write(2)`, whole lines from several threads do not interleave.
public struct AgentLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    private let format: LogFormat

    public init(format: LogFormat, level: Logger.Level) {
        self.format = format
        logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let extra = event.metadata { fields.merge(extra) { $1 } }
        let time = RecordJSON.rfc3339(WallClock.nanoseconds())
        let line = format == .json
            ? Self.json(time: time, level: event.level, message: "\(event.message)", fields: fields)
            : Self.logfmt(time: time, level: event.level, message: "\(event.message)", fields: fields)
        var bytes = Array(line.utf8)
        bytes.append(UInt8(ascii: "\n"))
        _ = unsafe bytes.withUnsafeBytes { unsafe write(2, $0.baseAddress, $0.count) }
    }

    static func logfmt(time: String, level: Logger.Level, message: String, fields: Logger.Metadata) -> String {
        var parts = ["ts=\(time)", "level=\(level)", "msg=\(logfmtValue(message))"]
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) { parts.append("\(key)=\(logfmtValue("\(value)"))") }
        return parts.joined(separator: " ")
    }

    static func json(time: String, level: Logger.Level, message: String, fields: Logger.Metadata) -> String {
        var parts = ["\"ts\":\(RecordJSON.quoted(time))", "\"level\":\(RecordJSON.quoted("\(level)"))", "\"msg\":\(RecordJSON.quoted(message))"]
        for (key, value) in fields.sorted(by: { $0.key < $1.key }) { parts.append("\(RecordJSON.quoted(key)):\(RecordJSON.quoted("\(value)"))") }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// Bare when it needs no quoting, else a JSON string (``RecordJSON/quoted(_:)``).
    static func logfmtValue(_ value: String) -> String {
        let bare = !value.isEmpty && value.unicodeScalars.allSatisfy { $0.value > 0x20 && $0 != "\"" && $0 != "=" && $0 != "\\" && $0.value != 0x7F }
        return bare ? value : RecordJSON.quoted(value)
    }

}
