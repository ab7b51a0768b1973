import Wire

/// What an input reads and under which producer id: a task's assignment, or one of the
/// quick-start settings (`--tail`, `--journald`, `--hostmetrics`).
struct InputSpec: Equatable, Sendable {
    /// The task id, or a quick-start input's name (`tail /var/log/*.log`).
    var name: String
    /// `tail`, `journald`, `exec`, `hostmetrics` or `listen`.
    var kind: String
    var parameters: [String: String]
    /// The `stream` field added to each record (tasks); empty for none.
    var stream: String = ""
    var producerID: UInt64

    /// The quick-start inputs `configuration` asks for. Their producer ids are derived from the
    /// agent id and the input's name, so they are the same at every start, and the spool's
    /// producer marks carry their sequences on.
    static func quickStart(_ configuration: AgentConfiguration, agentID: String) -> [InputSpec] {
        var specs: [InputSpec] = []
        for glob in configuration.tail {
            specs.append(local("tail \(glob)", kind: "tail", ["path": glob, "from": configuration.tailFrom.rawValue], agentID: agentID))
        }
        if configuration.journald {
            specs.append(local("journald", kind: "journald", ["from": "end"], agentID: agentID))
        }
        if let interval = configuration.hostmetrics {
            let seconds = max(1, min(3600, Int(interval.components.seconds)))
            specs.append(local("hostmetrics", kind: "hostmetrics", ["interval_seconds": "\(seconds)"], agentID: agentID))
        }
        return specs
    }

    private static func local(_ name: String, kind: String, _ parameters: [String: String], agentID: String) -> InputSpec {
        InputSpec(name: name, kind: kind, parameters: parameters, producerID: localProducerID(agentID: agentID, name: name))
    }

    /// FNV-1a of the agent id and the input's name, without the task bit, never 0.
    static func localProducerID(agentID: String, name: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in Array(agentID.utf8) + [0] + Array(name.utf8) {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3
        }
        let id = hash & ~TaskProducerID.taskBit
        return id == 0 ? 1 : id
    }
}
