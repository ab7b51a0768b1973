public import ArgumentParser
import Glibc
import Ingest
public import Logging

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a Hypha node on a data directory.",
        discussion: """
            Opens (and recovers) the write-ahead log under --data, then runs until SIGTERM or \
            SIGINT, when it syncs every shard and exits 0. Recovery never refuses to start: a torn \
            tail is cut back to the last valid batch and damage in the middle is quarantined and \
            reported.
            """
    )

    @OptionGroup var data: DataDirectoryOption
    @OptionGroup var wal: WALSettings

    @Option(help: "Address to bind listeners to (loopback by default).")
    var bind: String = "127.0.0.1"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    func run() throws {
        let options = try wal.options()
        var logger = Logger(label: "hypha")
        logger.logLevel = logLevel
        let signals = SignalWaiter(blocking: [SIGTERM, SIGINT])
        let log = try WriteAheadLog.open(dataDirectory: data.directory, options: options, logger: logger)
        let segments = log.recovery.shards.reduce(0) { $0 + $1.count }
        let records = log.recovery.shards.joined().reduce(0) { $0 + $1.records }
        logger.info("hypha node ready", metadata: [
            "data": "\(data.directory)", "shards": "\(options.shardCount)", "segments": "\(segments)",
            "records": "\(records)", "durability": "\(options.durability)", "bind": "\(bind)",
            "recovery.problems": "\(log.recovery.problems.count)",
        ])
        let signal = signals.wait()
        logger.info("shutting down", metadata: ["signal": "\(signal)"])
        try log.close()
        logger.info("write-ahead log synced and closed")
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// Blocks the given signals in every thread started afterwards and waits for one of them.
struct SignalWaiter {
    private var set = sigset_t()

    init(blocking signals: [Int32]) {
        sigemptyset(&set)
        for s in signals { sigaddset(&set, s) }
        pthread_sigmask(SIG_BLOCK, &set, nil)
    }

    func wait() -> Int32 {
        var set = self.set
        var received: Int32 = 0
        sigwait(&set, &received)
        return received
    }
}
