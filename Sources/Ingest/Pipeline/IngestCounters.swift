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
