/// One change of an alert's state, returned by ``AlertStateMachine``.
public struct AlertTransition: Sendable, Equatable {
    /// The alert.
    public var key: AlertKey
    /// The state before.
    public var from: AlertState
    /// The state after.
    public var to: AlertState
    /// The evaluation time of the change.
    public var at: Int64
    /// The newest aggregated value (`nil` when the group has had no value).
    public var value: Double?
    /// When the condition started holding.
    public var activeSince: Int64
    /// When the alert started firing, for transitions from or to firing.
    public var firingSince: Int64?

    /// A transition; see the properties.
    public init(key: AlertKey, from: AlertState, to: AlertState, at: Int64, value: Double?, activeSince: Int64, firingSince: Int64?) {
        self.key = key
        self.from = from
        self.to = to
        self.at = at
        self.value = value
        self.activeSince = activeSince
        self.firingSince = firingSince
    }
}

/// The pure alert state machine: given each evaluation's values, it moves alerts through
/// inactive → pending → firing → resolved and says what changed. No clock, no I/O.
///
/// Per alert key (rule + grouped labels), at each ``evaluate(now:values:)``:
/// - condition holds, no alert yet: pending since `now`, or firing at once when the rule's
///   `for` is 0;
/// - condition holds, pending: firing once it has held for `for` (`now - activeSince >= for`);
/// - condition does not hold (false, no value, or key absent), pending: back to inactive (the
///   next time it holds, `for` starts over: flapping input never fires early);
/// - condition does not hold, firing: stays firing until it has not held for
///   `keep_firing_for` (counted from the first evaluation where it stopped holding), then
///   resolved; the alert is forgotten after that transition.
///
/// A restored alert (``restore(_:now:holdFor:)``) or one of a rule whose series were reset by a
/// reload is *held* for a while: until then a false or missing value leaves it as it is,
/// because the window it is judged on is still refilling.
///
/// ```swift
/// var machine = AlertStateMachine(rules: [rule])
/// let key = AlertKey(rule: rule.name, labels: ["host": "a"])
/// machine.evaluate(now: t0, values: [key: 95])      // [inactive → pending]
/// machine.evaluate(now: t0 + rule.forDuration, values: [key: 97])  // [pending → firing]
/// ```
public struct AlertStateMachine: Sendable {
    /// A pending or firing alert.
    public struct Alert: Sendable, Equatable, Codable {
        /// The alert.
        public var key: AlertKey
        /// ``AlertState/pending`` or ``AlertState/firing``.
        public var state: AlertState
        /// When the condition started holding (the pending start).
        public var activeSince: Int64
        /// When it started firing.
        public var firingSince: Int64?
        /// The first evaluation where the condition stopped holding while firing (for `keep_firing_for`).
        public var keepFiringSince: Int64?
        /// The newest aggregated value.
        public var value: Double?
        /// Until when a false or missing value does not change it (after a restart or a reset).
        public var holdUntil: Int64?

        /// The time shown for the current state: ``firingSince`` when firing, else ``activeSince``.
        public var since: Int64 { state == .firing ? (firingSince ?? activeSince) : activeSince }

        /// An alert; see the properties.
        public init(
            key: AlertKey, state: AlertState, activeSince: Int64, firingSince: Int64? = nil, keepFiringSince: Int64? = nil,
            value: Double? = nil, holdUntil: Int64? = nil
        ) {
            self.key = key
            self.state = state
            self.activeSince = activeSince
            self.firingSince = firingSince
            self.keepFiringSince = keepFiringSince
            self.value = value
            self.holdUntil = holdUntil
        }
    }

    /// The rules, by name.
    public private(set) var rules: [String: AlertRule] = [:]
    /// Pending and firing alerts.
    public private(set) var alerts: [AlertKey: Alert] = [:]

    /// A machine for `rules`, with no alerts.
    public init(rules: [AlertRule]) {
        for r in rules { self.rules[r.name] = r }
    }

    /// Firing alerts.
    public var firing: [Alert] { alerts.values.filter { $0.state == .firing } }

    /// Runs one evaluation.
    /// - Parameters:
    ///   - now: the evaluation time, nanoseconds since the epoch.
    ///   - values: aggregated values by alert key; `nil` or an absent key means no value (the
    ///     condition does not hold). Keys of unknown rules are ignored. Passing only the keys
    ///     whose condition holds plus the keys of current ``alerts`` gives the same result as
    ///     passing every group.
    /// - Returns: the changes, ordered by rule name and fingerprint.
    public mutating func evaluate(now: Int64, values: [AlertKey: Double?]) -> [AlertTransition] {
        var out: [AlertTransition] = []
        var held = Set<AlertKey>()
        for (key, value) in values {
            guard let rule = rules[key.rule], let v = value, rule.condition.holds(for: v) else { continue }
            held.insert(key)
            if var a = alerts[key] {
                a.value = v
                a.keepFiringSince = nil
                if a.state == .pending, now &- a.activeSince >= rule.forDuration {
                    a.state = .firing
                    a.firingSince = now
                    out.append(transition(a, from: .pending, at: now))
                }
                alerts[key] = a
            } else {
                let fires = rule.forDuration <= 0
                let a = Alert(key: key, state: fires ? .firing : .pending, activeSince: now, firingSince: fires ? now : nil, value: v)
                alerts[key] = a
                out.append(transition(a, from: .inactive, at: now))
            }
        }
        for (key, var a) in alerts where !held.contains(key) {
            if let v = values[key] ?? nil { a.value = v }
            guard let rule = rules[key.rule] else { continue }
            if let hold = a.holdUntil {
                if now < hold {
                    alerts[key] = a
                    continue
                }
                a.holdUntil = nil
            }
            switch a.state {
            case .pending:
                alerts.removeValue(forKey: key)
                var t = transition(a, from: .pending, at: now)
                t.to = .inactive
                out.append(t)
            case .firing:
                let since = a.keepFiringSince ?? now
                if now &- since < rule.keepFiringFor {
                    a.keepFiringSince = since
                    alerts[key] = a
                } else {
                    alerts.removeValue(forKey: key)
                    var t = transition(a, from: .firing, at: now)
                    t.to = .resolved
                    out.append(t)
                }
            default:
                alerts.removeValue(forKey: key)
            }
        }
        return out.sorted(by: Self.order)
    }

    /// Replaces the rules, keeping the alerts of rules that still exist.
    /// - Parameters:
    ///   - now: the time of the change.
    ///   - resetSeries: names of kept rules whose windows start empty: their alerts are held
    ///     for `max(window, holdFor)`.
    ///   - holdFor: the minimum hold, in nanoseconds.
    /// - Returns: alerts of removed rules: firing → resolved and pending → inactive.
    public mutating func updateRules(_ newRules: [AlertRule], now: Int64, resetSeries: Set<String> = [], holdFor: Int64 = 0) -> [AlertTransition] {
        rules = [:]
        for r in newRules { rules[r.name] = r }
        var out: [AlertTransition] = []
        for (key, var a) in alerts {
            guard let rule = rules[key.rule] else {
                alerts.removeValue(forKey: key)
                var t = transition(a, from: a.state, at: now)
                t.to = a.state == .firing ? .resolved : .inactive
                out.append(t)
                continue
            }
            if resetSeries.contains(key.rule) {
                a.holdUntil = max(a.holdUntil ?? .min, now &+ max(rule.window, holdFor))
                alerts[key] = a
            }
        }
        return out.sorted(by: Self.order)
    }

    /// Puts back alerts saved before a restart; each is held for `max(its rule's window, holdFor)`.
    /// Alerts of rules that no longer exist, and states other than pending and firing, are skipped.
    /// - Returns: the alerts taken.
    @discardableResult
    public mutating func restore(_ saved: [Alert], now: Int64, holdFor: Int64 = 0) -> [Alert] {
        var taken: [Alert] = []
        for var a in saved {
            guard let rule = rules[a.key.rule], a.state == .pending || a.state == .firing else { continue }
            if a.state == .firing, a.firingSince == nil { a.firingSince = a.activeSince }
            a.holdUntil = now &+ max(rule.window, holdFor)
            alerts[a.key] = a
            taken.append(a)
        }
        return taken
    }

    private func transition(_ a: Alert, from: AlertState, at now: Int64) -> AlertTransition {
        AlertTransition(key: a.key, from: from, to: a.state, at: now, value: a.value, activeSince: a.activeSince, firingSince: a.firingSince)
    }

    static func order(_ a: AlertTransition, _ b: AlertTransition) -> Bool {
        a.key.rule != b.key.rule ? a.key.rule < b.key.rule : a.key.fingerprint < b.key.fingerprint
    }
}
