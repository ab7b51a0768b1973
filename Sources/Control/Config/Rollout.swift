/// Where a rollout is. Encodes as `"running"`, `"paused"`, `"succeeded"`, `"rolled_back"` or
/// `"aborted"`.
public enum RolloutState: String, Codable, Sendable {
    /// Batches start as the previous one passes.
    case running
    /// The started batches are still evaluated (failures count) but no batch starts and the
    /// rollout does not finish until it is resumed.
    case paused
    /// Every batch passed; the version is now the last known good one.
    case succeeded
    /// Failures passed the threshold: the daemons that got the version were sent the last known
    /// good one (or, with none, the rollout halted; ``Rollout/reason`` says which).
    case rolledBack = "rolled_back"
    /// Stopped by an operator; rolled back like ``rolledBack``.
    case aborted

    /// Running or paused: the rollout still decides what its daemons get.
    public var isActive: Bool { self == .running || self == .paused }
}

/// Where one daemon of a rollout is. Encodes as its snake_case raw value.
public enum RolloutDaemonState: String, Codable, Sendable {
    /// Its batch has not started.
    case waiting
    /// The version was pushed; no applied report yet.
    case applying
    /// It reported applied with the right hash; its health gate is running.
    case applied
    /// Applied and Healthy for the whole gate: it passed.
    case gated
    /// It reported failed or a wrong hash, timed out, or was not Healthy during its gate.
    case failed
    /// The rollout stopped and the last known good version was sent to it again (or will be,
    /// when it reconnects).
    case rolledBack = "rolled_back"
    /// Offline (or no longer selected) when its batch started: it was not pushed the version
    /// and counts neither as failed nor as passed. It gets the current version when it connects.
    case skipped
}

/// One daemon of a rollout: its batch and progress. Times are nanoseconds since the epoch.
public struct RolloutDaemon: Codable, Sendable, Equatable {
    /// The daemon id.
    public var id: String
    /// Its batch, 0-based.
    public var batch: Int
    /// Where it is.
    public var state: RolloutDaemonState
    /// Why it failed or was skipped, or what it said with its last report.
    public var message: String
    /// When the version was pushed to it (`nil`: never, it did not get the version).
    public var pushedAt: Int64?
    /// When it reported applied.
    public var appliedAt: Int64?
    /// Since when it has been Healthy after applying (the gate start).
    public var healthySince: Int64?
    /// When it is failed unless it has applied and is Healthy (push + apply timeout).
    public var deadline: Int64?

    /// A daemon entry; see the properties.
    public init(
        id: String, batch: Int, state: RolloutDaemonState = .waiting, message: String = "", pushedAt: Int64? = nil, appliedAt: Int64? = nil,
        healthySince: Int64? = nil, deadline: Int64? = nil
    ) {
        self.id = id
        self.batch = batch
        self.state = state
        self.message = message
        self.pushedAt = pushedAt
        self.appliedAt = appliedAt
        self.healthySince = healthySince
        self.deadline = deadline
    }
}

/// A health-gated rollout of one configuration version to the daemons it selected when it
/// started, batch by batch. ``ConfigBook`` drives it; this is what `GET` shows.
///
/// Daemons are sorted by id and cut into ``batchCount`` batches; ``currentBatch`` is the
/// 0-based batch being evaluated (equal to ``batchCount`` once every batch passed).
public struct Rollout: Codable, Sendable, Equatable {
    /// `r-1`, `r-2`… in creation order.
    public var id: String
    /// The configuration name.
    public var name: String
    /// The last known good version when the rollout started, which a rollback returns to
    /// (`nil`: there was none).
    public var fromVersion: UInt64?
    /// The version going out.
    public var toVersion: UInt64
    /// Batch size, gate, failure threshold, timeout.
    public var strategy: RolloutStrategy
    /// Where the rollout is.
    public var state: RolloutState
    /// The 0-based batch being evaluated.
    public var currentBatch: Int
    /// The number of batches (0 when no daemon was selected).
    public var batchCount: Int
    /// Every daemon of the rollout, sorted by id.
    public var daemons: [RolloutDaemon]
    /// Why it stopped (or, while it runs, the last notable event); empty when nothing to say.
    public var reason: String
    /// When it started, nanoseconds since the epoch.
    public var createdAt: Int64
    /// When it last changed.
    public var updatedAt: Int64

    /// A rollout; see the properties.
    public init(
        id: String, name: String, fromVersion: UInt64?, toVersion: UInt64, strategy: RolloutStrategy, state: RolloutState, currentBatch: Int,
        batchCount: Int, daemons: [RolloutDaemon], reason: String, createdAt: Int64, updatedAt: Int64
    ) {
        self.id = id
        self.name = name
        self.fromVersion = fromVersion
        self.toVersion = toVersion
        self.strategy = strategy
        self.state = state
        self.currentBatch = currentBatch
        self.batchCount = batchCount
        self.daemons = daemons
        self.reason = reason
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// Daemons that are failed.
    public var failedCount: Int { daemons.count { $0.state == .failed } }

    /// Whether the failures passed the threshold: `failed × 100 / daemons > max_failure_percent`.
    public var isOverFailureThreshold: Bool {
        guard !daemons.isEmpty else { return false }
        return Double(failedCount) * 100 / Double(daemons.count) > strategy.maxFailurePercent
    }

    /// The index in ``daemons`` of `daemonID`, by binary search (daemons are sorted by id).
    func index(of daemonID: String) -> Int? {
        var low = 0
        var high = daemons.count
        while low < high {
            let mid = (low + high) / 2
            if daemons[mid].id < daemonID { low = mid + 1 } else { high = mid }
        }
        return low < daemons.count && daemons[low].id == daemonID ? low : nil
    }

    /// Indices in ``daemons`` of `batch`.
    func indices(ofBatch batch: Int) -> Range<Int> {
        let length = strategy.batchLength(of: daemons.count)
        let start = min(daemons.count, batch * length)
        return start ..< min(daemons.count, start + length)
    }

    /// Whether every daemon of ``currentBatch`` is done: passed, failed or skipped.
    var currentBatchIsDone: Bool {
        indices(ofBatch: currentBatch).allSatisfy { [.gated, .failed, .skipped].contains(daemons[$0].state) }
    }

    /// Whether `daemonID` is in a started batch and was pushed the version: while the rollout
    /// is active, it gets ``toVersion`` when it connects.
    func holdsNewVersion(_ daemonID: String) -> Bool {
        guard let i = index(of: daemonID) else { return false }
        return daemons[i].pushedAt != nil && daemons[i].state != .rolledBack
    }
}
