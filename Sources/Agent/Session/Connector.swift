import Logging
import NIOCore
import NIOPosix
import Platform
import Synchronization
import WAL
import Wire

/// Keeps one session open to one of the configured nodes: tries them in order, with jittered
/// exponential back-off after each failure (reset by a session that lasted), fails over to the
/// next when one is unreachable, refuses the session or goes silent, and so comes back round.
///
/// Speaks protocol version 2 (compression, incarnation); a node that answers a version 2
/// HELLO with ERROR 1 (unsupported version) gets version 1 from then on: plain batches, no
/// incarnation.
final class Connector: Sendable {
    private let core: AgentCore
    private let servers: [ServerAddress]
    private let group: MultiThreadedEventLoopGroup
    private let configuration: AgentConfiguration
    private let logger: Logger
    private let state = Mutex(State())

    private struct State {
        var stopped = false
        var channel: (any Channel)?
        var versionOne: Set<Int> = []
        var labels: [String: String] = [:]
    }

    init(core: AgentCore, servers: [ServerAddress], configuration: AgentConfiguration, labels: [String: String], logger: Logger) {
        self.core = core
        self.servers = servers
        self.configuration = configuration
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        state.withLock { $0.labels = labels }
    }

    /// Connects, and reconnects, until ``stop()``.
    func run() async {
        var backoff = Backoff(minimum: configuration.reconnectMin, maximum: configuration.reconnectMax)
        var index = 0
        while !state.withLock({ $0.stopped }) {
            let server = servers[index]
            let started = MonotonicClock.nanoseconds()
            do {
                let channel = try await connect(server, index: index)
                try? await channel.closeFuture.get()
                logger.warning("node: connection closed", metadata: ["server": "\(server)"])
                if MonotonicClock.nanoseconds() - started > 10_000_000_000 { backoff.reset() }
            } catch let error as AgentError where error.nodeErrorCode == NativeErrorCode.unsupportedVersion.rawValue {
                logger.warning("node: speaks protocol version 1 only; no compression", metadata: ["server": "\(server)"])
                state.withLock { _ = $0.versionOne.insert(index) }
                continue
            } catch {
                logger.warning("node: cannot open a session", metadata: ["server": "\(server)", "error": "\(error)"])
            }
            if state.withLock({ $0.stopped }) { break }
            if servers.count > 1 { index = (index + 1) % servers.count }
            let delay = backoff.next()
            logger.debug("node: reconnecting", metadata: ["delay_ms": "\(delay.clampedNanoseconds / 1_000_000)"])
            try? await Task.sleep(for: delay)
        }
    }

    /// Closes the session and stops reconnecting.
    func stop() {
        let channel = state.withLock { s -> (any Channel)? in
            s.stopped = true
            return s.channel
        }
        try? channel?.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// New labels: the next HELLO carries them, so the session is opened again.
    func relabel(_ labels: [String: String]) {
        let channel = state.withLock { s -> (any Channel)? in
            s.labels = labels
            return s.channel
        }
        channel?.eventLoop.execute { channel?.close(promise: nil) }
    }

    private func connect(_ server: ServerAddress, index: Int) async throws -> any Channel {
        let (versionOne, labels) = state.withLock { ($0.versionOne.contains(index), $0.labels) }
        var hello = NativeHello(
            version: versionOne ? 1 : 2, daemonID: configuration.id, region: configuration.region, labels: labels,
            token: configuration.token ?? "", agentVersion: "hypha-agent/\(AgentVersion.current)")
        if !versionOne {
            switch configuration.compression {
            case .none: hello.compression = []
            case .lz4: hello.compression = [.lz4, .zstd]
            case .zstd: hello.compression = [.zstd, .lz4]
            }
            hello.incarnation = core.incarnation
        }
        let greeting = hello
        let eventLoop = group.next()
        let welcomed = eventLoop.makePromise(of: NativeWelcome.self)
        let timeout = TimeAmount.nanoseconds(configuration.connectTimeout.clampedNanoseconds)
        let silence = max(configuration.connectTimeout, .seconds(3))
        let connecting = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.writeBufferWaterMark, value: .init(low: 1 << 20, high: 4 << 20))
            .connectTimeout(timeout)
            .channelInitializer { [core, logger, window = configuration.window] channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(NativeFrameDecoder(maxFrameBytes: 16 << 20)),
                        NodeSession(core: core, hello: greeting, window: window, silenceLimit: silence * 3, welcomed: welcomed, logger: logger),
                    ])
                }
            }
            .connect(host: server.host, port: server.port)
        let channel: any Channel
        do { channel = try await connecting.get() } catch {
            // No session was made: nothing else completes the HELLO.
            welcomed.fail(error)
            throw error
        }
        // No HELLO_OK in time: closing fails the HELLO (the session completes its promise).
        let deadline = eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
        let stopped = state.withLock { s in
            s.channel = channel
            return s.stopped
        }
        if stopped { channel.close(promise: nil) }
        do {
            let welcome = try await welcomed.futureResult.get()
            deadline.cancel()
            logger.info("node: session open", metadata: [
                "server": "\(server)", "node.id": "\(welcome.nodeID)", "protocol.version": "\(welcome.version)",
                "compression": "\(welcome.compression.map(\.description) ?? "none")",
            ])
            return channel
        } catch {
            deadline.cancel()
            channel.close(promise: nil)
            throw error
        }
    }
}
