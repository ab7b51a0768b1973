/// A ``PortListener``'s checkpoint: always empty, because there is nothing to resume.
///
/// What a sender sent is gone once it is read; records still in the listener's queue when the
/// task stops or moves are lost (a syslog or JSON-lines sender does not resend). Encoded as `{}`;
/// any map decodes to it, so a task's stored checkpoint never stops a listener from starting.
public struct ListenCheckpoint: InputCheckpoint {
    public init() {}

    public init(encoded: [String: String]) throws(InputError) {}

    public var encoded: [String: String] { [:] }
}
