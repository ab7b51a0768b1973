import Foundation
import Platform
public import WAL
import Wire
public import Logging
import Synchronization

/// Settings of an ``AlertEngine``.
public struct AlertEngineOptions: Sendable {
    /// Put in every notification's `node`. Default: the host name.
    public var nodeName: String
    /// Bounds of the intake.
    public var limits: AlertInputLimits
    /// Minimum time, in nanoseconds, a restored alert (and an alert whose rule's series were
    /// reset by a reload) is held before a false or missing value can end it; the hold is the
    /// longer of this and the rule's window. Default 60 s.
    public var restoreGrace: Int64
    /// Thresholds of the built-in rules, for ``AlertEngine/reload(yaml:)``.
    public var builtins: BuiltinRuleOptions

    /// Options; every argument has a default.
    public init(
        nodeName: String = AlertEngineOptions.hostName(), limits: AlertInputLimits = AlertInputLimits(),
        restoreGrace: Int64 = 60 * AlertDuration.second, builtins: BuiltinRuleOptions = BuiltinRuleOptions()
    ) {
        self.nodeName = nodeName
        self.limits = limits
        self.restoreGrace = restoreGrace
        self.builtins = builtins
    }

    /// This machine's host name.
    public static func hostName() -> String { ProcessInfo.processInfo.hostName }
}

/// A pending or firing alert, as `GET /api/v1/alerts` shows it. Encodes with times as
/// nanoseconds (`since`, `activeSince`, `firingSince`) and RFC 3339 (`sinceTime`).
public struct ActiveAlert: Sendable, Equatable, Encodable {
    /// The rule's name.
    public var rule: String
    /// The rule's severity.
    public var severity: AlertSeverity
    /// ``AlertState/pending`` or ``AlertState/firing``.
    public var state: AlertState
    /// ``AlertKey/fingerprintHex``.
    public var fingerprint: String
    /// The rule's labels over the grouped labels.
    public var labels: [String: String]
    /// The rule's annotations, rendered for this alert.
    public var annotations: [String: String]
    /// The newest aggregated value.
    public var value: Double?
    /// ``firingSince`` when firing, ``activeSince`` when pending.
    public var since: Int64
    /// ``since`` in RFC 3339.
    public var sinceTime: String
    /// When the condition started holding.
    public var activeSince: Int64
    /// When it started firing (`nil` while pending).
    public var firingSince: Int64?

    /// Encodes the fields by name; a non-finite or missing value is left out.
    public func encode(to encoder: any Encoder) throws {
        enum K: String, CodingKey { case rule, severity, state, fingerprint, labels, annotations, value, since, sinceTime, activeSince, firingSince }
        var c = encoder.container(keyedBy: K.self)
        try c.encode(rule, forKey: .rule)
        try c.encode(severity, forKey: .severity)
        try c.encode(state, forKey: .state)
        try c.encode(fingerprint, forKey: .fingerprint)
        try c.encode(labels, forKey: .labels)
        try c.encode(annotations, forKey: .annotations)
        try c.encodeIfPresent(value.flatMap { $0.isFinite ? $0 : nil }, forKey: .value)
        try c.encode(since, forKey: .since)
        try c.encode(sinceTime, forKey: .sinceTime)
        try c.encode(activeSince, forKey: .activeSince)
        try c.encodeIfPresent(firingSince, forKey: .firingSince)
    }
}

/// What one ``AlertEngine/evaluate(now:signals:)`` did.
public struct AlertEvaluationReport: Sendable {
    /// The evaluation time.
    public var now: Int64
    /// State changes, by rule then fingerprint.
    public var transitions: [AlertTransition]
    /// Handed to the hooks (queued, not necessarily delivered yet).
    public var notifications: [AlertNotification]
    /// Wall time of the round up to the state machine (the aggregation, nearly all of it).
    public var duration: Duration
}

/// Counters of an ``AlertEngine`` (for `/metrics`).
public struct AlertEngineStats: Sendable {
    /// Intake counters.
    public var input: AlertInputStats
    /// Rounds run.
    public var evaluations: UInt64
    /// How long the aggregation of the last round took.
    public var lastEvaluation: Duration
    /// Pending alerts now.
    public var pending: Int
    /// Firing alerts now.
    public var firing: Int
    /// Per-hook counters.
    public var hooks: [HookStats]
    /// State saves that failed (each is logged).
    public var saveFailures: UInt64
}

/// Alerting, tied together: rules, intake, state machine, notifier, hooks and the state file.
///
/// Thread-safe. ``ingest(samples:)`` and ``ingest(logs:)`` may be called from any thread (a
/// batch at a time) while ``evaluate(now:signals:)`` runs on a timer; evaluation takes the
/// intake lock one rule at a time, so ingestion waits at most for one rule's aggregation.
/// Hooks run on the ``HookDispatcher``'s threads and the state file is written on a thread of
/// the engine's own: neither I/O ever blocks evaluation or ingestion.
///
/// ```swift
/// let dispatcher = HookDispatcher(logger: logger)
/// let engine = try AlertEngine(
///     rules: try AlertRuleSet.load(yaml: text), hooks: dispatcher,
///     store: AlertStateStore(path: "\(data)/control/alerts.json"), logger: logger)
/// // on the ingest side, per batch:
/// let interest = engine.interest
/// engine.ingest(samples: batch.filter { interest.wantsMetric(named: $0.name) })
/// // every 5 s:
/// engine.evaluate(now: clock.now, signals: signalsFromHealth)
/// // SIGHUP / POST /api/v1/rules/reload:
/// try engine.reload(yaml: newText); dispatcher.reopen()
/// ```
public final class AlertEngine: Sendable {
    private struct Core {
        var ruleSet: AlertRuleSet
        var machine: AlertStateMachine
        var notifier: Notifier
        var evaluations: UInt64 = 0
        var lastEvaluation: Duration = .zero
        /// Set when the persisted content may differ from the file.
        var dirty = false
    }

    private let options: AlertEngineOptions
    private let logger: Logger
    private let clock: any EpochClock
    private let hooks: HookDispatcher
    private let writer: StateWriter?
    /// Serialises evaluations and reloads (ingestion never takes it).
    private let round = Mutex<Void>(())
    private let input: Mutex<AlertInput>
    private let core: Mutex<Core>
    private let interestBox: Mutex<AlertInterest>

    /// Starts an engine: configures the hooks and restores the saved alert state.
    /// - Parameters:
    ///   - rules: the rule set (``AlertRuleSet/load(yaml:builtins:)``, or the default: built-in rules only).
    ///   - hooks: the dispatcher notifications go to; the engine configures it with `rules.hooks`.
    ///   - store: where alert state is saved; `nil` keeps it in memory only. An unreadable file
    ///     is moved aside (logged) and the engine starts empty.
    ///   - options: node name, limits, restore grace.
    ///   - logger: for state-file problems (hook failures are logged by the dispatcher).
    ///   - clock: for restore and reload times.
    /// - Throws: ``RuleError`` (code ``RuleError/Code/hook``) when a configured hook cannot be set up.
    public init(
        rules: AlertRuleSet = AlertRuleSet(), hooks: HookDispatcher, store: AlertStateStore?,
        options: AlertEngineOptions = AlertEngineOptions(), logger: Logger, clock: any EpochClock = SystemEpochClock()
    ) throws(RuleError) {
        self.options = options
        self.logger = logger
        self.clock = clock
        self.hooks = hooks
        try Self.configure(hooks, rules)
        let intake = AlertInput(rules: rules.rules, limits: options.limits)
        input = Mutex(intake)
        interestBox = Mutex(intake.interest)
        var machine = AlertStateMachine(rules: rules.rules)
        var notifier = Notifier(repeatInterval: rules.repeatInterval, nodeName: options.nodeName)
        var dirty = false
        if let store {
            writer = StateWriter(store: store, logger: logger)
            do {
                if let saved = try store.load() {
                    let now = clock.now
                    let taken = machine.restore(saved.alerts.map(\.alert), now: now, holdFor: options.restoreGrace)
                    let keys = Set(taken.map(\.key))
                    var sent: [AlertKey: Int64] = [:]
                    for p in saved.alerts {
                        let key = AlertKey(rule: p.rule, labels: p.labels)
                        if keys.contains(key), p.state == .firing, let at = p.lastNotifiedAt { sent[key] = at }
                    }
                    notifier.restore(lastSent: sent)
                    dirty = taken.count != saved.alerts.count
                    logger.info("alert state restored", metadata: [
                        "alert.restored": "\(taken.count)", "alert.dropped": "\(saved.alerts.count - taken.count)",
                        "alert.state.path": "\(store.path)",
                    ])
                }
            } catch {
                let aside = store.quarantine(now: clock.now)
                logger.info("alert state unreadable; starting empty", metadata: [
                    "alert.state.path": "\(store.path)", "alert.state.error": "\(error.message)",
                    "alert.state.movedTo": "\(aside ?? "-")",
                ])
            }
        } else {
            writer = nil
        }
        core = Mutex(Core(ruleSet: rules, machine: machine, notifier: notifier, dirty: dirty))
    }

    private static func configure(_ hooks: HookDispatcher, _ rules: AlertRuleSet) throws(RuleError) {
        do {
            try hooks.configure(rules.hooks)
        } catch {
            let line = error.index.flatMap { $0 < rules.hookLines.count ? rules.hookLines[$0] : nil }
            throw RuleError(.hook, line: line, error.message)
        }
    }

    // MARK: Intake

    /// What the rules want from the stream; read it per batch (it changes on reload).
    public var interest: AlertInterest { interestBox.withLock { $0 } }

    /// Takes a batch of metric samples (any thread).
    public func ingest(samples: [MetricSample]) {
        guard !samples.isEmpty else { return }
        input.withLock { $0.ingest(samples: samples) }
    }

    /// Takes a batch of log records (any thread).
    public func ingest(logs: [LogRecord]) {
        guard !logs.isEmpty else { return }
        input.withLock { $0.ingest(logs: logs) }
    }

    // MARK: Evaluation

    /// Runs one evaluation round: feeds `signals` as samples at `now`, aggregates every rule's
    /// groups, advances the state machine, decides notifications and hands them to the hooks,
    /// and queues a state save when anything changed.
    /// - Parameters:
    ///   - now: nanoseconds since the epoch; by default the engine's clock.
    ///   - signals: the control plane's health, for the built-in rules.
    @discardableResult
    public func evaluate(now: Int64? = nil, signals: ControlSignals = ControlSignals()) -> AlertEvaluationReport {
        round.withLock { _ in
            let started = ContinuousClock.now
            let now = now ?? clock.now
            let (ruleNames, existing) = core.withLock { c in (c.ruleSet.rules.map(\.name), Array(c.machine.alerts.keys)) }
            var alertsByRule: [String: Set<UInt64>] = [:]
            for key in existing { alertsByRule[key.rule, default: []].insert(key.fingerprint) }
            input.withLock { $0.ingest(signals: signals, now: now) }
            var values: [AlertKey: Double?] = [:]
            for (i, name) in ruleNames.enumerated() {
                // Only groups whose condition holds or that have an alert can change anything.
                let also = alertsByRule[name] ?? []
                input.withLock { intake in
                    intake.evaluate(storeAt: i, now: now, also: also) { key, value, _ in values[key] = value }
                }
            }
            let duration = ContinuousClock.now - started
            let (transitions, notifications, snapshot) = core.withLock { c in
                let transitions = c.machine.evaluate(now: now, values: values)
                let rules = c.machine.rules
                let notifications = c.notifier.plan(now: now, transitions: transitions, firing: c.machine.firing, rules: { rules[$0] })
                c.evaluations &+= 1
                c.lastEvaluation = duration
                if !transitions.isEmpty || !notifications.isEmpty { c.dirty = true }
                return (transitions, notifications, Self.snapshotIfDirty(&c, now: now))
            }
            hooks.submit(notifications)
            if let snapshot { writer?.save(snapshot) }
            return AlertEvaluationReport(now: now, transitions: transitions, notifications: notifications, duration: duration)
        }
    }

    private static func snapshotIfDirty(_ c: inout Core, now: Int64) -> PersistedAlertState? {
        guard c.dirty else { return nil }
        c.dirty = false
        let alerts = c.machine.alerts.values
            .sorted { $0.key.rule != $1.key.rule ? $0.key.rule < $1.key.rule : $0.key.fingerprint < $1.key.fingerprint }
            .map { PersistedAlert(alert: $0, lastNotifiedAt: c.notifier.lastSent[$0.key]) }
        return PersistedAlertState(savedAt: now, alerts: alerts)
    }

    // MARK: Rules

    /// Parses `yaml` and replaces the rules, hooks and repeat interval.
    ///
    /// Alerts of rules that still exist keep their state; rules whose selector, aggregation,
    /// window and `group_by` are unchanged keep their collected windows (the others start
    /// empty and their alerts are held, see ``AlertEngineOptions/restoreGrace``). Firing alerts
    /// of removed rules get a resolved notice.
    /// - Throws: ``RuleError``; then nothing changes.
    public func reload(yaml: String) throws(RuleError) {
        try reload(rules: AlertRuleSet.load(yaml: yaml, builtins: options.builtins))
    }

    /// Replaces the rules with an already validated set; see ``reload(yaml:)``.
    public func reload(rules: AlertRuleSet) throws(RuleError) {
        try round.withLock { _ throws(RuleError) in
            try Self.configure(hooks, rules)
            let now = clock.now
            let (reset, interest) = input.withLock { intake in (intake.updateRules(rules.rules), intake.interest) }
            interestBox.withLock { $0 = interest }
            let (notifications, snapshot) = core.withLock { c in
                let old = c.machine.rules
                let transitions = c.machine.updateRules(rules.rules, now: now, resetSeries: reset, holdFor: options.restoreGrace)
                c.ruleSet = rules
                c.notifier.repeatInterval = rules.repeatInterval
                let current = c.machine.rules
                let notifications = c.notifier.plan(
                    now: now, transitions: transitions, firing: c.machine.firing, rules: { current[$0] ?? old[$0] })
                c.dirty = true
                return (notifications, Self.snapshotIfDirty(&c, now: now))
            }
            hooks.submit(notifications)
            if let snapshot { writer?.save(snapshot) }
            logger.info("alert rules loaded", metadata: [
                "alert.rules": "\(rules.rules.count)", "alert.hooks": "\(rules.hooks.count)", "alert.reset": "\(reset.sorted())",
            ])
        }
    }

    /// Asks the hooks to reopen their files (call on SIGHUP, after logrotate). Never blocks.
    public func reopenHooks() { hooks.reopen() }

    /// The rules in force (built-in ones included), encodable for `GET /api/v1/rules`.
    public var rules: [AlertRule] { core.withLock { $0.ruleSet.rules } }

    /// The rule set in force.
    public var ruleSet: AlertRuleSet { core.withLock { $0.ruleSet } }

    // MARK: Inspection

    /// Pending and firing alerts, by rule then fingerprint, for `GET /api/v1/alerts`.
    public var activeAlerts: [ActiveAlert] {
        core.withLock { c in
            c.machine.alerts.values
                .sorted { $0.key.rule != $1.key.rule ? $0.key.rule < $1.key.rule : $0.key.fingerprint < $1.key.fingerprint }
                .compactMap { a in
                    guard let rule = c.machine.rules[a.key.rule] else { return nil }
                    let labels = rule.alertLabels(groupLabels: a.key.labels)
                    return ActiveAlert(
                        rule: rule.name, severity: rule.severity, state: a.state, fingerprint: a.key.fingerprintHex, labels: labels,
                        annotations: rule.renderedAnnotations(labels: labels, value: a.value), value: a.value, since: a.since,
                        sinceTime: RecordJSON.rfc3339(a.since), activeSince: a.activeSince, firingSince: a.firingSince)
                }
        }
    }

    /// Counters.
    public var stats: AlertEngineStats {
        let inputStats = input.withLock { $0.stats }
        let hookStats = hooks.stats
        let saveFailures = writer?.failures ?? 0
        return core.withLock { c in
            let firing = c.machine.alerts.values.filter { $0.state == .firing }.count
            return AlertEngineStats(
                input: inputStats, evaluations: c.evaluations, lastEvaluation: c.lastEvaluation,
                pending: c.machine.alerts.count - firing, firing: firing, hooks: hookStats, saveFailures: saveFailures)
        }
    }

    /// Waits until the latest state is on disk (at shutdown, and in tests).
    /// - Returns: whether it got there within `timeout`.
    @discardableResult
    public func flushState(timeout: Duration = .seconds(5)) -> Bool {
        writer?.flush(timeout: timeout) ?? true
    }
}

/// Writes alert state on a thread of its own; a newer state replaces one not yet written.
final class StateWriter: @unchecked Sendable {
    private let store: AlertStateStore
    private let logger: Logger
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var pending: PersistedAlertState?
    private var writing = false
    private var started = false
    private var failureCount: UInt64 = 0

    init(store: AlertStateStore, logger: Logger) {
        self.store = store
        self.logger = logger
    }

    var failures: UInt64 {
        condition.lock()
        defer { condition.unlock() }
        return failureCount
    }

    func save(_ state: PersistedAlertState) {
        condition.lock()
        defer { condition.unlock() }
        pending = state
        if !started {
            started = true
            let thread = Thread { [self] in work() }
            thread.name = "hypha-alert-state"
            thread.start()
        }
        condition.broadcast()
    }

    func flush(timeout: Duration) -> Bool {
        let deadline = Date().addingTimeInterval(Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
        condition.lock()
        defer { condition.unlock() }
        while pending != nil || writing {
            if !condition.wait(until: deadline) { return pending == nil && !writing }
        }
        return true
    }

    private func work() {
        while true {
            condition.lock()
            while pending == nil {
                // Idle for a while: let the thread go; the next save starts another.
                if !condition.wait(until: Date().addingTimeInterval(30)), pending == nil {
                    started = false
                    condition.unlock()
                    return
                }
            }
            let state = pending!
            pending = nil
            writing = true
            condition.unlock()
            var failed: AlertStateStoreError?
            do { try store.save(state) } catch { failed = error }
            condition.lock()
            writing = false
            if failed != nil { failureCount &+= 1 }
            condition.broadcast()
            condition.unlock()
            if let failed {
                logger.info("alert state not saved", metadata: ["alert.state.path": "\(store.path)", "alert.state.error": "\(failed.message)"])
            }
        }
    }
}
