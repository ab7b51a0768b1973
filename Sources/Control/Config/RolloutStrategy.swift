/// How a new configuration version goes out: batch size, health gate, failure threshold and
/// apply timeout.
///
/// JSON keys are snake_case, every key optional:
///
/// ```json
/// {"batch_percent": 25, "gate_seconds": 60, "max_failure_percent": 10, "apply_timeout_seconds": 120}
/// ```
///
/// - `batch_size` (whole number ≥ 1) or `batch_percent` (1…100 of the daemons in the rollout,
///   rounded up): exactly one of them, or neither for one batch with every daemon;
/// - `gate_seconds` (≥ 0, default 30): how long each daemon of a batch must stay Healthy after
///   it applied the version before the next batch starts;
/// - `max_failure_percent` (0…100, default 0): the rollout stops and rolls back once
///   `failed × 100 / daemons > max_failure_percent` (0: any failure stops it);
/// - `apply_timeout_seconds` (> 0, default 60): a daemon that has not applied the version and
///   become Healthy this long after it was pushed to it is failed.
public struct RolloutStrategy: Codable, Sendable, Equatable {
    /// Daemons per batch.
    public var batchSize: Int?
    /// Percent of the rollout's daemons per batch, rounded up (at least one daemon).
    public var batchPercent: Int?
    /// Seconds each daemon must stay Healthy after applying.
    public var gateSeconds: Double
    /// The failure percentage that may be reached but not passed.
    public var maxFailurePercent: Double
    /// Seconds from the push to applied and Healthy, after which the daemon is failed.
    public var applyTimeoutSeconds: Double

    /// A strategy; the defaults are one batch, a 30 s gate, no failure allowed and a 60 s timeout.
    public init(batchSize: Int? = nil, batchPercent: Int? = nil, gateSeconds: Double = 30, maxFailurePercent: Double = 0, applyTimeoutSeconds: Double = 60) {
        self.batchSize = batchSize
        self.batchPercent = batchPercent
        self.gateSeconds = gateSeconds
        self.maxFailurePercent = maxFailurePercent
        self.applyTimeoutSeconds = applyTimeoutSeconds
    }

    private enum CodingKeys: String, CodingKey {
        case batchSize = "batch_size", batchPercent = "batch_percent", gateSeconds = "gate_seconds"
        case maxFailurePercent = "max_failure_percent", applyTimeoutSeconds = "apply_timeout_seconds"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        batchSize = try c.decodeIfPresent(Int.self, forKey: .batchSize)
        batchPercent = try c.decodeIfPresent(Int.self, forKey: .batchPercent)
        gateSeconds = try c.decodeIfPresent(Double.self, forKey: .gateSeconds) ?? 30
        maxFailurePercent = try c.decodeIfPresent(Double.self, forKey: .maxFailurePercent) ?? 0
        applyTimeoutSeconds = try c.decodeIfPresent(Double.self, forKey: .applyTimeoutSeconds) ?? 60
    }

    /// The strategy itself when every value is in range.
    /// - Throws: ``ControlRequestFailure/invalid`` naming the first bad key.
    public func validated() throws(ConfigError) -> RolloutStrategy {
        if batchSize != nil, batchPercent != nil {
            throw ConfigError(.invalid, "give batch_size or batch_percent, not both")
        }
        if let batchSize, batchSize < 1 { throw ConfigError(.invalid, "batch_size must be at least 1, got \(batchSize)") }
        if let batchPercent, !(1 ... 100).contains(batchPercent) {
            throw ConfigError(.invalid, "batch_percent must be 1 to 100, got \(batchPercent)")
        }
        guard gateSeconds.isFinite, gateSeconds >= 0, gateSeconds <= Self.maxSeconds else {
            throw ConfigError(.invalid, "gate_seconds must be 0 to \(Int(Self.maxSeconds)), got \(gateSeconds)")
        }
        guard maxFailurePercent.isFinite, (0 ... 100).contains(maxFailurePercent) else {
            throw ConfigError(.invalid, "max_failure_percent must be 0 to 100, got \(maxFailurePercent)")
        }
        guard applyTimeoutSeconds.isFinite, applyTimeoutSeconds > 0, applyTimeoutSeconds <= Self.maxSeconds else {
            throw ConfigError(.invalid, "apply_timeout_seconds must be above 0 and at most \(Int(Self.maxSeconds)), got \(applyTimeoutSeconds)")
        }
        return self
    }

    /// One week: the longest gate or timeout (keeps nanosecond arithmetic far from overflow).
    static let maxSeconds: Double = 7 * 86_400

    /// Daemons per batch for a rollout of `count` daemons (at least 1).
    func batchLength(of count: Int) -> Int {
        if let batchSize { return batchSize }
        if let batchPercent { return max(1, (count * batchPercent + 99) / 100) }
        return max(1, count)
    }

    var gateNanoseconds: Int64 { Int64(gateSeconds * 1e9) }
    var applyTimeoutNanoseconds: Int64 { Int64(applyTimeoutSeconds * 1e9) }
}
