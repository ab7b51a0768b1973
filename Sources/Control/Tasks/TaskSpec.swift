/// What a task does, where its records go and which daemons may run it.
///
/// JSON (`parameters` and `selector` are optional):
/// ```json
/// {"kind": "tail", "stream": "app", "parameters": {"path": "/var/log/app/*.log"},
///  "selector": {"labels": {"env": "prod"}, "region": "eu"}}
/// ```
/// A spec is only accepted by ``TaskBook/create(_:now:)`` once ``validated()`` passes; the
/// stored spec is the validated one, with defaults filled in.
public struct TaskSpec: Codable, Sendable, Equatable {
    /// What the daemon runs.
    public var kind: TaskKind
    /// The stream the task's records go to: 1 to 128 bytes of `A-Z a-z 0-9 . _ -`.
    public var stream: String
    /// Kind-specific parameters (see ``validated()``).
    public var parameters: [String: String]
    /// Which daemons may run it; empty = any daemon.
    public var selector: DaemonSelector

    /// A spec; see the properties.
    public init(kind: TaskKind, stream: String, parameters: [String: String] = [:], selector: DaemonSelector = DaemonSelector()) {
        self.kind = kind
        self.stream = stream
        self.parameters = parameters
        self.selector = selector
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        kind = try c.decode(TaskKind.self, forKey: .kind)
        stream = try c.decode(String.self, forKey: .stream)
        parameters = try c.decodeIfPresent([String: String].self, forKey: .parameters) ?? [:]
        selector = try c.decodeIfPresent(DaemonSelector.self, forKey: .selector) ?? DaemonSelector()
    }
}
