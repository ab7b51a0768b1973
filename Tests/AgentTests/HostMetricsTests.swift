import Foundation
import Glibc
import Ingest
import Platform
import TestSupport
import Testing
import WAL

@testable import Agent

/// The host metrics parsers against /proc files taken from this machine (Fixtures/proc), sample
/// by sample, then the collector's schedule and budget, and a smoke test on the real /proc.
@Suite struct HostMetricsTests {
    static func contents(_ name: String) throws -> [UInt8] {
        try #require(try FileSystem.read("\(fixtures)/proc/\(name)"), "fixture \(name)")
    }

    /// Runs `parse` on a fixture with a writer at timestamp 7 for host `h`.
    static func samples(_ name: String, _ parse: (ByteView, inout MetricWriter, inout CollectingSink) -> Void) throws -> [MetricSample] {
        var writer = MetricWriter(timestamp: 7, host: Array("h".utf8))
        var sink = CollectingSink()
        ByteView.with(try contents(name)) { parse($0, &writer, &sink) }
        #expect(sink.sources.allSatisfy { $0 == "h" }, "the host is every sample's source")
        return sink.samples
    }

    static func sample(_ name: String, _ value: Double, _ labels: [(String, String)] = []) -> MetricSample {
        MetricSample(timestamp: 7, name: name, value: value, labels: [("host", "h")] + labels)
    }

    static func expectSamples(_ got: [MetricSample], _ expected: [MetricSample], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(got.count == expected.count, "\(got.count) samples, expected \(expected.count)", sourceLocation: sourceLocation)
        for (g, e) in zip(got, expected) {
            #expect(g == e, "produced \(g.name) \(g.labels) \(g.value), expected \(e.name) \(e.labels) \(e.value)", sourceLocation: sourceLocation)
        }
    }

    @Test func cpuFromProcStat() throws {
        let got = try Self.samples("stat") { CPUStats.emit($0, ticksPerSecond: 100, writer: &$1, into: &$2) }
        let modes = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
        let ticks: [String: [Double]] = [
            "all": [1_482_639, 11, 165_859, 447_401, 17617, 0, 6950, 26432],
            "0": [714_497, 7, 78093, 261_675, 5311, 0, 1360, 12517, 0, 0],
            "1": [768_142, 3, 87765, 185_726, 12305, 0, 5590, 13915, 0, 0],
        ]
        var expected = zip(modes, ticks["all"]!).map { Self.sample("node_cpu_all_seconds_total", $1 / 100, [("mode", $0)]) }
        for cpu in ["0", "1"] {
            expected += zip(modes, ticks[cpu]!).map { Self.sample("node_cpu_seconds_total", $1 / 100, [("cpu", cpu), ("mode", $0)]) }
            expected += [Self.sample("node_cpu_guest_seconds_total", 0, [("cpu", cpu), ("mode", "user")]),
                         Self.sample("node_cpu_guest_seconds_total", 0, [("cpu", cpu), ("mode", "nice")])]
        }
        expected += [
            Self.sample("node_intr_total", 9_189_720), Self.sample("node_context_switches_total", 13_275_193),
            Self.sample("node_boot_time_seconds", 1_796_207_631), Self.sample("node_forks_total", 165_652),
            Self.sample("node_procs_running", 12), Self.sample("node_procs_blocked", 0),
        ]
        Self.expectSamples(got, expected)
    }

    @Test func memoryFromProcMeminfo() throws {
        let got = try Self.samples("meminfo") { MemoryStats.emit($0, writer: &$1, into: &$2) }
        Self.expectSamples(got, [
            Self.sample("node_memory_MemTotal_bytes", 24_683_584 * 1024), Self.sample("node_memory_MemFree_bytes", 20_443_640 * 1024),
            Self.sample("node_memory_MemAvailable_bytes", 23_454_404 * 1024), Self.sample("node_memory_Buffers_bytes", 45756 * 1024),
            Self.sample("node_memory_Cached_bytes", 2_789_820 * 1024), Self.sample("node_memory_Active_anon_bytes", 2124 * 1024),
            Self.sample("node_memory_HugePages_Total", 0), Self.sample("node_memory_Hugepagesize_bytes", 2048 * 1024),
        ])
    }

    @Test func loadFromProcLoadavg() throws {
        let got = try Self.samples("loadavg") { LoadStats.emit($0, writer: &$1, into: &$2) }
        Self.expectSamples(got, [Self.sample("node_load1", 12.35), Self.sample("node_load5", 9.92), Self.sample("node_load15", 5.94)])
    }

    @Test func disksFromProcDiskstats() throws {
        let got = try Self.samples("diskstats") { DiskStats.emit($0, writer: &$1, into: &$2) }
        let vda: [Double] = [
            1_020_548, 51790, 27_598_066 * 512, 1561.344, 1_455_424, 373_277, 92_076_312 * 512, 1335.047, 16, 575.08, 3309.208,
            404_507, 96, 270_554_872, 213.993, 297_983, 198.822,
        ]
        let nvme: [Double] = [10, 2, 300 * 512, 0.004, 5, 6, 700 * 512, 0.008, 0, 0.009, 0.012]
        let names = DiskStats.columns.map { "\($0.name)" }
        Self.expectSamples(got,
            zip(names, vda).map { Self.sample($0, $1, [("device", "vda")]) } + zip(names, nvme).map { Self.sample($0, $1, [("device", "nvme0n1")]) })
    }

    @Test(arguments: [
        ("sda", false), ("sda1", true), ("vda", false), ("xvdb2", true), ("sdaa1", false), ("nvme0n1", false), ("nvme0n1p3", true),
        ("nvme10n2p10", true), ("loop0", true), ("loop", false), ("ram15", true), ("zram0", true), ("fd0", true), ("dm-0", false), ("md127", false),
    ])
    func diskDevicesAreFilteredAsNodeExporterDoes(device: String, excluded: Bool) {
        #expect(ByteView.with(device) { DiskStats.isExcluded($0) } == excluded)
    }

    @Test func networkFromProcNetDev() throws {
        let got = try Self.samples("net/dev") { NetworkStats.emit($0, writer: &$1, into: &$2) }
        let lo: [Double] = [34_004_124_919, 1_099_381, 0, 0, 0, 0, 0, 0, 34_004_124_919, 1_099_381, 0, 0, 0, 0, 0, 0]
        let eth0: [Double] = [10_884_961, 402, 1, 2, 3, 4, 5, 6, 24954, 323, 7, 8, 9, 10, 11, 12]
        let names = NetworkStats.names.map { "\($0)" }
        Self.expectSamples(got,
            zip(names, lo).map { Self.sample($0, $1, [("device", "lo")]) } + zip(names, eth0).map { Self.sample($0, $1, [("device", "eth0")]) })
    }

    @Test func filesystemsFromTheMountsTable() throws {
        let mounted = ByteView.with(try Self.contents("self/mounts")) { FilesystemStats.mounted($0) }
        #expect(mounted == [
            MountedFilesystem(device: "/dev/vda", mountPoint: "/", type: "ext4"),
            MountedFilesystem(device: "/dev/vdb", mountPoint: "/srv/my data", type: "xfs"),
            MountedFilesystem(device: "/dev/vdc", mountPoint: "/run", type: "tmpfs"),
        ], "virtual, network, Docker and /dev mounts are left out; the later /run mount hides the earlier one")
        let usage = FilesystemUsage(size: 1000, free: 400, available: 300, files: 50, filesFree: 20, isReadOnly: true)
        var writer = MetricWriter(timestamp: 7, host: Array("h".utf8))
        var sink = CollectingSink()
        FilesystemStats.emit([(mounted[1], usage)], writer: &writer, into: &sink)
        let labels = [("device", "/dev/vdb"), ("fstype", "xfs"), ("mountpoint", "/srv/my data")]
        Self.expectSamples(sink.samples, [
            Self.sample("node_filesystem_size_bytes", 1000, labels), Self.sample("node_filesystem_free_bytes", 400, labels),
            Self.sample("node_filesystem_avail_bytes", 300, labels), Self.sample("node_filesystem_files", 50, labels),
            Self.sample("node_filesystem_files_free", 20, labels), Self.sample("node_filesystem_readonly", 1, labels),
        ])
    }

    static func fixtureCollector(groups: [HostMetricsOptions.Group] = HostMetricsOptions.Group.allCases, checkpoint: HostMetricsCheckpoint = .init())
        -> HostMetricsCollector
    {
        var options = HostMetricsOptions(host: "h", groups: groups, interval: .seconds(10))
        options.procRoot = "\(fixtures)/proc"
        options.ticksPerSecond = 100
        let usage = FilesystemUsage(size: 1, free: 1, available: 1, files: 1, filesFree: 1, isReadOnly: false)
        return HostMetricsCollector(options: options, checkpoint: checkpoint, logger: quietLogger, usage: { _ in usage })
    }

    @Test func aCollectionIsEmittedOnceAcrossBoundedPollsAndThenWaitsForTheInterval() throws {
        var clock = ManualClock()
        var whole = CollectingSink()
        _ = try Self.fixtureCollector().poll(into: &whole, budget: ReadBudget(), now: clock.now)
        #expect(whole.samples.count == 34 + 8 + 3 + 28 + 18 + 32, "cpu, memory, load, disks and file systems, network")

        let collector = Self.fixtureCollector()
        var sink = CollectingSink()
        var progress = try collector.poll(into: &sink, budget: ReadBudget(records: 7), now: clock.now)
        var polls = 1
        while progress.isMoreWaiting {
            #expect(progress.records == 7 && progress.checkpoint.lastCollected == nil, "the checkpoint moves once the collection is complete")
            progress = try collector.poll(into: &sink, budget: ReadBudget(records: 7), now: clock.now)
            polls += 1
        }
        #expect(polls == (whole.samples.count + 6) / 7)
        #expect(sink.records == whole.records, "each sample once, in order")
        #expect(progress.checkpoint == HostMetricsCheckpoint(lastCollected: clock.now.wall))

        clock.advance(by: .seconds(9))
        #expect(try collector.poll(into: &sink, budget: ReadBudget(), now: clock.now).records == 0)
        clock.advance(by: .seconds(1))
        #expect(try collector.poll(into: &sink, budget: ReadBudget(), now: clock.now).records == whole.samples.count)

        let resumed = Self.fixtureCollector(checkpoint: progress.checkpoint)
        #expect(try resumed.poll(into: &sink, budget: ReadBudget(), now: ManualClock().now).records == 0, "a restart waits for the rest of the interval")
    }

    @Test func onlyTheChosenGroupsAreCollected() throws {
        var sink = CollectingSink()
        _ = try Self.fixtureCollector(groups: [.load]).poll(into: &sink, budget: ReadBudget(), now: ManualClock().now)
        #expect(sink.samples.map(\.name) == ["node_load1", "node_load5", "node_load15"])
    }

    @Test func theRealProcOfThisMachineGivesSaneFigures() throws {
        let collector = HostMetricsCollector(options: HostMetricsOptions(host: "smoke"), logger: quietLogger)
        var sink = CollectingSink()
        _ = try collector.poll(into: &sink, budget: ReadBudget(), now: .now())
        let samples = sink.samples
        func values(_ name: String) -> [Double] { samples.filter { $0.name == name }.map(\.value) }
        let cpus = sysconf(Int32(_SC_NPROCESSORS_ONLN))
        #expect(values("node_cpu_seconds_total").count == 8 * cpus, "8 modes per CPU")
        #expect(values("node_cpu_seconds_total").allSatisfy { $0 >= 0 })
        let total = try #require(values("node_memory_MemTotal_bytes").first)
        let available = try #require(values("node_memory_MemAvailable_bytes").first)
        #expect(total > 0 && available > 0 && available <= total)
        #expect(values("node_load1").count == 1 && values("node_load1")[0] >= 0)
        #expect(samples.contains { $0.name == "node_network_receive_bytes_total" && $0.labels.contains { $0 == ("device", "lo") } })
        let root = samples.first { $0.name == "node_filesystem_size_bytes" && $0.labels.contains { $0 == ("mountpoint", "/") } }
        #expect((root?.value ?? 0) > 0, "the root file system has a size")
        #expect(samples.allSatisfy { $0.labels.first.map { $0 == ("host", "smoke") } ?? false })
    }
}
