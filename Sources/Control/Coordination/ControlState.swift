import Platform
import WAL
import Wire

/// The control plane's books, as the control loop owns them: tasks, configuration and
/// rollouts, the daemons online now, and the frames to send once the next commit is durable.
///
/// Handed `inout` to requests (``ControlCoordinator/perform(_:)``) on the control thread; a
/// request reads and changes the books directly and queues its commands with ``send(_:)``.
public struct ControlState: Sendable {
    public var tasks: TaskBook
    public var configs: ConfigBook
    /// The loop's clock when the current event or request is handled (ns since the epoch).
    public internal(set) var now: Int64
    /// Daemons with an open session, by id.
    public internal(set) var online: [String: DaemonCandidate] = [:]
    /// Frames waiting for the commit of the changes that produced them.
    var outbox: [(daemonID: String, message: NodeControlMessage)] = []
    /// Work to do once the next commit is durable (answers to requests).
    var completions: [@Sendable () -> Void] = []

    init(tasks: TaskBook, configs: ConfigBook, now: Int64) {
        self.tasks = tasks
        self.configs = configs
        self.now = now
    }

    /// Queues task commands; they go out after the next durable commit.
    public mutating func send(_ commands: [TaskCommand]) {
        for command in commands {
            switch command {
            case .assign(let daemon, let assignment): outbox.append((daemon, .assign(assignment)))
            case .control(let daemon, let control): outbox.append((daemon, .control(control)))
            }
        }
    }

    /// Runs `body` once the changes made so far are durable.
    public mutating func afterCommit(_ body: @escaping @Sendable () -> Void) { completions.append(body) }

    /// Queues configuration pushes; they go out after the next durable commit.
    public mutating func send(_ commands: [ConfigCommand]) {
        for case .push(let daemon, let push) in commands { outbox.append((daemon, .config(push))) }
    }
}
