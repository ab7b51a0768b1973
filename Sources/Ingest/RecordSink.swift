public import Platform
public import WAL
/// Receives decoded records from the wire decoders.
///
/// A decoder validates its input first, then emits each record as `begin…`, any number of
/// `field(key:value:)` calls (log fields, or metric labels), and `finishRecord()`. Malformed
/// input goes to `reject(_:sample:)` and nothing of it is emitted, so nothing malformed can
/// reach the WAL. Views passed in are valid only for the duration of the call.
///
/// Implementations: the per-event-loop ``BatchingSink`` (encodes straight into shard batch
/// buffers), the per-request sink of `POST /write`, and ``CollectingSink`` (tests).
public protocol RecordSink {
    /// Starts a log record. An empty `host` means "the sending peer".
    /// - Parameters:
    ///   - timestamp: nanoseconds since the Unix epoch.
    ///   - severity: 0…7, or ``LogRecord/unknownLevel``.
    ///   - facility: 0…23, or ``LogRecord/unknownLevel``.
    mutating func beginLog(timestamp: Int64, severity: UInt8, facility: UInt8, host: ByteView, app: ByteView, message: ByteView)

    /// Starts a metric sample. `source` is the host the sample describes (routing and per-source
    /// statistics); empty means "the sending peer".
    mutating func beginMetric(timestamp: Int64, name: ByteView, value: Double, source: ByteView)

    /// Adds a field to the open log record, or a label to the open metric sample.
    mutating func field(key: ByteView, value: ByteView)

    /// Completes the open record.
    mutating func finishRecord()

    /// Reports malformed input; `reason` is a fixed text, `sample` the offending bytes (the sink
    /// truncates and rate-limits what it logs).
    mutating func reject(_ reason: StaticString, sample: ByteView)
}

/// A ``RecordSink`` that keeps everything as values: for tests and low-rate edges.
public struct CollectingSink: RecordSink {
    public private(set) var records: [Record] = []
    public private(set) var rejects: [(reason: String, sample: String)] = []
    /// Sources named by `beginMetric`, parallel to metric records (empty string when not given).
    public private(set) var sources: [String] = []
    private var open: Record?

    public init() {}

    public mutating func beginLog(timestamp: Int64, severity: UInt8, facility: UInt8, host: ByteView, app: ByteView, message: ByteView) {
        precondition(open == nil, "beginLog while a record is open")
        open = .log(LogRecord(timestamp: timestamp, severity: severity, facility: facility, host: host.string, app: app.string, message: message.string))
    }

    public mutating func beginMetric(timestamp: Int64, name: ByteView, value: Double, source: ByteView) {
        precondition(open == nil, "beginMetric while a record is open")
        open = .metric(MetricSample(timestamp: timestamp, name: name.string, value: value))
        sources.append(source.string)
    }

    public mutating func field(key: ByteView, value: ByteView) {
        switch open {
        case .log(var l):
            l.fields.append((key.string, value.string))
            open = .log(l)
        case .metric(var m):
            m.labels.append((key.string, value.string))
            open = .metric(m)
        case nil:
            preconditionFailure("field without an open record")
        }
    }

    public mutating func finishRecord() {
        guard let record = open else { preconditionFailure("finishRecord without an open record") }
        records.append(record)
        open = nil
    }

    public mutating func reject(_ reason: StaticString, sample: ByteView) {
        precondition(open == nil, "reject while a record is open")
        rejects.append((reason.description, sample.string))
    }
}
