/// Where a ``HostMetricsCollector`` stands: when its last collection was emitted in full.
///
/// Encoded as `{"last_collected": "<nanoseconds since the epoch>"}`, or empty before the first.
/// A restarted or moved collector waits for the rest of the interval rather than sampling at
/// once; samples are never replayed.
public struct HostMetricsCheckpoint: InputCheckpoint {
    /// Wall time (nanoseconds since the epoch) of the last complete collection.
    public var lastCollected: Int64?

    public init() { lastCollected = nil }

    public init(lastCollected: Int64?) { self.lastCollected = lastCollected }

    public init(encoded: [String: String]) throws(InputError) {
        guard let text = encoded["last_collected"] else {
            self.init()
            return
        }
        guard let value = Int64(text) else {
            throw InputError(
                .invalidCheckpoint, "hostmetrics checkpoint last_collected is \"\(text)\"; it must be nanoseconds since the epoch", subject: "last_collected")
        }
        self.init(lastCollected: value)
    }

    public var encoded: [String: String] { lastCollected.map { ["last_collected": String($0)] } ?? [:] }
}
