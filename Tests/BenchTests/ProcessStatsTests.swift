import Bench
import Foundation
import Testing

@Suite struct ProcessStatsTests {
    @Test func readsCPUTimeAndPeakMemoryOfARunningProcess() {
        var x = 0.0
        for i in 0 ..< 20_000_000 { x += Double(i & 7) }
        #expect(x > 0)
        let pid = getpid()
        #expect(ProcessStats.cpuSeconds(pid: pid) > 0, "this test burned CPU")
        // Current first: the high-water mark read afterwards can only be as large or larger.
        let rss = ProcessStats.status(pid: pid, field: "VmRSS")
        let hwm = ProcessStats.status(pid: pid, field: "VmHWM")
        #expect(hwm >= rss && rss > 1 << 20, "peak \(hwm) ≥ current \(rss) > 1 MiB")
        #expect(ProcessStats.cpuSeconds(pid: 999_999_999) == 0, "a missing process reads as 0")
    }
}
