import NIOCore
import Ingest
import Logging
import ServiceLifecycle

/// The ingest listeners as a service: binds on start and reports the addresses; on graceful
/// shutdown drains (``IngestServer/shutdown()``) before the services behind it stop.
struct IngestService: Service {
    let ingest: IngestServer
    let readiness: Readiness
    let logger: Logger

    func run() async throws {
        let bound = try await ingest.start()
        readiness.report(bound.mapValues { "\($0.ipAddress ?? ""):\($0.port ?? 0)" })
        try? await gracefulShutdown()
        logger.info("draining: no new connections; sealing, writing and syncing every batch")
        try await ingest.shutdown()
        let lost = ingest.lostRecords
        if lost == 0 {
            logger.info("drained: every accepted record is in the write-ahead log")
        } else {
            logger.error("drained, but \(lost) accepted records could not be written to the write-ahead log (see the errors above): they are lost")
        }
    }
}
