import Hummingbird

/// A value of another module answered as JSON, encoded as the value encodes itself: a
/// `TaskRecord`, a `Rollout`, the `ClusterHealth`.
///
/// The control plane's types know nothing of HTTP, so they do not conform to
/// `ResponseEncodable` themselves; routes wrap them in this instead.
struct JSONReply<Value: Encodable & Sendable>: ResponseEncodable, Sendable {
    /// What is answered.
    let value: Value

    /// An answer holding `value`.
    init(_ value: Value) {
        self.value = value
    }

    func encode(to encoder: any Encoder) throws {
        try value.encode(to: encoder)
    }
}
