import Ingest
import Platform

/// /proc/stat → CPU time and kernel activity counters, named as Prometheus' node_exporter
/// names them.
///
/// | /proc/stat | metric |
/// |---|---|
/// | `cpuN` user … steal (ticks) | `node_cpu_seconds_total{cpu="N",mode}` for the modes `user`, `nice`, `system`, `idle`, `iowait`, `irq`, `softirq`, `steal` |
/// | `cpuN` guest, guest_nice | `node_cpu_guest_seconds_total{cpu="N",mode="user"\|"nice"}` |
/// | `cpu` (all CPUs) | `node_cpu_all_seconds_total{mode}`: a name of its own, so that summing `node_cpu_seconds_total` over CPUs does not count the machine twice |
/// | `ctxt`, `processes`, `intr` (first number) | `node_context_switches_total`, `node_forks_total`, `node_intr_total` |
/// | `btime`, `procs_running`, `procs_blocked` | `node_boot_time_seconds`, `node_procs_running`, `node_procs_blocked` |
///
/// Ticks become seconds by dividing by `USER_HZ`. Columns a kernel does not have are left out.
enum CPUStats {
    static let modes: [StaticString] = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"]
    static let guestModes: [StaticString] = ["user", "nice"]

    static func emit(_ stat: ByteView, ticksPerSecond: Double, writer: inout MetricWriter, into sink: inout some RecordSink) {
        var words = Words()
        forEachLine(stat) { line in
            words.split(line)
            guard words.count >= 2 else { return }
            let key = line[words.ranges[0]]
            let first = line[words.ranges[1]].unsignedNumber
            if key.hasPrefix("cpu") {
                let cpu = key.suffix(from: 3)
                for column in 1 ..< words.count {
                    guard column <= modes.count + guestModes.count, let ticks = line[words.ranges[column]].unsignedNumber else { continue }
                    let seconds = ticks / ticksPerSecond
                    if column > modes.count {
                        guard !cpu.isEmpty else { continue }
                        writer.emit("node_cpu_guest_seconds_total", seconds, into: &sink) {
                            label("cpu", cpu, &$0)
                            label("mode", guestModes[column - modes.count - 1], &$0)
                        }
                    } else if cpu.isEmpty {
                        writer.emit("node_cpu_all_seconds_total", seconds, into: &sink) { label("mode", modes[column - 1], &$0) }
                    } else {
                        writer.emit("node_cpu_seconds_total", seconds, into: &sink) {
                            label("cpu", cpu, &$0)
                            label("mode", modes[column - 1], &$0)
                        }
                    }
                }
            } else if let first, let name = counterName(key) {
                writer.emit(name, first, into: &sink)
            }
        }
    }

    private static func counterName(_ key: ByteView) -> StaticString? {
        if key.equals("ctxt") { return "node_context_switches_total" }
        if key.equals("btime") { return "node_boot_time_seconds" }
        if key.equals("processes") { return "node_forks_total" }
        if key.equals("procs_running") { return "node_procs_running" }
        if key.equals("procs_blocked") { return "node_procs_blocked" }
        if key.equals("intr") { return "node_intr_total" }
        return nil
    }
}
