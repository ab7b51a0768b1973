public import Settings
import WAL

extension AgentConfiguration {
    /// Every setting of `hypha agent`, written once: its flags, the keys of its YAML file
    /// (`--config`), ranges, `--help` and the table in docs/agent.md.
    public static let settings = SettingsTable<AgentConfiguration>([identity, spool, sending, quickStart, logging])

    private typealias Group = SettingsTable<AgentConfiguration>.Group

    private static let identity = Group("Nodes and identity", [
        .list(
            "servers", flag: "server", \.servers, placeholder: "host:port",
            help: "A node's native port. With several, the agent uses the first it reaches and fails over to the next, in order, then round again."),
        .text("id", \.id, placeholder: "name", shownDefault: "the host name", help: "The daemon id sent at HELLO; the default is the host name."),
        .text("region", \.region, placeholder: "name", shownDefault: "(none)", help: "The region sent at HELLO."),
        .list("labels", flag: "label", \.labels, placeholder: "key=value", help: "A label sent at HELLO (task selectors match them)."),
        .text("token", \.token, placeholder: "token", help: "The token the node requires at HELLO, if it requires one."),
    ])

    private static let spool = Group("Spool", [
        .text(
            "spool", \.spoolDirectory, placeholder: "path",
            help: "The spool directory: every batch stays there until a node acknowledges it; also the checkpoints and the last applied configuration."),
        .bytes(
            "spool_mib", \.spoolMaxBytes, unit: .mebibytes, in: 1 ... 1 << 20,
            help: "Inputs stop reading (and the heartbeat reports it) once the spool holds this much."),
    ])

    private static let sending = Group("Sending", [
        .choice("compression", \.compression, help: "Compression of batches in the spool and on the wire (when the node speaks protocol 2)."),
        .bytes("batch_kib", \.batchBytes, unit: .kibibytes, in: 1 ... 8192, help: "Seal an input's batch once it holds this much."),
        .duration(
            "linger_ms", \.linger, unit: .milliseconds, in: 1 ... 60_000,
            help: "Seal an input's batch this long after its first record, if it is not full sooner."),
        .integer("window", \.window, in: 1 ... 4096, help: "Batches sent and not yet answered, at most."),
        .duration(
            "reconnect_min_ms", \.reconnectMin, unit: .milliseconds, in: 10 ... 60_000,
            help: "First delay before reconnecting; doubled at each failure, with jitter."),
        .duration("reconnect_max_s", \.reconnectMax, unit: .seconds, in: 1 ... 3600, help: "Longest delay before reconnecting."),
        .duration(
            "connect_timeout_s", \.connectTimeout, unit: .seconds, in: 1 ... 600,
            help: "Give up a connection attempt, or a node silent for this long, and try the next server."),
        .duration(
            "drain_timeout_s", \.drainTimeout, unit: .seconds, in: 0 ... 3600,
            help: "On SIGTERM, keep sending what is spooled for at most this long; the rest stays in the spool."),
    ])

    private static let quickStart = Group("Inputs without a control plane", [
        .list("tail", \.tail, placeholder: "glob", help: "Follow the files matching this glob (new files are picked up)."),
        .choice("tail_from", \.tailFrom, help: "Where a followed file with no checkpoint is read from."),
        .toggle("journald", \.journald, help: "Follow the systemd journal."),
        .duration(
            "hostmetrics", \.hostmetrics, unit: .seconds, upTo: 86_400, zeroMeans: "off",
            help: "Sample CPU, memory, load, disk, filesystem and network metrics at this interval."),
    ])

    private static let logging = Group("Logging", [
        .choice("log_format", \.logFormat, help: "The format of the agent's own log lines, on standard error."),
        .choice("log_level", \.logLevel, placeholder: "level", help: "The level the agent logs at."),
    ])
}
