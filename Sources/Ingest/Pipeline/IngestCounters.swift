public import Platform
import WAL
/// Which listener a record or reject came through (an index into per-listener counters).
public enum ListenerKind: Int, Sendable, CaseIterable, CustomStringConvertible {
    case native, syslogTCP, syslogUDP, json, influx, influxHTTP, graphite

    public var description: String {
        switch self {
        case .native: "native"
        case .syslogTCP: "syslog_tcp"
        case .syslogUDP: "syslog_udp"
        case .json: "json"
        case .influx: "influx"
        case .influxHTTP: "influx_http"
        case .graphite: "graphite"
        }
    }
}

/// Plain counters of one listener on one event loop; published on a timer.
public struct ListenerCounters: Sendable, Equatable {
    public var records = 0
    public var bytes = 0
    public var rejects = 0
    public var dropped = 0
    public var connections = 0

    public init() {}

    public static func += (a: inout ListenerCounters, b: ListenerCounters) {
        a.records += b.records
        a.bytes += b.bytes
        a.rejects += b.rejects
        a.dropped += b.dropped
        a.connections += b.connections
    }
}

/// How a native batch came over the wire: plain BATCH, or BATCH_COMPRESSED with a codec.
public enum NativeBatchEncoding: Int, Sendable, CaseIterable, CustomStringConvertible {
    case plain, lz4, zstd

    /// The encoding of a BATCH_COMPRESSED with `codec` (``WALCodec/none`` is plain).
    init(_ codec: WALCodec) {
        switch codec {
        case .none: self = .plain
        case .lz4: self = .lz4
        case .zstd: self = .zstd
        }
    }

    public var description: String {
        switch self {
        case .plain: "plain"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }
}

/// Plain counters of native batches on one event loop, by encoding; published on a timer with
/// the ``ListenerCounters``.
public struct NativeBatchCounters: Sendable, Equatable {
    /// Batch frames received, indexed by ``NativeBatchEncoding/rawValue``.
    public var batches = [Int](repeating: 0, count: NativeBatchEncoding.allCases.count)
    /// Bytes of those frames as they came over the wire (length field and type byte included).
    public var wireBytes = [Int](repeating: 0, count: NativeBatchEncoding.allCases.count)
    /// Batches answered as duplicates (ACK status 1): stored before, nothing written now.
    public var duplicates = 0

    public init() {}

    public static func += (a: inout NativeBatchCounters, b: NativeBatchCounters) {
        for i in a.batches.indices {
            a.batches[i] += b.batches[i]
            a.wireBytes[i] += b.wireBytes[i]
        }
        a.duplicates += b.duplicates
    }
}

/// What is known about one source (a host, or a peer address).
public struct SourceStats: Sendable, Equatable {
    public var name: String
    public var listener: ListenerKind
    public var records = 0
    public var bytes = 0
    public var rejects = 0
    /// Nanoseconds since the epoch when last heard from.
    public var lastSeen: Int64 = 0
    public var rate = ThroughputEMA()
    var previousRecords = 0
    var previousBytes = 0

    public init(name: String, listener: ListenerKind) {
        self.name = name
        self.listener = listener
    }
}
