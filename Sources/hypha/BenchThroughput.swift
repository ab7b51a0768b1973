import ArgumentParser
import Bench
import Foundation

/// `hypha bench throughput`: a node, a separate load process, and the figures.
struct BenchThroughput: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "throughput",
        abstract: "Measure ingest throughput, server CPU and memory, and native ACK latency.",
        discussion: """
            Without --target: starts `hypha serve` on a temporary data directory (all listeners \
            on free loopback ports; --durability, --codec, --shards passed on), then runs the \
            load as a separate process (`hypha bench load`: realistic pre-generated data, one \
            thread per connection). Every 100 ms it samples the node's durable-record counter, \
            CPU time and memory. It waits until every record is durable (native: every batch \
            acknowledged; other protocols: the counter reaches the records sent) and reports \
            records/s and MB/s (bytes sent, 10^6 B), server CPU seconds per million records (= \
            µs per record), peak server RSS, and for native the ACK latency percentiles. The \
            time runs from the load's first byte to the last record durable (native: last ACK). \
            Then it stops the node (SIGTERM) and deletes the directory.

            With --target HOST:PORT only the load runs, against that listener: no server CPU or \
            memory, and the rate is the loader's own (for line protocols: bytes written, not \
            confirmed durable).

            --json prints one object: benchmark, protocol, mode, target, durable_confirmed, \
            connections, records, size_bytes, durability, codec, shards, payload_bytes, \
            bytes_per_record, seconds, records_per_second, mb_per_second, server_cpu_seconds, \
            server_cpu_seconds_per_million_records, server_cpu_us_per_record, \
            server_peak_rss_mib, durable_records, load_seconds, load_cpu_seconds, \
            generate_seconds, timeline_samples, peak_sample_records_per_second, plot, and for \
            native acked_records, window, batch_records, ack_latency_{p50,p90,p99,p999,max,mean}_us.
            """
    )

    @Option(name: .customLong("protocol"), help: "The protocol of the load.")
    var proto: LoadProtocol

    @Option(help: "TCP connections of the load.") var connections = 2
    @Option(help: "Records to send (Influx: samples).") var records = 2_000_000
    @Option(help: "Bytes per record on the wire (graphite: ignored, lines keep their natural size).") var size = 200
    @Option(help: "The node's durability: none, interval or batch.") var durability = "interval"
    @Option(help: "The node's batch compression: lz4, zstd or none.") var codec = "lz4"
    @Option(help: "The node's WAL shards.") var shards = 4
    @Option(help: "HOST:PORT of an external listener: run only the load against it.") var target: String?
    @Flag(help: "Print one JSON object instead of text.") var json = false
    @Option(help: "Write an SVG plot (throughput over time; native: latency percentiles) to this file.") var plot: String?
    @Option(help: "Fail the run after this many seconds.") var timeout: Double = 600
    @Option(help: "Seed of the generated data.") var seed: UInt64 = 42
    @Option(help: "Native HELLO token (for a --target that requires one).") var token = ""
    @Option(help: "Limit the load to this many records per second.") var rate: Double?
    @Option(help: "Native: most unanswered batches per connection. ACK latency grows with it (about window × batch-records × connections / rate): a deep window measures the client's own queue.") var window = 8
    @Option(help: "Native: records per BATCH.") var batchRecords = 500
    @Option(help: "Distinct pre-generated data per connection, MiB (the rest repeats it).") var poolMib = 16
    @Flag(inversion: .prefixedNo, help: "One-line progress on standard error (default: when it is a terminal).") var progress: Bool?
    @Option(name: .customLong("server-arg"), help: "An extra argument for the local node, e.g. --server-arg=--rules --server-arg=rules.yaml (repeatable).")
    var serverArguments: [String] = []

    func validate() throws {
        guard ["none", "interval", "batch"].contains(durability) else { throw ValidationError("--durability must be none, interval or batch") }
        guard ["lz4", "zstd", "none"].contains(codec) else { throw ValidationError("--codec must be lz4, zstd or none") }
        guard records >= 1 else { throw ValidationError("--records must be at least 1") }
        guard (1 ... 1024).contains(connections) else { throw ValidationError("--connections must be 1 to 1024") }
        guard (64 ... 60_000).contains(size) else { throw ValidationError("--size must be 64 to 60000 bytes") }
        guard shards >= 1 else { throw ValidationError("--shards must be at least 1") }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if let target, ThroughputRunner.parseHostPort(target) == nil { throw ValidationError("--target must be HOST:PORT") }
    }

    func run() throws {
        var o = ThroughputOptions(proto: proto)
        o.connections = connections
        o.records = records
        o.size = size
        o.durability = durability
        o.codec = codec
        o.shards = shards
        o.target = target
        o.seed = seed
        o.token = token
        o.rate = rate
        o.window = window
        o.batchRecords = batchRecords
        o.poolMiB = poolMib
        o.timeoutSeconds = timeout
        o.plotPath = plot
        o.progress = progress
        o.serverArguments = serverArguments
        let result = try ThroughputRunner(options: o).run()
        print(json ? result.jsonLine() : result.humanReport())
    }
}
