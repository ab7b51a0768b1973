
/// What the registry knows about one plain-protocol source: a host named in the records
/// (syslog HOSTNAME, Influx/Graphite/JSON `host`) or, when records name none, the peer address
/// they came from.
///
/// A value snapshot mirrored from the ingest statistics (see ``RegistryState/absorb(sources:now:)``).
/// Counts are the ingest path's: cumulative since it first saw the source (they restart if it
/// forgot the source after its own expiry). Times are nanoseconds since the Unix epoch. Encodes to JSON
/// and decodes back to an equal value.
public struct SourceRecord: Sendable, Equatable, Codable {
    /// The host or peer address.
    public var name: String
    /// The listener the source was first seen on, as `ListenerKind.description`
    /// (`syslog_tcp`, `syslog_udp`, `json`, `influx`, `influx_http`, `graphite`, `native`).
    public var listener: String
    /// Records accepted from the source.
    public var records: Int
    /// Bytes of accepted records (encoded size).
    public var bytes: Int
    /// Records or lines rejected from the source.
    public var rejects: Int
    /// When a record or reject from the source was last seen.
    public var lastSeen: Int64
    /// When the registry first heard of the source.
    public var firstSeen: Int64
    /// The ingest path's EMA of the source's records/s.
    public var recordsPerSecond: Double
    /// The ingest path's EMA of the source's bytes/s.
    public var bytesPerSecond: Double

    /// A record from plain figures; non-finite rates count as 0.
    public init(
        name: String, listener: String, records: Int = 0, bytes: Int = 0, rejects: Int = 0, lastSeen: Int64,
        firstSeen: Int64? = nil, recordsPerSecond: Double = 0, bytesPerSecond: Double = 0
    ) {
        self.name = name
        self.listener = listener
        self.records = records
        self.bytes = bytes
        self.rejects = rejects
        self.lastSeen = lastSeen
        self.firstSeen = firstSeen ?? lastSeen
        self.recordsPerSecond = recordsPerSecond.isFinite ? recordsPerSecond : 0
        self.bytesPerSecond = bytesPerSecond.isFinite ? bytesPerSecond : 0
    }
}
