import ArgumentParser
import Glibc
import WAL
import Logging
import Server
import Settings
import Workload

struct WAL: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal",
        abstract: "Read a data directory's write-ahead log offline.",
        subcommands: [Verify.self, Inspect.self, Dump.self, StressWriter.self]
    )
}

struct Verify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check every batch's header and payload CRC; exit 0 when clean, 1 when corruption is found.",
        discussion: """
            Prints shards, segments, batches, records and bytes, then each problem with its path and \
            offset. Nothing is changed. Ranges an earlier recovery already quarantined are listed as \
            known and, unless --strict, do not make the exit status 1.
            """
    )
    @OptionGroup var data: DataDirectoryOption
    @Flag(help: "Count already-quarantined ranges as corruption too.") var strict = false

    func run() throws {
        let report = try WALVerifier.scan(dataDirectory: data.directory)
        let segments = report.shards.joined()
        print("shards \(report.shards.count)")
        print("segments \(segments.count)")
        print("batches \(segments.reduce(0) { $0 + $1.batches })")
        print("records \(segments.reduce(0) { $0 + $1.records })")
        print("bytes \(segments.reduce(0) { $0 + $1.storedBytes })")
        for problem in report.problems {
            print("problem \(problem.known ? "(quarantined) " : "")\(problem.path) offset \(problem.offset) length \(problem.length): \(problem.reason)")
        }
        let bad = strict ? report.problems : report.newProblems
        print(bad.isEmpty ? "clean" : "corrupt: \(bad.count) problem(s)")
        if !bad.isEmpty { throw ExitCode(1) }
    }
}

struct Inspect: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Per shard: segments, sequence ranges, time ranges, codecs and compression ratio."
    )
    @OptionGroup var data: DataDirectoryOption

    func run() throws {
        let report = try WALVerifier.scan(dataDirectory: data.directory)
        for (shard, segments) in report.shards.enumerated() {
            let records = segments.reduce(0) { $0 + $1.records }
            let stored = segments.reduce(0) { $0 + $1.storedBytes }
            let raw = segments.reduce(0) { $0 + $1.uncompressedBytes }
            print("shard \(shard): \(segments.count) segment(s), \(records) records, \(stored) bytes stored, ratio \(ratio(raw, stored))")
            for s in segments {
                let codecs = zip(WALCodec.allCases, s.codecBatches).filter { $0.1 > 0 }.map { "\($0.0)=\($0.1)" }
                let time = s.records == 0 ? "no records" : "\(RecordJSON.rfc3339(s.minTimestamp)) .. \(RecordJSON.rfc3339(s.maxTimestamp))"
                print("  \(s.path)")
                print("    seq \(s.baseSequence) ..< \(s.endSequence)  batches \(s.batches)  records \(s.records)")
                print("    time \(time)")
                print("    codec \(codecs.isEmpty ? "-" : codecs.joined(separator: " "))  bytes \(s.storedBytes)  ratio \(ratio(s.uncompressedBytes, s.storedBytes))")
            }
        }
        for problem in report.problems { print("problem \(problem)") }
    }

    private func ratio(_ raw: Int, _ stored: Int) -> String {
        guard stored > 0 else { return "-" }
        let r = Double(raw) / Double(stored)
        return String(Int(r * 100) / 100) + "." + String(format2(Int(r * 100) % 100)) + "x"
    }

    private func format2(_ v: Int) -> String { v < 10 ? "0\(v)" : "\(v)" }
}

struct Dump: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print records as JSON lines, in sequence order per shard."
    )
    @OptionGroup var data: DataDirectoryOption
    @Option(help: "Only this shard (default: all, one after another).") var shard: Int?
    @Option(help: "Start at this sequence.") var fromSeq: UInt64 = 0
    @Option(help: "Stop after this many records.") var limit: Int?

    func run() throws {
        let reader = try WALReader(dataDirectory: data.directory)
        if let shard, !(0 ..< reader.shardCount).contains(shard) {
            throw ValidationError("--shard must be between 0 and \(reader.shardCount - 1)")
        }
        var remaining = limit ?? .max
        let shards = shard.map { [$0] } ?? Array(0 ..< reader.shardCount)
        var output = OutputBuffer()
        for s in shards where remaining > 0 {
            try reader.forEachBatch(shard: s, fromSequence: fromSeq) { batch in
                var cursor = try reader.records(of: batch)
                var sequence = batch.header.baseSequence
                while remaining > 0, let record = try cursor.next() {
                    if sequence >= fromSeq {
                        output.write(RecordJSON.line(shard: s, sequence: sequence, record: record))
                        remaining -= 1
                    }
                    sequence += 1
                }
                return remaining > 0
            }
        }
        output.flush()
    }
}

/// Buffers lines to stdout.
struct OutputBuffer {
    private var pending: [UInt8] = []

    mutating func write(_ line: String) {
        pending.append(contentsOf: line.utf8)
        pending.append(10)
        if pending.count >= 1 << 16 { flush() }
    }

    mutating func flush() {
        var done = 0
        while done < pending.count {
            let n = pending.withUnsafeBytes { Glibc.write(1, $0.baseAddress! + done, $0.count - done) }
            if n <= 0 { break }
            done += n
        }
        pending.removeAll(keepingCapacity: true)
    }
}

/// Appends generated batches and prints `shard base count` for each append as soon as it
/// returns: the child process of the crash test (which SIGKILLs it) and a quick way to fill a
/// data directory for trying the other commands.
struct StressWriter: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stress-writer",
        abstract: "Append generated syslog batches and print each acknowledged sequence (for tests).",
        usage: "hypha wal stress-writer [--data <data>] [<options>] [--<WAL setting> <value> ...]",
        discussion: "The write-ahead log's settings are those of hypha serve:\n\n"
            + WALOptions.settings.help(defaults: WALOptions()),
        shouldDisplay: false
    )
    @OptionGroup var data: DataDirectoryOption
    @Option(help: "Batches to append (0 = until killed).") var batches: Int = 0
    @Option(help: "Uncompressed bytes per batch.") var batchBytes: Int = 16384
    @Option(help: "Codec for every batch.") var codec: WALCodec = .lz4
    @Option(help: "Seed for the generated records.") var seed: UInt64 = 1
    @Option(help: "Generate this many distinct batches up front and cycle through them (0 = generate every batch; cycling fills large logs quickly).")
    var distinct: Int = 0
    @Flag(help: "Print nothing per batch.") var quiet = false
    /// The WAL setting flags, read with ``WALOptions/settings``.
    @Argument(parsing: .allUnrecognized, help: .hidden) var walSettings: [String] = []

    func run() throws {
        var options = WALOptions()
        do { try WALOptions.settings.apply(arguments: walSettings, to: &options) } catch { throw ValidationError("\(error)") }
        let log = try WriteAheadLog.open(dataDirectory: data.directory, options: options, logger: .init(label: "hypha"))
        var corpus = SyslogCorpus(seed: seed)
        var output = OutputBuffer()
        let prepared = (0 ..< max(0, distinct)).map { _ in corpus.nextBatch(targetBytes: batchBytes) }
        var n = 0
        while batches == 0 || n < batches {
            var draft = prepared.isEmpty ? corpus.nextBatch(targetBytes: batchBytes) : prepared[n % prepared.count]
            draft.codec = codec
            let shard = n % log.shardCount
            if case .appended(let base, let count, _) = try log.shard(shard).append(draft), !quiet {
                output.write("\(shard) \(base) \(count)")
                output.flush()
            }
            n += 1
        }
        try log.close()
    }
}
