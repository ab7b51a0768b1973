import UnixSignals
import Control
import Hummingbird
import Ingest
public import Logging
import NIOPosix
import Platform
import PromQL
import ServiceLifecycle
import WAL

/// A running Hypha node: the WAL, the control plane, the ingest listeners and the HTTP API, as
/// swift-service-lifecycle services under one ServiceGroup that drains on SIGTERM/SIGINT.
public enum NodeRunner {
    /// Opens the data directory, starts every service and runs until SIGTERM or SIGINT, then
    /// shuts them down in order (see ``services``).
    /// - Parameter onReady: called once, with the bound address of every listener, when all of
    ///   them listen.
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
        let node = try NodeParts(configuration, logger: logger)
        let readiness = Readiness(expecting: configuration.listenerNames, onReady: onReady)
        // The HTTP API gets its own event loop so /health and /metrics answer promptly while the
        // ingest loops are saturated.
        let httpGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        var services = node.services(readiness: readiness)
        if let port = configuration.httpPort {
            services.append(node.httpApplication(port: port, group: httpGroup, readiness: readiness))
        }
        let group = ServiceGroup(configuration: .init(
            services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        do {
            try await group.run()
        } catch {
            try? await httpGroup.shutdownGracefully()
            throw error
        }
        try await httpGroup.shutdownGracefully()
    }
}

/// The parts of a node, built in the order they depend on each other: the WAL, its writers
/// and the alert tap, the ingest statistics, the registry and health, the coordinator, the
/// listeners. Each part gets what it needs at construction; nothing is attached later.
struct NodeParts {
    let configuration: ServeConfiguration
    let logger: Logger
    let wal: WriteAheadLog
    let writers: ShardWriters
    let alerts: AlertsRuntime
    let control: ControlPlaneRuntime
    let coordinator: ControlCoordinator
    let ingest: IngestServer
    let queryEngine: MetricsQueryEngine
    let queryRunner: QueryRunner

    init(_ configuration: ServeConfiguration, logger: Logger) throws {
        self.configuration = configuration
        self.logger = logger
        wal = try WriteAheadLog.open(dataDirectory: configuration.dataDirectory, options: configuration.wal, logger: logger)
        alerts = try AlertsRuntime(
            rulesPath: configuration.rulesPath, dataDirectory: configuration.dataDirectory, nodeID: configuration.nodeID,
            evaluationInterval: configuration.evaluationInterval, logger: logger)
        // A compressed native batch becomes one WAL batch: it must fit in a segment.
        var limits = configuration.limits
        limits.maxBatchBytes = min(limits.maxBatchBytes, configuration.wal.largestBatchPayload)
        writers = ShardWriters(wal: wal, limits: limits, threads: configuration.threads, tap: alerts.tap, logger: logger)
        let stats = IngestStats(
            shardCount: wal.shardCount, maxSources: configuration.registry.maxSources,
            sourceExpirySeconds: configuration.registry.sourceExpiry.components.seconds)
        let registry = DaemonRegistry(limits: configuration.registry)
        let control = ControlPlaneRuntime(
            registry: registry, wal: wal, writers: writers, stats: stats, topology: configuration.topology,
            thresholds: HealthThresholds(offlineAfter: configuration.offlineAfter, degradedLag: configuration.degradedLag))
        self.control = control
        coordinator = try ControlCoordinator(
            store: try FileControlStore(directory: configuration.dataDirectory + "/control/store"),
            settings: configuration.coordinatorSettings, clock: SystemEpochClock(), logger: logger,
            health: { control.daemonStates() }, throughput: { registry.throughputs() })
        ingest = IngestServer(
            writers: writers, stats: stats, limits: limits, bindHost: configuration.bindHost,
            ports: configuration.ports, tokens: configuration.tokens, nodeID: configuration.nodeID, observer: registry,
            control: coordinator, heartbeatMilliseconds: UInt32(configuration.heartbeatInterval.clampedNanoseconds / 1_000_000),
            threads: configuration.threads, logger: logger)
        queryEngine = MetricsQueryEngine(
            dataDirectory: configuration.dataDirectory,
            limits: PromQL.QueryLimits(maxSamples: configuration.queries.maxSamples, timeout: configuration.queries.timeout))
        queryRunner = QueryRunner(threads: configuration.queries.concurrency, capacity: configuration.queries.concurrency)
    }

    /// The node's services, in start order. A graceful shutdown stops them in reverse order,
    /// each after the one behind it has returned:
    /// 1. the HTTP API (appended by the caller) stops taking requests;
    /// 2. ingest drains: no new connections, what senders already sent is read, every batch
    ///    is sealed, written and synced, the last native acks go out;
    /// 3. alerting takes the last records the tap passed on, evaluates once more and saves its
    ///    state, so records drained at shutdown still reach the rules;
    /// 4. the coordinator commits what is pending and stops;
    /// 5. the WAL flusher makes its last group commit and the WAL closes.
    func services(readiness: Readiness) -> [any Service] {
        [
            WALService(wal: wal, writers: writers, logger: logger),
            CoordinatorService(coordinator: coordinator),
            AlertsService(
                control: control, alerts: alerts, interval: configuration.evaluationInterval,
                dataDirectory: configuration.dataDirectory, logger: logger),
            IngestService(ingest: ingest, readiness: readiness, logger: logger),
        ]
    }

    /// The routes of the HTTP API (docs/api.md). Tests drive it in-process, without sockets.
    func router() -> Router<HyphaRequestContext> {
        let router = Router(context: HyphaRequestContext.self)
        // Every route that changes state (each PUT and POST under /api/v1/) goes in one group,
        // behind the admin token when one is configured.
        let admin = router.group("/api/v1")
        if let token = configuration.adminToken { admin.add(middleware: AdminTokenMiddleware(token: token)) }
        HTTPAPI(ingest: ingest, wal: wal, configuration: configuration, alerts: alerts, coordinator: coordinator).add(to: router)
        ControlAPI(control: control, coordinator: coordinator, alerts: alerts).add(to: router, admin: admin)
        TasksAPI(coordinator: coordinator).add(to: router, admin: admin)
        ConfigAPI(coordinator: coordinator).add(to: router, admin: admin)
        LogsAPI(dataDirectory: configuration.dataDirectory, limits: configuration.queries).add(to: router)
        MetricsQueryAPI(engine: queryEngine, runner: queryRunner, maxBodyBytes: configuration.maxBodyBytes).add(to: router)
        return router
    }

    /// The HTTP API as a service on its own event loop group.
    func httpApplication(port: Int, group: MultiThreadedEventLoopGroup, readiness: Readiness) -> some Service {
        Application(
            router: router(),
            configuration: .init(address: .hostname(configuration.bindHost, port: port), serverName: "hypha"),
            onServerRunning: { channel in
                readiness.report(["http": channel.localAddress.map { "\($0.ipAddress ?? ""):\($0.port ?? 0)" } ?? ""])
            },
            eventLoopGroupProvider: .shared(group),
            logger: logger)
    }
}
