// Simulated daemons that speak the native protocol to a Hypha node.
public import NIOCore
public import NIOPosix

/// Many ``SimulatedDaemon``s connected to one node, sharing one event loop group.
///
/// ``start(count:node:threads:connectWindow:timeout:configuration:)`` connects them (at most
/// `connectWindow` handshakes at a time, so the node's accept backlog is not flooded) and
/// returns once every one got HELLO_OK. Daemons keep no thread of their own: their sockets and
/// heartbeat timers live on the group's loops, so ten thousand fit in one process (raise the
/// descriptor limit first with Platform's `FileLimit.raiseToHard()`).
///
/// Thread-safe. Call ``shutdown()`` when done: it kills every daemon and stops the loops.
///
/// ```swift
/// FileLimit.raiseToHard()
/// let fleet = try await Fleet.start(count: 10_000, node: address) { i in
///     .init(daemonID: "d\(i)", region: i % 2 == 0 ? "eu" : "us", labels: ["rack": "r\(i % 40)"])
/// }
/// fleet.kill { $0.configuration.labels["rack"] == "r7" }
/// await fleet.shutdown()
/// ```
public final class Fleet: Sendable {
    /// The loops every daemon runs on.
    public let group: MultiThreadedEventLoopGroup
    /// The daemons, in the order of the indexes given to the configuration closure.
    public let daemons: [SimulatedDaemon]
    private let byID: [String: Int]

    private init(group: MultiThreadedEventLoopGroup, daemons: [SimulatedDaemon]) {
        self.group = group
        self.daemons = daemons
        var byID: [String: Int] = [:]
        for (i, d) in daemons.enumerated() { byID[d.configuration.daemonID] = i }
        self.byID = byID
    }

    /// Starts `count` daemons and waits until every one received HELLO_OK.
    /// - Parameters:
    ///   - count: how many daemons (0 is allowed).
    ///   - node: the node's native listener.
    ///   - threads: event loops for the whole fleet.
    ///   - connectWindow: handshakes in progress at once.
    ///   - timeout: per daemon, from starting its connect to HELLO_OK.
    ///   - configuration: daemon id, region, labels, behaviour of daemon `i` (0-based). Ids
    ///     should be distinct (``daemon(id:)`` finds the last one with an id).
    /// - Throws: the first daemon's failure (``FleetError`` or a connect error); the daemons
    ///   already connected are killed and the loops stopped before it is thrown.
    public static func start(
        count: Int, node: SocketAddress, threads: Int = System.coreCount, connectWindow: Int = 256,
        timeout: TimeAmount = .seconds(30), configuration: (Int) -> SimulatedDaemon.Configuration
    ) async throws -> Fleet {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
        let daemons = (0 ..< count).map { SimulatedDaemon(configuration: configuration($0), eventLoop: group.next()) }
        let fleet = Fleet(group: group, daemons: daemons)
        do {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                var next = 0
                func launch() {
                    let daemon = daemons[next]
                    next += 1
                    tasks.addTask { _ = try await daemon.connect(to: node, timeout: timeout) }
                }
                while next < min(count, max(1, connectWindow)) { launch() }
                while try await tasks.next() != nil {
                    if next < count { launch() }
                }
            }
        } catch {
            await fleet.shutdown()
            throw error
        }
        return fleet
    }

    /// The daemon with this id, if any.
    public func daemon(id: String) -> SimulatedDaemon? { byID[id].map { daemons[$0] } }

    /// Kills the daemons that `predicate` selects (``SimulatedDaemon/kill()``).
    /// - Returns: the killed daemons.
    @discardableResult
    public func kill(where predicate: (SimulatedDaemon) -> Bool) -> [SimulatedDaemon] {
        let chosen = daemons.filter(predicate)
        for d in chosen { d.kill() }
        return chosen
    }

    /// Every daemon's events merged, ordered by time (ties keep daemon order).
    public var events: [FleetEvent] {
        daemons.flatMap(\.events).enumerated().sorted { ($0.element.wallNanoseconds, $0.offset) < ($1.element.wallNanoseconds, $1.offset) }
            .map(\.element)
    }

    /// Kills every daemon, waits (up to 5 s) for their connections to close, and stops the
    /// loops. Call once; the fleet is unusable afterwards.
    public func shutdown() async {
        for d in daemons { d.kill() }
        let loop = group.next()
        let closed = daemons.filter { $0.welcome != nil }.map(\.closeFuture)
        let done = loop.makePromise(of: Void.self)
        let timer = loop.scheduleTask(in: .seconds(5)) { done.succeed() }
        EventLoopFuture.andAllComplete(closed, on: loop).whenComplete { _ in
            timer.cancel()
            done.succeed()
        }
        try? await done.futureResult.get()
        try? await group.shutdownGracefully()
    }
}
