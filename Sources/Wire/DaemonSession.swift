package import NIOCore
import Synchronization

/// One native connection of a daemon, as the control plane sees it: who is on it, and a way to
/// send it TASK_ASSIGN, TASK_CONTROL and CONFIG_PUSH frames.
///
/// Thread-safe: ``send(_:)`` may be called from any thread; the frame is written on the
/// connection's event loop, between ACKs (docs/protocol.md, section 5.9). Sessions compare by
/// identity: a daemon that reconnects gets a new session with a higher ``number``.
public final class DaemonSession: Sendable {
    /// The daemon id from the HELLO.
    public var daemonID: String { hello.daemonID }
    /// The accepted HELLO.
    public let hello: NativeHello
    /// Unique within the process, increasing with each new connection.
    public let number: UInt64
    private let channel: any Channel

    private static let counter = Atomic<UInt64>(0)

    package init(hello: NativeHello, channel: any Channel) {
        self.hello = hello
        self.channel = channel
        number = Self.counter.add(1, ordering: .relaxed).newValue
    }

    /// Sends one control frame. Dropped silently when the connection is already closed (the
    /// control plane learns that from ``DaemonControl/sessionClosed(_:)``).
    public func send(_ message: NodeControlMessage) {
        let frame = message.frame(allocator: channel.allocator)
        channel.writeAndFlush(frame, promise: nil)
    }

    /// Sends several frames with one flush.
    public func send(_ messages: [NodeControlMessage]) {
        guard !messages.isEmpty else { return }
        let channel = self.channel
        let frames = messages.map { $0.frame(allocator: channel.allocator) }
        channel.eventLoop.execute {
            for frame in frames { channel.write(frame, promise: nil) }
            channel.flush()
        }
    }
}

/// What the fencing check says about a BATCH that carries a task producer id.
public enum TaskFenceVerdict: Sendable, Equatable {
    case admitted
    /// Refused; the text says why (stale epoch, not the holder, unknown task).
    case refused(String)
}

/// The control plane's side of native connections: sessions opening and closing, heartbeats
/// (which renew leases), reports, and the fence for task data.
///
/// Called on event loops: implementations must be quick and thread-safe. A session's calls
/// arrive in the order of its frames.
public protocol DaemonControl: Sendable {
    func sessionOpened(_ session: DaemonSession)
    func sessionClosed(_ session: DaemonSession)
    func sessionHeartbeat(_ session: DaemonSession)
    func session(_ session: DaemonSession, reported report: DaemonControlReport)
    /// Whether a BATCH of `daemonID` with this task producer id (top bit set) may be written.
    /// Called once per such batch, before its records are looked at.
    func admitsTaskData(daemonID: String, producerID: UInt64) -> TaskFenceVerdict
}

/// Learns about native daemons as they connect, heartbeat and leave (the control plane).
/// Called on event loops: implementations must be quick and thread-safe.
public protocol DaemonObserver: Sendable {
    func daemonConnected(hello: NativeHello, peer: String)
    func daemonHeartbeat(id: String, heartbeat: NativeHeartbeat)
    func daemonDisconnected(id: String)
    /// A batch of the daemon was answered as a duplicate (ACK status 1): stored before, not
    /// written now. Rare in a healthy fleet; growing while the daemon sends new data means it
    /// restarted its sequences under an old de-duplication key.
    func daemonSentDuplicate(id: String)
}
