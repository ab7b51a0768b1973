import Control
import Hummingbird
import Ingest
public import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization
import UnixSignals

/// A running Hypha node: the WAL, the ingest listeners and the HTTP API, run as
/// swift-service-lifecycle services under one ServiceGroup that drains on SIGTERM/SIGINT.
public enum NodeRunner {
    /// Opens the data directory, starts every listener and runs until SIGTERM or SIGINT, then
    /// drains: stops accepting, seals and syncs every batch, sends the last acks, and returns.
    /// - Parameter onReady: called with the bound address of every listener once they listen.
    public static func run(
        _ configuration: ServeConfiguration, logger: Logger, onReady: @escaping @Sendable ([String: String]) -> Void = { _ in }
    ) async throws {
        let files = FileLimit.raiseToHard()
        if files.after != files.before {
            logger.info("raised the open-file limit", metadata: ["from": "\(files.before)", "to": "\(files.after)"])
        }
        // Held until the node has drained: a second node on the same data fails here, cleanly.
        let lock = try DataDirectoryLock(directory: configuration.dataDirectory)
        defer { withExtendedLifetime(lock) {} }
        let relay = DurableRelay()
        let wal = try WriteAheadLog.open(
            dataDirectory: configuration.dataDirectory, options: configuration.wal, logger: logger,
            onDurable: { relay.durable(shard: $0, upTo: $1) })
        let registry = DaemonRegistry(limits: configuration.registry)
        let alerts = try AlertsRuntime(
            rulesPath: configuration.rulesPath, dataDirectory: configuration.dataDirectory, nodeID: configuration.nodeID,
            evaluationInterval: .seconds(configuration.evaluationIntervalSeconds), logger: logger)
        let health = HealthSource()
        let coordinator = try ControlCoordinator(
            store: try FileControlStore(directory: configuration.dataDirectory + "/control/store"),
            settings: configuration.coordinatorSettings, clock: SystemEpochClock(), logger: logger,
            health: { health.daemonStates() }, throughput: { health.daemonThroughput() })
        let ingest = try IngestServer(
            wal: wal, relay: relay, limits: configuration.limits, bindHost: configuration.bindHost,
            ports: configuration.ports, tokens: configuration.tokens, nodeID: configuration.nodeID, observer: registry,
            control: coordinator, heartbeatMilliseconds: UInt32(configuration.heartbeatIntervalMilliseconds),
            tap: alerts.tap, threads: configuration.threads, logger: logger)
        let control = ControlPlaneRuntime(
            registry: registry, wal: wal, stats: ingest.context.stats, topology: configuration.topology,
            thresholds: HealthThresholds(
                offlineAfter: .seconds(configuration.offlineAfterSeconds), degradedLag: .seconds(configuration.degradedLagSeconds)),
            coordinator: coordinator)
        health.attach(control)
        coordinator.start()
        defer { coordinator.stop() }
        let ingestService = IngestService(ingest: ingest, logger: logger)
        let controlService = ControlService(
            control: control, alerts: alerts, interval: .seconds(configuration.evaluationIntervalSeconds),
            dataDirectory: configuration.dataDirectory, logger: logger)
        var services: [any Service] = [ingestService, controlService]
        let addresses = AddressBook()
        // The HTTP API gets its own event loop so /health and /metrics answer promptly while the
        // ingest loops are saturated.
        let httpGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        if let port = configuration.httpPort {
            let router = Router(context: HyphaRequestContext.self)
            let admin = AdminGuard(token: configuration.adminToken)
            HTTPAPI(ingest: ingest, wal: wal, configuration: configuration, alerts: alerts, control: control).add(to: router)
            ControlAPI(control: control, alerts: alerts, admin: admin).add(to: router)
            TasksAPI(coordinator: coordinator, admin: admin).add(to: router)
            ConfigAPI(coordinator: coordinator, admin: admin).add(to: router)
            let app = Application(
                router: router,
                configuration: .init(address: .hostname(configuration.bindHost, port: port), serverName: "hypha"),
                onServerRunning: { channel in
                    addresses.set("http", channel.localAddress.map { "\($0.ipAddress ?? ""):\($0.port ?? 0)" } ?? "")
                },
                eventLoopGroupProvider: .shared(httpGroup),
                logger: logger)
            services.append(app)
        }
        ingestService.onListening = { bound in
            for (name, address) in bound { addresses.set(name, "\(address.ipAddress ?? ""):\(address.port ?? 0)") }
        }
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        let expected = configuration.listenerNames
        let watcher = Task {
            while !Task.isCancelled {
                let all = addresses.all
                if expected.isSubset(of: Set(all.keys)) {
                    onReady(all)
                    return
                }
                try? await Task.sleep(for: .milliseconds(5))
            }
        }
        defer { watcher.cancel() }
        do {
            try await group.run()
        } catch {
            try? await httpGroup.shutdownGracefully()
            throw error
        }
        try await httpGroup.shutdownGracefully()
    }
}

/// Runs the ingest listeners as a Service: binds on start, drains on graceful shutdown.
final class IngestService: Service, @unchecked Sendable {
    let ingest: IngestServer
    let logger: Logger
    var onListening: @Sendable ([String: SocketAddress]) -> Void = { _ in }

    init(ingest: IngestServer, logger: Logger) {
        self.ingest = ingest
        self.logger = logger
    }

    func run() async throws {
        let bound = try await ingest.start()
        onListening(bound)
        try? await gracefulShutdown()
        logger.info("draining: no new connections; sealing, writing and syncing every batch")
        try await ingest.shutdown()
        logger.info("drained: every accepted record is in the write-ahead log")
    }
}

/// Runs the control plane's timers and signals: the registry absorbs the ingest stats once a
/// second, the alert rules are evaluated every interval, SIGHUP reloads the rules and reopens
/// the file hooks (logrotate). On shutdown the last notifications are delivered and the alert
/// state is saved.
struct ControlService: Service {
    let control: ControlPlaneRuntime
    let alerts: AlertsRuntime
    let interval: Duration
    let dataDirectory: String
    let logger: Logger

    func run() async throws {
        let hangups = await UnixSignalsSequence(trapping: .sighup)
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                for await _ in hangups {
                    logger.info("SIGHUP: reloading rules and reopening hook files")
                    _ = alerts.reload()
                    alerts.engine.reopenHooks()
                }
            }
            // Once a second, as the ingest stats are published; the evaluation interval is whole
            // seconds, so its deadlines fall on ticks.
            let start = ContinuousClock.now
            var nextTick = start + .seconds(1)
            var nextEvaluation = start + interval
            while !Task.isShuttingDownGracefully, !Task.isCancelled {
                // A graceful shutdown ends the wait at once.
                let deadline = nextTick
                try? await cancelWhenGracefulShutdown { try await Task.sleep(until: deadline, clock: .continuous) }
                nextTick += .seconds(1)
                let snapshot = control.stats.snapshot
                control.tick(snapshot)
                if ContinuousClock.now >= nextEvaluation {
                    alerts.evaluate(health: control.health(stats: snapshot), stats: snapshot, dataDirectory: dataDirectory)
                    nextEvaluation += interval
                    // After a stall, evaluate again one interval from now rather than in a burst.
                    if nextEvaluation < ContinuousClock.now { nextEvaluation = ContinuousClock.now + interval }
                }
            }
            group.cancelAll()
        }
        alerts.shutdown()
    }
}

/// The bound addresses, filled in as listeners come up.
final class AddressBook: Sendable {
    private let entries = Mutex<[String: String]>([:])
    func set(_ name: String, _ address: String) { entries.withLock { $0[name] = address } }
    var all: [String: String] { entries.withLock { $0 } }
}
