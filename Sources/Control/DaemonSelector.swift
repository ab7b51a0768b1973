/// Which daemons a task or a configuration document is for: all the given labels must match
/// exactly, and the region too when one is given.
///
/// An empty selector (no labels, no region) matches every daemon. JSON:
/// `{"labels": {"env": "prod"}, "region": "eu-west"}`; both fields are optional.
public struct DaemonSelector: Sendable, Equatable, Hashable, Codable {
    /// Labels every matching daemon has, with these values.
    public var labels: [String: String]
    /// The region a matching daemon is in; `nil` = any region.
    public var region: String?

    public init(labels: [String: String] = [:], region: String? = nil) {
        self.labels = labels
        self.region = region
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        labels = try c.decodeIfPresent([String: String].self, forKey: .labels) ?? [:]
        region = try c.decodeIfPresent(String.self, forKey: .region)
    }

    /// Whether a daemon with these labels, in this region, is selected.
    public func matches(labels daemonLabels: [String: String], region daemonRegion: String) -> Bool {
        if let region, region != daemonRegion { return false }
        for (key, value) in labels where daemonLabels[key] != value { return false }
        return true
    }

    /// Whether `daemon` is selected.
    public func matches(_ daemon: DaemonCandidate) -> Bool { matches(labels: daemon.labels, region: daemon.region) }
}

/// A connected daemon as the task scheduler and the configuration rollouts see it.
public struct DaemonCandidate: Sendable, Equatable {
    /// The daemon id from its HELLO.
    public var id: String
    public var labels: [String: String]
    /// Its region (``Topology/defaultRegion`` when its HELLO named none: an empty region
    /// passed to the initializer means that one).
    public var region: String
    /// Records per second it sends, as an EMA (0 when unknown): the scheduler's second
    /// measure of load after the number of tasks.
    public var throughput: Double

    public init(id: String, labels: [String: String] = [:], region: String = Topology.defaultRegion, throughput: Double = 0) {
        self.id = id
        self.labels = labels
        self.region = region.isEmpty ? Topology.defaultRegion : region
        self.throughput = throughput
    }
}
