import Platform
import WAL
import Wire

/// The configuration repository and its rollouts, as a pure state machine: every method takes
/// `now` (nanoseconds since the epoch) and returns the pushes to send; nothing here reads a
/// clock, touches the network or the disk.
///
/// - **Versions.** ``put(name:content:selector:rollout:comment:online:now:)`` makes version
///   1, 2, 3… of a name. The version daemons get is the *last known good* one (status
///   ``ConfigVersionStatus/current``): a version pushed all at once is good as soon as it is
///   pushed; a version rolled out becomes good when its rollout succeeds.
/// - **Pushes.** Without a strategy, a new version goes to every matching online daemon at
///   once. A daemon that connects (``daemonOnline(_:now:)``) gets, for each name, the version
///   meant for it: the rollout's version when it is in a started batch of an active rollout,
///   else the current version when its selector matches. The daemon is expected to ignore a
///   push whose hash it already runs.
/// - **Rollouts.** With a strategy, the matching online daemons (sorted by id) are cut into
///   batches. The first batch is pushed at once; a batch passes when each of its daemons has
///   reported applied with the right hash and stayed Healthy for the gate. ``tick(now:health:)``
///   runs the gates and timeouts and starts the next batch. Past the failure threshold the
///   rollout is rolled back; see ``Rollout`` and docs/control.md ("Configuration and rollouts").
///
/// ```swift
/// var book = ConfigBook()
/// let update = try book.put(name: "pipeline", content: Array(yaml.utf8), selector: DaemonSelector(),
///                           rollout: RolloutStrategy(batchPercent: 25), comment: "", online: daemons, now: now)
/// send(update.commands)
/// send(book.tick(now: later, health: { registry.health(of: $0) }))
/// ```
///
/// Bounds: at most `maxVersions` versions per name (the current version, a version used by
/// an active rollout and the newest are never dropped), at most `maxDocuments` names, every
/// active rollout plus the last 100 finished ones, and per-daemon states only for daemons
/// seen until ``forget(_:)``.
public struct ConfigBook: Sendable {
    /// Finished rollouts kept (active ones are always kept).
    public static let keptFinishedRollouts = 100

    /// Versions kept per name.
    public let maxVersions: Int
    /// Names kept.
    public let maxDocuments: Int

    /// Versions by name, oldest first.
    var documents: [String: [ConfigDocument]] = [:]
    /// Rollouts by id.
    var rolloutsByID: [String: Rollout] = [:]
    /// Rollout ids in creation order.
    var rolloutOrder: [String] = []
    /// The running or paused rollout of each name.
    var activeRollouts: [String: String] = [:]
    var nextRolloutNumber = 1
    /// Every daemon seen (labels and region for selector checks), until forgotten.
    var known: [String: DaemonCandidate] = [:]
    /// Daemons with an open connection.
    var onlineIDs: Set<String> = []
    /// Daemon id → name → its state.
    var statesByDaemon: [String: [String: DaemonConfigState]] = [:]
    /// Restored active rollouts whose deadlines and gates restart at the next tick.
    var restoredRollouts: Set<String> = []

    struct VersionKey: Hashable, Comparable {
        var name: String
        var version: UInt64
        static func < (a: VersionKey, b: VersionKey) -> Bool { a.name != b.name ? a.name < b.name : a.version < b.version }
    }

    var changedDocuments: Set<VersionKey> = []
    var changedRollouts: Set<String> = []
    var droppedDocuments: [(name: String, version: UInt64)] = []
    var droppedRollouts: [String] = []

    /// An empty book.
    /// - Parameters:
    ///   - maxVersions: versions kept per name (at least 1).
    ///   - maxDocuments: names kept; a PUT of a new name past it is refused.
    public init(maxVersions: Int = 100, maxDocuments: Int = 1_000) {
        self.maxVersions = max(1, maxVersions)
        self.maxDocuments = max(1, maxDocuments)
    }

    /// A book holding what a store saved from ``takeChanges()``.
    ///
    /// Active rollouts continue where they were. Because the daemons reconnect after a
    /// restart, each pending daemon of a restored rollout gets a fresh apply timeout and
    /// applied daemons restart their gate, counted from the first ``tick(now:health:)``.
    /// Online daemons are not saved: call ``daemonOnline(_:now:)`` as they connect.
    public init(restoring documents: [ConfigDocument], rollouts: [Rollout], maxVersions: Int = 100, maxDocuments: Int = 1_000) {
        self.init(maxVersions: maxVersions, maxDocuments: maxDocuments)
        for doc in documents {
            var list = self.documents[doc.name, default: []]
            list.removeAll { $0.version == doc.version }
            list.append(doc)
            self.documents[doc.name] = list
        }
        for name in self.documents.keys { self.documents[name]?.sort { $0.version < $1.version } }
        for r in rollouts.sorted(by: { Self.number(of: $0.id) < Self.number(of: $1.id) }) where rolloutsByID[r.id] == nil {
            rolloutsByID[r.id] = r
            rolloutOrder.append(r.id)
            nextRolloutNumber = max(nextRolloutNumber, Self.number(of: r.id) + 1)
            if r.state.isActive {
                activeRollouts[r.name] = r.id
                restoredRollouts.insert(r.id)
            }
        }
    }

    static func number(of rolloutID: String) -> Int {
        rolloutID.hasPrefix("r-") ? Int(rolloutID.dropFirst(2)) ?? 0 : 0
    }

    // MARK: Queries

    /// Every version of `name` kept, oldest first; `nil` for an unknown name.
    public func history(_ name: String) -> [ConfigDocument]? { documents[name] }

    /// The version daemons get when they connect: the last known good one (`nil` before any
    /// version went out completely). During a rollout it is still the previous version.
    public func current(_ name: String) -> ConfigDocument? { documents[name]?.last { $0.status == .current } }

    /// The latest version that went out completely: what a failed rollout returns to. The same
    /// as ``current(_:)``.
    public func lastKnownGood(_ name: String) -> ConfigDocument? { current(name) }

    /// One version of `name`.
    public func document(_ name: String, version: UInt64) -> ConfigDocument? {
        documents[name]?.last { $0.version == version }
    }

    /// Every name, sorted.
    public var names: [String] { documents.keys.sorted() }

    /// One rollout, active or among the finished ones kept.
    public func rollout(_ id: String) -> Rollout? { rolloutsByID[id] }

    /// The running or paused rollout of `name`.
    public func activeRollout(of name: String) -> Rollout? { activeRollouts[name].flatMap { rolloutsByID[$0] } }

    /// Every rollout kept, in creation order.
    public var rollouts: [Rollout] { rolloutOrder.compactMap { rolloutsByID[$0] } }

    /// What `daemonID` was last pushed or reported, per name, sorted by name.
    public func daemonStates(_ daemonID: String) -> [DaemonConfigState] {
        (statesByDaemon[daemonID] ?? [:]).values.sorted { $0.name < $1.name }
    }

    /// Each daemon's state for `name`, by daemon id.
    public func daemonStates(forName name: String) -> [String: DaemonConfigState] {
        var out: [String: DaemonConfigState] = [:]
        for (id, states) in statesByDaemon {
            if let s = states[name] { out[id] = s }
        }
        return out
    }

    /// Whether `daemonID` has an open connection, as told by ``daemonOnline(_:now:)`` and
    /// ``daemonOffline(_:now:)``.
    public func isOnline(_ daemonID: String) -> Bool { onlineIDs.contains(daemonID) }

    // MARK: Changes

    /// What changed since the last call, for a store to write; clears the record.
    public mutating func takeChanges() -> ConfigChanges {
        var out = ConfigChanges()
        for key in changedDocuments.sorted() {
            if let doc = document(key.name, version: key.version) { out.documents.append(doc) }
        }
        out.rollouts = rolloutOrder.filter { changedRollouts.contains($0) }.compactMap { rolloutsByID[$0] }
        out.removedDocuments = droppedDocuments
        out.removedRollouts = droppedRollouts
        changedDocuments = []
        changedRollouts = []
        droppedDocuments = []
        droppedRollouts = []
        return out
    }

    // MARK: Helpers for the extensions

    /// Sets the status of a version and records the change.
    mutating func setStatus(_ name: String, _ version: UInt64, _ status: ConfigVersionStatus) {
        guard let i = documents[name]?.lastIndex(where: { $0.version == version }), documents[name]?[i].status != status else { return }
        documents[name]?[i].status = status
        changedDocuments.insert(VersionKey(name: name, version: version))
    }

    /// Makes `version` the current one; the previous current version is superseded.
    mutating func makeCurrent(_ name: String, _ version: UInt64) {
        for doc in documents[name] ?? [] where doc.status == .current && doc.version != version {
            setStatus(name, doc.version, .superseded)
        }
        setStatus(name, version, .current)
    }

    /// Stores a rollout and records the change.
    mutating func store(_ rollout: Rollout) {
        rolloutsByID[rollout.id] = rollout
        changedRollouts.insert(rollout.id)
        if !rollout.state.isActive {
            if activeRollouts[rollout.name] == rollout.id { activeRollouts.removeValue(forKey: rollout.name) }
            restoredRollouts.remove(rollout.id)
        }
    }

    /// A push of `push` to `daemonID`, recorded as its state.
    mutating func command(_ push: ConfigPush, to daemonID: String, now: Int64) -> ConfigCommand {
        statesByDaemon[daemonID, default: [:]][push.name] = DaemonConfigState(
            name: push.name, version: push.version, hash: push.hash, state: .pushed, message: "", at: now)
        return .push(daemonID: daemonID, push)
    }

    /// Marks the daemons online (and remembers their labels).
    mutating func see(_ daemons: [DaemonCandidate]) {
        for d in daemons {
            known[d.id] = d
            onlineIDs.insert(d.id)
        }
    }

    /// Seconds for messages: `60`, `0.5`.
    static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
    }
}
