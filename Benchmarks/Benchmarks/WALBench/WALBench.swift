// Hypha WAL benchmarks: codecs, CRC32C, appends under each durability mode, recovery scan and
// a full decode of a prebuilt log.
//
// Run from the repository root:
//     swift package --package-path Benchmarks benchmark --target WALBench
// or from Benchmarks/:
//     swift package benchmark --target WALBench
// One benchmark only: add `--filter "recovery scan"`. Temp files go to $HYPHA_BENCH_DIR, or the
// system temp directory (on ext4 here, so msync/fsync in `batch` mode do real I/O).
//
// HOW TO READ THE FIGURES
// Every benchmark reports a custom metric in MB/s (10^6 bytes per second) computed from the
// measured part of each sample, so no conversion is needed:
//   - "MB/s input"  compress, append, CRC, full decode: uncompressed record bytes;
//                   decompress: uncompressed bytes produced.
//   - "MB/s WAL"    recovery scan: WAL bytes scanned (segment headers, batch headers and stored,
//                   compressed payloads, i.e. the sum of the segments' data ends; the all-zero
//                   preallocated tail that is also checked is not counted).
// For `prefersLarger` metrics (the MB/s ones and `Throughput`) the table lists the BEST sample
// under p0 and the worst under p100; for times, p0 is the fastest too. p50 is the median.
//
// `Throughput (# / s)` counts samples per second. One sample ("operation") is ONE PASS OVER ALL
// 32 DISTINCT ~64 KiB BATCHES (`scalingFactor: .one`), i.e. `corpusBytes` of uncompressed input
// (2,099,474 B in 17,570 records with seed 42; it depends only on the seed and the record
// encoding). So:
//     MB/s of uncompressed input = throughput × corpusBytes / 1e6 = corpusBytes / 1e3 / wall-clock µs
// (throughput is rounded to an integer per sample, so the MB/s metric is the more precise one).
// For "recovery scan" and "full decode" one sample is one pass over the whole prebuilt WAL
// (268,486,958 B uncompressed in 4,093 batches and 2,247,059 records; 105,953,669 B of WAL in
// two 64 MiB segments): MB/s = bytes / 1e3 / wall-clock µs, with the byte counts of the
// prebuilt log (the custom metrics do exactly this).
//
// `Malloc (total)` includes about 16 mallocs per sample made by the harness itself (the CRC32C
// benchmark, which allocates nothing, shows the floor). `Time (total CPU)` is process CPU time with
// 10 ms granularity: meaningful only for the ~100 ms "full decode" samples.
//
// Inputs are distinct in every iteration: 32 different batches of realistic syslog records from
// `SyslogCorpus` are visited in turn (compressing one buffer again and again trains the branch
// predictor and about doubles the measured speed, as measured when this harness was set up). The closure is
// re-entered for every sample, so nothing rotates through a counter kept in it.

import Benchmark
import Foundation
import Platform
import WAL
import Logging
import Workload

// MARK: - Inputs (built once per process, outside any measurement)

/// Number of distinct batches visited per iteration.
let batchCount = 32
/// Target uncompressed size of one batch.
let batchTarget = 64 << 10

/// 32 distinct ~64 KiB batches of encoded syslog records, codec lz4, plus one more (`corpus.spare`)
/// used to warm up a fresh WAL before its measurement starts.
let corpus: (drafts: [BatchDraft], spare: BatchDraft) = {
    var c = SyslogCorpus(seed: 42)
    var drafts: [BatchDraft] = []
    for _ in 0 ..< batchCount {
        var d = c.nextBatch(targetBytes: batchTarget)
        d.codec = .lz4
        drafts.append(d)
    }
    var spare = c.nextBatch(targetBytes: batchTarget)
    spare.codec = .lz4
    return (drafts, spare)
}()

let drafts = corpus.drafts
let payloads: [[UInt8]] = drafts.map(\.payload)
/// Uncompressed bytes in one pass over the 32 batches (one "operation").
let corpusBytes = payloads.reduce(0) { $0 + $1.count }

/// The 32 payloads compressed with `codec`, for the decompression benchmarks.
func compressedPayloads(_ codec: WALCodec) -> [[UInt8]] {
    let context = CodecContext()
    return payloads.map { payload in
        do { return try context.compress(payload, codec: codec) } catch { fatalError("\(codec) compress failed: \(error)") }
    }
}

let lz4Payloads = compressedPayloads(.lz4)
let zstdPayloads = compressedPayloads(.zstd)

let logger = Logger(label: "bench")

/// With HYPHA_BENCH_VERBOSE set, input sizes go to stderr (e.g. to check `corpusBytes` when
/// running `.build/release/WALBench --filter ...` directly).
let verbose = ProcessInfo.processInfo.environment["HYPHA_BENCH_VERBOSE"] != nil

func note(_ message: String) {
    if verbose { FileHandle.standardError.write(Data(("WALBench: " + message + "\n").utf8)) }
}

// MARK: - Metrics and configurations

let inputRate = BenchmarkMetric.custom("MB/s input", polarity: .prefersLarger, useScalingFactor: false)
let walRate = BenchmarkMetric.custom("MB/s WAL", polarity: .prefersLarger, useScalingFactor: false)
/// Size of the prebuilt WAL (constant; shown so the MB/s figures can be checked).
let walMegabytes = BenchmarkMetric.custom("WAL size (MB)", polarity: .prefersLarger, useScalingFactor: false)
let uncompressedMegabytes = BenchmarkMetric.custom("uncompressed size (MB)", polarity: .prefersLarger, useScalingFactor: false)
let recordsK = BenchmarkMetric.custom("records (K)", polarity: .prefersLarger, useScalingFactor: false)
/// Compression ratio × 100 (uncompressed / compressed), recorded by the compress benchmarks.
let ratio = BenchmarkMetric.custom("ratio x100", polarity: .prefersLarger, useScalingFactor: false)

func configuration(
    _ extra: [BenchmarkMetric], seconds: Int = 3, maxIterations: Int = 1_000, warmup: Int = 3
) -> Benchmark.Configuration {
    Benchmark.Configuration(
        metrics: [.throughput, .wallClock, .cpuTotal, .mallocCountTotal] + extra,
        warmupIterations: warmup,
        scalingFactor: .one,
        maxDuration: .seconds(seconds),
        maxIterations: maxIterations
    )
}

/// Records `bytes` over the time since `start` as MB/s (10^6 B/s) in `metric`.
func recordRate(_ benchmark: Benchmark, _ metric: BenchmarkMetric, bytes: Int, since start: ContinuousClock.Instant) {
    let elapsed = start.duration(to: .now)
    let ns = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
    guard ns > 0 else { return }
    benchmark.measurement(metric, Int((Double(bytes) * 1e3 / ns).rounded()))
}

// MARK: - Temp directories

let tempBase = ProcessInfo.processInfo.environment["HYPHA_BENCH_DIR"] ?? FileManager.default.temporaryDirectory.path

func makeTempDirectory(_ tag: String) -> String {
    let path = tempBase + "/hypha-walbench-\(tag)-\(UUID().uuidString)"
    do {
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    } catch {
        fatalError("cannot create \(path): \(error)")
    }
    return path
}

func removeDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

// MARK: - The prebuilt WAL for "recovery scan" and "full decode"

/// A WAL of ~256 MiB of uncompressed records (lz4, durability none, default 64 MiB segments)
/// written once, on first use, into a temp directory that is removed when the process exits.
struct PrebuiltWAL: Sendable {
    let directory: String
    let batches: Int
    let records: Int
    let uncompressedBytes: Int
    /// Sum of the segments' data ends: what a scan walks through.
    let walBytes: Int
    let segments: Int
}

let prebuiltTarget = 256 << 20

/// Created on first use; removed when the process exits.
let prebuiltDirectory = makeTempDirectory("prebuilt")

let prebuiltWAL: PrebuiltWAL = {
    let directory = prebuiltDirectory
    atexit { removeDirectory(prebuiltDirectory) }
    // A different seed from the 32 benchmark batches; every batch of the log is distinct.
    var c = SyslogCorpus(seed: 7)
    var batches = 0
    var records = 0
    var uncompressed = 0
    do {
        let wal = try WriteAheadLog.open(
            dataDirectory: directory,
            options: WALOptions(shardCount: 1, durability: .none, retention: .unlimited),
            logger: logger)
        let shard = wal.shard(0)
        while uncompressed < prebuiltTarget {
            var draft = c.nextBatch(targetBytes: batchTarget)
            draft.codec = .lz4
            _ = try shard.append(draft)
            batches += 1
            records += draft.recordCount
            uncompressed += draft.payload.count
        }
        let segments = shard.segments
        let walBytes = shard.storedBytes
        try wal.close()
        note("prebuilt WAL: \(batches) batches, \(records) records, \(uncompressed) bytes uncompressed, \(walBytes) bytes in \(segments.count) segments")
        return PrebuiltWAL(
            directory: directory, batches: batches, records: records, uncompressedBytes: uncompressed,
            walBytes: walBytes, segments: segments.count)
    } catch {
        fatalError("cannot build the prebuilt WAL in \(directory): \(error)")
    }
}()

// MARK: - Benchmarks

let benchmarks: @Sendable () -> Void = {
    if verbose {
        let records = drafts.reduce(0) { $0 + $1.recordCount }
        note("corpus: \(batchCount) batches, \(records) records, \(corpusBytes) bytes uncompressed")
        note("lz4: \(lz4Payloads.reduce(0) { $0 + $1.count }) bytes, zstd: \(zstdPayloads.reduce(0) { $0 + $1.count }) bytes")
    }
    // Codecs: one CodecContext per sample (contexts are reused across calls, as a writer does).
    for codec in [WALCodec.lz4, .zstd] {
        Benchmark("\(codec) compress 64KiB", configuration: configuration([inputRate, ratio])) { benchmark in
            let context = CodecContext()
            var compressed = 0
            benchmark.startMeasurement()
            let start = ContinuousClock.now
            for _ in benchmark.scaledIterations {
                for payload in payloads {
                    let out = try context.compress(payload, codec: codec)
                    compressed += out.count
                    blackHole(out)
                }
            }
            benchmark.stopMeasurement()
            recordRate(benchmark, inputRate, bytes: corpusBytes * benchmark.scaledIterations.count, since: start)
            benchmark.measurement(ratio, corpusBytes * benchmark.scaledIterations.count * 100 / max(compressed, 1))
        }

        let inputs = codec == .lz4 ? lz4Payloads : zstdPayloads
        Benchmark("\(codec) decompress 64KiB", configuration: configuration([inputRate])) { benchmark in
            let context = CodecContext()
            benchmark.startMeasurement()
            let start = ContinuousClock.now
            for _ in benchmark.scaledIterations {
                for i in 0 ..< batchCount {
                    blackHole(try context.decompress(inputs[i], codec: codec, originalLength: payloads[i].count))
                }
            }
            benchmark.stopMeasurement()
            recordRate(benchmark, inputRate, bytes: corpusBytes * benchmark.scaledIterations.count, since: start)
        }
    }

    Benchmark("crc32c 64KiB", configuration: configuration([inputRate])) { benchmark in
        benchmark.startMeasurement()
        let start = ContinuousClock.now
        for _ in benchmark.scaledIterations {
            for payload in payloads {
                blackHole(CRC32C.checksum(payload))
            }
        }
        benchmark.stopMeasurement()
        recordRate(benchmark, inputRate, bytes: corpusBytes * benchmark.scaledIterations.count, since: start)
    }

    // Appends: a fresh temp dir and WAL per sample. The spare batch is appended before the
    // measurement starts, so the once-per-segment roll (create, posix_fallocate of 256 MiB, fsync
    // of the file and directory) is not measured; the 32 measured appends compress (lz4) into a
    // scratch buffer and pwrite it into the segment's page cache. Measurement stops before close(), so the
    // final msync done by close() is excluded; in `interval` mode the flusher thread's msyncs run
    // concurrently (their CPU is in "CPU total", not on the appending thread's path).
    for durability in [Durability.none, .interval, .batch] {
        Benchmark(
            "wal append lz4 64KiB \(durability)",
            configuration: configuration([inputRate], maxIterations: 500)
        ) { benchmark in
            let directory = makeTempDirectory("append-\(durability)")
            defer { removeDirectory(directory) }
            let wal = try WriteAheadLog.open(
                dataDirectory: directory,
                options: WALOptions(shardCount: 1, segmentSize: 256 << 20, durability: durability, retention: .unlimited),
                logger: logger)
            let shard = wal.shard(0)
            _ = try shard.append(corpus.spare)
            benchmark.startMeasurement()
            let start = ContinuousClock.now
            for _ in benchmark.scaledIterations {
                for draft in drafts {
                    blackHole(try shard.append(draft))
                }
            }
            benchmark.stopMeasurement()
            recordRate(benchmark, inputRate, bytes: corpusBytes * benchmark.scaledIterations.count, since: start)
            try wal.close()
        }
    }

    // Recovery scan: verifies the header CRC and payload CRC of every batch and counts records;
    // no decompression. Read-only (WALVerifier), so every sample scans the same log.
    Benchmark(
        "recovery scan",
        configuration: configuration([walRate, walMegabytes, uncompressedMegabytes, recordsK], seconds: 5, maxIterations: 200, warmup: 2),
        closure: { benchmark in
            let wal = prebuiltWAL
            var records = 0
            var problems = 0
            benchmark.startMeasurement()
            let start = ContinuousClock.now
            for _ in benchmark.scaledIterations {
                let report = try WALVerifier.scan(dataDirectory: wal.directory)
                records += report.shards.joined().reduce(0) { $0 + $1.records }
                problems += report.problems.count
                blackHole(report)
            }
            benchmark.stopMeasurement()
            recordRate(benchmark, walRate, bytes: wal.walBytes * benchmark.scaledIterations.count, since: start)
            benchmark.measurement(walMegabytes, wal.walBytes / 1_000_000)
            benchmark.measurement(uncompressedMegabytes, wal.uncompressedBytes / 1_000_000)
            benchmark.measurement(recordsK, wal.records / 1_000)
            if records != wal.records * benchmark.scaledIterations.count || problems != 0 {
                benchmark.error("scan found \(records) records and \(problems) problems; expected \(wal.records) and 0")
            }
        },
        setup: { _ = prebuiltWAL }
    )

    // Full decode: payload CRC check, lz4 decompression and a walk over every record body.
    Benchmark(
        "full decode",
        configuration: configuration([inputRate], seconds: 5, maxIterations: 100, warmup: 1),
        closure: { benchmark in
            let wal = prebuiltWAL
            let reader = try WALReader(dataDirectory: wal.directory)
            var count = 0
            var bytes = 0
            benchmark.startMeasurement()
            let start = ContinuousClock.now
            for _ in benchmark.scaledIterations {
                try reader.forEachBatch(shard: 0) { batch in
                    bytes += Int(batch.header.uncompressedLength)
                    var cursor = try reader.records(of: batch)
                    while let _ = try cursor.nextBody() { count += 1 }
                    return true
                }
            }
            benchmark.stopMeasurement()
            recordRate(benchmark, inputRate, bytes: bytes, since: start)
            blackHole(count)
            if count != wal.records * benchmark.scaledIterations.count {
                benchmark.error("decoded \(count) records; expected \(wal.records)")
            }
        },
        setup: { _ = prebuiltWAL }
    )
}
