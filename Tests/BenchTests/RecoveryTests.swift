import Bench
import Foundation
import Testing
import TestSupport

@Suite struct RecoverySizeTests {
    @Test(arguments: [
        ("1GiB", 1 << 30), ("512MiB", 512 << 20), ("8MiB", 8 << 20), ("4KiB", 4096), ("1073741824", 1 << 30),
        ("2g", 2 << 30), ("64M", 64 << 20), ("1.5GiB", 3 << 29), ("10MB", 10_000_000), ("1gb", 1_000_000_000),
        ("100B", 100), (" 3 MiB ", 3 << 20), ("1TiB", 1 << 40),
    ])
    func parsesSizesWithSuffixes(text: String, bytes: Int) {
        #expect(RecoveryBenchmark.parseByteSize(text) == bytes, "\(text) → \(String(describing: RecoveryBenchmark.parseByteSize(text))), expected \(bytes)")
    }

    @Test(arguments: ["", "GiB", "1XiB", "-1MiB", "1..2MiB", "one GiB", "1 GiB extra", "1e30GiB"])
    func refusesWhatIsNotASize(text: String) {
        #expect(RecoveryBenchmark.parseByteSize(text) == nil, "\(text) → \(String(describing: RecoveryBenchmark.parseByteSize(text)))")
    }
}

@Suite struct RecoveryEndToEndTests {
    /// The whole measurement on a small WAL through the real binary: fill through the server
    /// with acknowledged batches, SIGKILL, restart, verify.
    @Test func recoversEveryAcknowledgedRecordOfASmallWAL() throws {
        let run = try runHypha(["bench", "recovery", "--size", "4MiB", "--shards", "2", "--json"])
        #expect(run.status == 0, "exit \(run.status); stderr: \(run.stderr)")
        let line = try #require(run.stdout.split(separator: "\n").last, "no output; stderr: \(run.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "not JSON: \(line)")
        func number(_ key: String) -> Double { (json[key] as? NSNumber)?.doubleValue ?? -1 }
        let acknowledged = number("acknowledged_records")
        #expect(acknowledged > 10_000, "a 4 MiB WAL of syslog holds tens of thousands of records, got \(acknowledged)")
        #expect(number("present_records") == acknowledged, "present \(number("present_records")) of \(acknowledged) acknowledged")
        #expect(number("missing_records") == 0)
        #expect(number("unacknowledged_records") == 0)
        #expect(number("wal_records") == acknowledged, "every record in the WAL was acknowledged")
        #expect(json["verified"] as? Bool == true)
        #expect(number("seconds_to_accept") > 0 && number("seconds_to_accept") <= number("seconds_to_ready") + 0.05,
            "accept \(number("seconds_to_accept")) s, ready \(number("seconds_to_ready")) s")
        #expect(number("peak_rss_bytes") > 1_048_576, "peak RSS \(number("peak_rss_bytes"))")
        #expect(number("wal_bytes") > 3.5 * 1_048_576 && number("wal_bytes") < 6 * 1_048_576, "WAL of about 4 MiB: \(number("wal_bytes"))")
        #expect(number("shards") == 2 && number("connections") == 2)
        #expect(number("recovery_mb_per_second") > 0 && number("recovery_records_per_second") > 0)
    }

    @Test func refusesAnUnreadableSize() throws {
        let run = try runHypha(["bench", "recovery", "--size", "lots"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("cannot read 'lots' as a size"), "stderr: \(run.stderr)")
    }
}
