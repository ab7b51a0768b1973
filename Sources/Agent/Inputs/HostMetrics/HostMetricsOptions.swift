import Glibc

/// What a ``HostMetricsCollector`` samples and how often (the `hostmetrics` task,
/// docs/control.md).
public struct HostMetricsOptions: Sendable {
    /// A group of figures, as the `collect` parameter names them.
    public enum Group: String, CaseIterable, Sendable {
        /// /proc/stat: CPU time per CPU and in total, context switches, forks, processes.
        case cpu
        /// /proc/meminfo: every line.
        case memory
        /// /proc/loadavg: the 1, 5 and 15 minute load averages.
        case load
        /// /proc/diskstats (whole disks) and the usage of mounted file systems (statvfs).
        case disk
        /// /proc/net/dev: bytes, packets, errors and drops per interface.
        case network
    }

    /// The groups collected, in this order.
    public var groups: [Group]
    /// Time between two collections (on the wall clock, from the last one, which the checkpoint
    /// keeps).
    public var interval: Duration
    /// The `host` label (and source) of every sample.
    public var host: String
    /// Where procfs is mounted (tests point it at fixtures).
    public var procRoot: String
    /// The unit of /proc/stat's CPU times (`USER_HZ`, `sysconf(_SC_CLK_TCK)`, 100 on Linux).
    public var ticksPerSecond: Double

    /// Every group every 10 s.
    public init(host: String, groups: [Group] = Group.allCases, interval: Duration = .seconds(10)) {
        self.host = host
        self.groups = groups
        self.interval = interval
        procRoot = "/proc"
        ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// The options of a `hostmetrics` task: `interval_seconds` (1…3600, default 10) and
    /// `collect` (a comma list of `cpu,memory,load,disk,network`, default all).
    /// - Throws: ``InputError/Code/invalidParameter`` naming the parameter.
    public init(parameters: [String: String], host: String) throws(InputError) {
        let p = TaskParameters(parameters, kind: "hostmetrics")
        var groups: [Group] = []
        for name in (p["collect"] ?? Group.allCases.map(\.rawValue).joined(separator: ",")).split(separator: ",") {
            guard let group = Group(rawValue: name.filter { $0 != " " }) else {
                throw InputError(.invalidParameter, "collect names \"\(name)\"; it must be a comma list of cpu, memory, load, disk, network", subject: "collect")
            }
            if !groups.contains(group) { groups.append(group) }
        }
        self.init(host: host, groups: Group.allCases.filter(groups.contains), interval: .seconds(try p.integer("interval_seconds", in: 1 ... 3600, default: 10)!))
    }
}
