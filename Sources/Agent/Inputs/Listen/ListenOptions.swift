import NIOCore

/// What a `listen` task accepts on its port: the framing and the decoder, each the node's own
/// (Ingest's `SyslogFramer` and `SyslogDecoder`, `LineFramer` and `JSONLinesDecoder`).
public enum ListenProtocol: String, CaseIterable, Sendable {
    /// Syslog over TCP (RFC 6587): octet-counted or newline-terminated frames, RFC 5424 or
    /// RFC 3164 messages.
    case syslogTCP = "syslog-tcp"
    /// Syslog over UDP: one message per datagram.
    case syslogUDP = "syslog-udp"
    /// One JSON object per line over TCP: a log record or a metric sample each.
    case jsonTCP = "json-tcp"

    /// Whether the protocol runs over UDP.
    public var isDatagram: Bool { self == .syslogUDP }
}

/// Where a ``PortListener`` listens, what it speaks and how much it holds (the `listen` task,
/// docs/control.md).
public struct ListenOptions: Sendable {
    /// The protocol spoken on the port.
    public var wireProtocol: ListenProtocol
    /// The IPv4 or IPv6 address literal bound: `127.0.0.1` (the default) takes only what the
    /// host's own programs send; `0.0.0.0` or `::` takes every network's.
    public var address: String
    /// The port bound; 0 picks a free one (tests; ``PortListener/localPort`` tells which).
    public var port: Int
    /// The host named by records that name none (syslog's `-`, JSON without `host`) when they
    /// come from this host (a loopback peer); a remote peer is named by its address, as the
    /// node does.
    public var host: String
    /// The longest message accepted: a syslog frame, a JSON line or a datagram, without its
    /// delimiter. Longer ones are rejected and counted, never cut.
    public var maxLineBytes: Int
    /// The most bytes of decoded records held between two polls. Past it, TCP connections
    /// stop being read (their senders are pushed back) and UDP datagrams are dropped and
    /// counted; reading resumes once polls have taken the queue below three quarters of it.
    public var queueBytes: Int

    /// Syslog over TCP on `port` of 127.0.0.1, lines up to 64 KiB, an 8 MiB queue.
    public init(wireProtocol: ListenProtocol = .syslogTCP, address: String = "127.0.0.1", port: Int, host: String) {
        self.wireProtocol = wireProtocol
        self.address = address
        self.port = port
        self.host = host
        maxLineBytes = 64 << 10
        queueBytes = 8 << 20
    }

    /// The options of a `listen` task: `port` (1…65535, required), `protocol`
    /// (`syslog-tcp`, `syslog-udp` or `json-tcp`, default `syslog-tcp`), `address` (an IPv4 or
    /// IPv6 literal, default `127.0.0.1`), `max_line_kib` (1…1024, default 64) and `queue_kib`
    /// (64…1048576, default 8192).
    /// - Throws: ``InputError/Code/invalidParameter`` naming the parameter.
    public init(parameters: [String: String], host: String) throws(InputError) {
        let p = TaskParameters(parameters, kind: "listen")
        guard let port = try p.integer("port", in: 1 ... 65_535) else {
            throw InputError(.invalidParameter, "a listen task needs parameter port (1 to 65535)", subject: "port")
        }
        let name = try p.choice("protocol", ListenProtocol.allCases.map(\.rawValue), default: ListenProtocol.syslogTCP.rawValue)
        let address = p["address"] ?? "127.0.0.1"
        guard Self.isAddressLiteral(address) else {
            throw InputError(.invalidParameter, "address \"\(address)\" is not an IPv4 or IPv6 address", subject: "address")
        }
        self.init(wireProtocol: ListenProtocol(rawValue: name)!, address: address, port: port, host: host)
        maxLineBytes = try p.integer("max_line_kib", in: Self.maxLineKiBRange, default: 64)! << 10
        queueBytes = try p.integer("queue_kib", in: Self.queueKiBRange, default: 8192)! << 10
    }

    /// The values `max_line_kib` may take.
    public static let maxLineKiBRange = 1 ... 1024
    /// The values `queue_kib` may take (64 KiB to 1 GiB).
    public static let queueKiBRange = 64 ... 1_048_576

    /// Whether `text` is an IPv4 or IPv6 address literal (inet_pton(3), as the node's
    /// validation reads it): a listener binds an address, never a name.
    static func isAddressLiteral(_ text: String) -> Bool {
        (try? SocketAddress(ipAddress: text, port: 0)) != nil
    }
}
