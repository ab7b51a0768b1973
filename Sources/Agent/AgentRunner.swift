public import Logging
import Platform
import ServiceLifecycle
import UnixSignals
import WAL
import Wire

/// `hypha agent`: opens the spool, starts the inputs, keeps a session to a node, and on SIGTERM
/// or SIGINT stops reading, sends what it can within the drain timeout and keeps the rest in
/// the spool for the next start.
public enum AgentRunner {
    /// Runs the agent until SIGTERM or SIGINT.
    /// - Throws: ``AgentError`` when the settings are unusable or the spool cannot be opened.
    public static func run(_ configuration: AgentConfiguration, logger: Logger) async throws {
        let servers = try configuration.serverAddresses()
        _ = try configuration.labelMap()
        let spool: Spool
        do { spool = try Spool(directory: configuration.spoolDirectory, maxBytes: configuration.spoolMaxBytes, logger: logger) } catch {
            throw AgentError("cannot open the spool in \(configuration.spoolDirectory): \(error)")
        }
        let incarnation: DaemonIncarnation
        let configs: AppliedConfigs
        do {
            incarnation = try Incarnation.load(directory: configuration.spoolDirectory, fresh: spool.isNew)
            configs = try AppliedConfigs(directory: configuration.spoolDirectory + "/config", logger: logger)
        } catch {
            throw AgentError("cannot read the spool's state in \(configuration.spoolDirectory): \(error)")
        }
        var effective = configuration
        do { effective = try configs.configuration(base: configuration) } catch {
            logger.error("config: the applied documents no longer validate; using the command line's settings", metadata: ["error": "\(error)"])
        }
        spool.setMaxBytes(effective.spoolMaxBytes)
        let core = AgentCore(configuration: effective, base: configuration, configs: configs, spool: spool, incarnation: incarnation, logger: logger)
        let connector = Connector(core: core, servers: servers, configuration: configuration, labels: try effective.labelMap(), logger: logger)
        core.whenLabelsChange { connector.relabel($0) }
        logger.info("hypha agent started", metadata: [
            "agent.id": "\(configuration.id)", "spool": "\(configuration.spoolDirectory)", "incarnation": "\(incarnation)",
            "servers": "\(configuration.servers.joined(separator: ","))", "spool.backlog_bytes": "\(spool.backlogBytes)",
        ])
        let service = AgentService(core: core, connector: connector, drainTimeout: configuration.drainTimeout, logger: logger)
        let group = ServiceGroup(configuration: .init(
            services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

/// The agent's life under ServiceLifecycle: run until the shutdown signal, then drain.
private struct AgentService: Service {
    let core: AgentCore
    let connector: Connector
    let drainTimeout: Duration
    let logger: Logger

    func run() async throws {
        core.start()
        let connections = Task { await connector.run() }
        try? await gracefulShutdown()
        logger.info("stopping: inputs stop reading, the spool drains", metadata: ["drain_timeout_s": "\(drainTimeout.components.seconds)"])
        core.stopInputs()
        let deadline = MonotonicClock.nanoseconds() + drainTimeout.clampedNanoseconds
        while !core.isDrained, MonotonicClock.nanoseconds() < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
        connector.stop()
        connections.cancel()
        await connections.value
        core.stop()
        let kept = core.spool.backlogBytes
        do { try core.spool.close() } catch {
            logger.error("spool: cannot close cleanly; the next start recovers it", metadata: ["error": "\(error)"])
        }
        if core.isDrained {
            logger.info("stopped: everything read was acknowledged by the node")
        } else {
            logger.warning("stopped: unacknowledged batches stay in the spool and are sent at the next start", metadata: ["spool.backlog_bytes": "\(kept)"])
        }
    }
}
