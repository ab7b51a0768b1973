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
        // One read: other tests' threads free memory between two separate reads, and the
        // kernel only compares current and peak within one.
        let memory = ProcessStats.memory(pid: pid)
        #expect(memory.peak >= memory.resident && memory.resident > 1 << 20, "peak \(memory.peak) ≥ current \(memory.resident) > 1 MiB")
        #expect(ProcessStats.memory(pid: 999_999_999) == ProcessStats.Memory(resident: 0, peak: 0), "a missing process reads as zeros")
        #expect(ProcessStats.cpuSeconds(pid: 999_999_999) == 0, "a missing process reads as 0")
        // The group's total is read after this process's own share, and includes it.
        let own = ProcessStats.cpuSeconds(pid: pid)
        #expect(ProcessStats.cpuSeconds(processGroup: getpgrp()) >= own, "the process group includes this process")
        #expect(ProcessStats.cpuSeconds(processGroup: 999_999_999) == 0, "a missing group reads as 0")
    }
}
