import Ingest
import Logging
import ServiceLifecycle
import WAL

/// The write-ahead log as a service: in `interval` mode it runs the group commit
/// (``WALFlusher``), reporting durability to the shard writers; on graceful shutdown, after
/// every other service has stopped, it makes a last group commit and closes the log.
struct WALService: Service {
    let wal: WriteAheadLog
    let writers: ShardWriters
    let logger: Logger

    func run() async throws {
        let writers = self.writers
        let flusher = wal.options.durability == .interval
            ? WALFlusher(wal: wal, logger: logger) { writers.durable(shard: $0, upTo: $1) }
            : nil
        try? await gracefulShutdown()
        flusher?.stop()
        try wal.close()
        logger.info("write-ahead log synced and closed")
    }
}
