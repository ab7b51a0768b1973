/// An exponential moving average of records/s and bytes/s, updated once per tick.
///
/// With α = 0.1 on a 1 s tick, a step change shows 65% after 10 ticks. A small value type:
/// ingest keeps one per shard and per source, the control plane one per daemon.
public struct ThroughputEMA: Sendable, Equatable, Codable {
    /// The weight of the newest tick.
    public static let alpha = 0.1
    public private(set) var recordsPerSecond: Double = 0
    public private(set) var bytesPerSecond: Double = 0

    public init() {}

    /// Folds in what happened during the last tick of `seconds`.
    public mutating func tick(records: Int, bytes: Int, seconds: Double = 1) {
        guard seconds > 0 else { return }
        recordsPerSecond += Self.alpha * (Double(records) / seconds - recordsPerSecond)
        bytesPerSecond += Self.alpha * (Double(bytes) / seconds - bytesPerSecond)
    }
}
