public import Logging
import Platform
public import WAL

/// Everything `hypha agent` is told: where the nodes are, who it is, where it spools, and (for a
/// start without a control plane) what it reads. Its one table of settings is
/// ``AgentConfiguration/settings``; the defaults here are the documented ones.
public struct AgentConfiguration: Sendable {
    /// Nodes' native ports (`host:port`), tried in this order; after the last, the first again.
    public var servers: [String] = []
    /// The daemon id sent in HELLO.
    public var id: String = HostName.current
    public var region = ""
    /// `key=value` labels sent in HELLO.
    public var labels: [String] = []
    /// The token the node asks for at HELLO, if any.
    public var token: String?

    /// The spool directory: a write-ahead log of everything not yet acknowledged, the agent's
    /// incarnation, input checkpoints and the last applied configuration.
    public var spoolDirectory = "hypha-agent-spool"
    /// Inputs stop reading once the spool holds this much.
    public var spoolMaxBytes = 1 << 30
    /// Compression of spooled batches and, when the node supports it, of batches on the wire.
    public var compression: WALCodec = .lz4
    /// Seal an input's batch once it holds this much…
    public var batchBytes = 256 << 10
    /// …or this long after its first record.
    public var linger: Duration = .milliseconds(5)
    /// Batches sent and not yet answered, at most.
    public var window = 64

    /// First reconnect delay; doubled after each failure up to ``reconnectMax``, with jitter.
    public var reconnectMin: Duration = .milliseconds(200)
    public var reconnectMax: Duration = .seconds(30)
    /// Give up a connection attempt, or a node that stopped answering, after this long.
    public var connectTimeout: Duration = .seconds(5)
    /// On SIGTERM, keep sending what is spooled for at most this long; the rest stays in the
    /// spool for the next start.
    public var drainTimeout: Duration = .seconds(10)

    public var logFormat: LogFormat = .logfmt
    public var logLevel: Logger.Level = .info

    /// Quick start without a control plane: files to follow (globs).
    public var tail: [String] = []
    /// Where a quick-start tail of a file with no checkpoint begins.
    public var tailFrom: TailStart = .end
    /// Quick start: follow the systemd journal.
    public var journald = false
    /// Quick start: sample host metrics at this interval (nil: off).
    public var hostmetrics: Duration?

    public init() {}

    /// The `--label k=v` values as a map.
    /// - Throws: ``AgentError`` naming a label without `=` or with an empty key.
    public func labelMap() throws(AgentError) -> [String: String] {
        var map: [String: String] = [:]
        for label in labels {
            guard let equals = label.firstIndex(of: "="), equals != label.startIndex else {
                throw AgentError("label '\(label)' is not key=value")
            }
            map[String(label[..<equals])] = String(label[label.index(after: equals)...])
        }
        return map
    }

    /// The servers as (host, port) pairs.
    /// - Throws: ``AgentError`` when there is none or one is not `host:port`.
    public func serverAddresses() throws(AgentError) -> [ServerAddress] {
        guard !servers.isEmpty else { throw AgentError("no --server given: name at least one node (host:7400)") }
        var addresses: [ServerAddress] = []
        for server in servers {
            guard let address = ServerAddress(server) else {
                throw AgentError("server '\(server)' is not host:port (e.g. 127.0.0.1:7400 or [::1]:7400)")
            }
            addresses.append(address)
        }
        return addresses
    }
}

/// The formats of the agent's own log lines on standard error.
public enum LogFormat: String, Sendable, CaseIterable, CustomStringConvertible {
    case logfmt, json
    public var description: String { rawValue }
}

/// `start` or `end` (``AgentConfiguration/tailFrom``).
public enum TailStart: String, Sendable, CaseIterable, CustomStringConvertible {
    case start, end
    public var description: String { rawValue }
}

/// A node's native port: `host:port`, `[v6]:port`.
public struct ServerAddress: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int

    public init?(_ text: String) {
        let host: Substring, port: Substring
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            host = text[text.index(after: text.startIndex) ..< close]
            let rest = text[text.index(after: close)...]
            guard rest.hasPrefix(":") else { return nil }
            port = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, let number = Int(port), (1 ... 65_535).contains(number) else { return nil }
        self.host = String(host)
        self.port = number
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// Why the agent cannot start or go on, in one sentence a user can act on.
public struct AgentError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// The ERROR code the node answered with, when it did.
    public var nodeErrorCode: UInt16?
    public init(_ message: String, nodeErrorCode: UInt16? = nil) {
        self.message = message
        self.nodeErrorCode = nodeErrorCode
    }
    public var description: String { message }
}
