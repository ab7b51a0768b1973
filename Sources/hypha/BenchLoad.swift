public import ArgumentParser
public import Bench

extension LoadProtocol: ExpressibleByArgument {}

/// `hypha bench load`: the separate load process of `hypha bench throughput` (hidden).
struct BenchLoad: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Send pre-generated realistic records to a listener and print one JSON line of figures.",
        discussion: """
            The load process of `hypha bench throughput`, usable on its own. It first generates \
            every connection's data (not measured), then connects --connections sockets and sends \
            on one thread each, in big writes. Syslog: RFC 5424 lines of --size bytes (newline \
            included) from several applications; json: JSON log lines of about --size bytes (never below the ~180 bytes of their fixed members); influx: \
            Telegraf-style lines over 1,000 series, each with as many fields as fit in --size \
            (--records counts samples); graphite: one sample per line, natural size (--size is \
            ignored); native: HELLO, then pipelined BATCHes of --batch-records records of --size \
            bytes each, at most --window unanswered per connection, one producer id per \
            connection, waiting for every ACK (latency = batch send → its ACK, HdrHistogram).

            Prints one JSON line on stdout: protocol, connections, records, lines, bytes, seconds, \
            records_per_second, start_unix_ns, end_unix_ns, generate_seconds, distinct_records, \
            cpu_seconds, and for native acked_records, duplicate_batches, window, batch_records \
            and latency_us {count, p50, p90, p99, p999, max, mean}.
            """,
        shouldDisplay: false
    )

    @Option(name: .customLong("protocol"), help: "The protocol of the load.")
    var proto: LoadProtocol

    @Option(help: "Listener address.") var host = "127.0.0.1"
    @Option(help: "Listener port.") var port: Int
    @Option(help: "TCP connections, one sending thread each.") var connections = 2
    @Option(help: "Records to send in total (Influx: samples).") var records: Int
    @Option(help: "Bytes per record on the wire (lines: newline included).") var size = 200
    @Option(help: "Seed of the generated data.") var seed: UInt64 = 42
    @Option(help: "Native HELLO token.") var token = ""
    @Option(help: "Records per second over all connections (default: as fast as possible).") var rate: Double?
    @Option(help: "Native: most unanswered batches per connection. ACK latency grows with it (about window × batch-records × connections / rate): a deep window measures the client's own queue.") var window = 8
    @Option(help: "Native: records per BATCH.") var batchRecords = 500
    @Option(help: "Distinct pre-generated data per connection, MiB (the rest repeats it).") var poolMib = 16
    @Option(help: "Seconds one write or read may block before the run fails.") var ioTimeout = 120

    func validate() throws {
        guard (1 ... 65535).contains(port) else { throw ValidationError("--port must be 1 to 65535") }
        guard records >= 1 else { throw ValidationError("--records must be at least 1") }
        guard (1 ... 1024).contains(connections) else { throw ValidationError("--connections must be 1 to 1024") }
        guard (64 ... 60_000).contains(size) else { throw ValidationError("--size must be 64 to 60000 bytes") }
        guard (1 ... 65_535).contains(batchRecords) else { throw ValidationError("--batch-records must be 1 to 65535") }
        guard window >= 1 else { throw ValidationError("--window must be at least 1") }
        guard poolMib >= 1 else { throw ValidationError("--pool-mib must be at least 1") }
        if let rate, !(rate > 0) { throw ValidationError("--rate must be positive") }
    }

    func run() throws {
        let options = LoadOptions(
            proto: proto, host: host, port: port, connections: connections, records: records, size: size, seed: seed,
            token: token, rate: rate, window: window, batchRecords: batchRecords, poolBytes: poolMib << 20,
            ioTimeoutSeconds: ioTimeout)
        let result = try LoadGenerator(options: options).run()
        print(result.jsonLine())
    }
}
