import Control
import Ingest
import Logging
import ServiceLifecycle
import UnixSignals

/// The control plane's timers and signals as a service: the registry absorbs the ingest stats
/// once a second, the alert rules are evaluated every interval, SIGHUP reloads the rules and
/// reopens the file hooks (logrotate). On graceful shutdown, once ingest has drained, the
/// records the tap still holds reach the engine, a last evaluation runs, the state is saved
/// and the queued notifications are delivered.
struct AlertsService: Service {
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
                    evaluate(snapshot)
                    nextEvaluation += interval
                    // After a stall, evaluate again one interval from now rather than in a burst.
                    if nextEvaluation < ContinuousClock.now { nextEvaluation = ContinuousClock.now + interval }
                }
            }
            group.cancelAll()
        }
        alerts.drainTap()
        evaluate(control.stats.snapshot)
        alerts.shutdown()
    }

    private func evaluate(_ snapshot: IngestStats.Snapshot) {
        alerts.evaluate(health: control.health(stats: snapshot), stats: snapshot, dataDirectory: dataDirectory)
    }
}
