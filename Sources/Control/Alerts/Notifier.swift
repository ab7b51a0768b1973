import Platform
import WAL

/// One alert's part of a notification: one JSON object, one line.
///
/// ```json
/// {"status":"firing","rule":"HighCPU","severity":"warning","fingerprint":"9f2c4e1a0b3d5e77",
///  "labels":{"host":"web-1","team":"ops"},"annotations":{"summary":"CPU on web-1 is 97"},
///  "value":97,"since":"2026-03-01T10:00:00.000000000Z","at":"2026-03-01T10:02:00.000000000Z","node":"hypha-1"}
/// ```
/// (on one line). `since` is when the alert started firing, `at` when this notice was decided;
/// `value` is `null` when there was none.
public struct AlertEvent: Sendable, Equatable {
    /// ``AlertState/firing`` or ``AlertState/resolved``.
    public var status: AlertState
    /// The rule's name.
    public var rule: String
    /// The rule's severity.
    public var severity: AlertSeverity
    /// The alert's identity.
    public var key: AlertKey
    /// The rule's labels over the grouped labels.
    public var labels: [String: String]
    /// The rule's annotations, rendered.
    public var annotations: [String: String]
    /// The newest aggregated value.
    public var value: Double?
    /// When the alert started firing, nanoseconds since the epoch.
    public var since: Int64
    /// When this notice was decided.
    public var at: Int64
    /// The node that decided it.
    public var node: String

    /// An event; see the properties.
    public init(
        status: AlertState, rule: String, severity: AlertSeverity, key: AlertKey, labels: [String: String],
        annotations: [String: String], value: Double?, since: Int64, at: Int64, node: String
    ) {
        self.status = status
        self.rule = rule
        self.severity = severity
        self.key = key
        self.labels = labels
        self.annotations = annotations
        self.value = value
        self.since = since
        self.at = at
        self.node = node
    }

    /// The fingerprint as 16 hex digits.
    public var fingerprint: String { key.fingerprintHex }

    /// The JSON object, keys in the documented order, maps sorted by key, no newline.
    public var json: String {
        var out = "{\"status\":" + RecordJSON.quoted(status.rawValue)
        out += ",\"rule\":" + RecordJSON.quoted(rule)
        out += ",\"severity\":" + RecordJSON.quoted(severity.rawValue)
        out += ",\"fingerprint\":" + RecordJSON.quoted(fingerprint)
        out += ",\"labels\":" + Self.object(labels)
        out += ",\"annotations\":" + Self.object(annotations)
        out += ",\"value\":" + (value.map(RecordJSON.number) ?? "null")
        out += ",\"since\":" + RecordJSON.quoted(RecordJSON.rfc3339(since))
        out += ",\"at\":" + RecordJSON.quoted(RecordJSON.rfc3339(at))
        out += ",\"node\":" + RecordJSON.quoted(node)
        return out + "}"
    }

    static func object(_ map: [String: String]) -> String {
        "{" + map.sorted { $0.key < $1.key }.map { RecordJSON.quoted($0.key) + ":" + RecordJSON.quoted($0.value) }.joined(separator: ",") + "}"
    }
}

/// What the hooks receive: the changed alerts of one rule in one evaluation.
public struct AlertNotification: Sendable, Equatable {
    /// The rule's name.
    public var rule: String
    /// The rule's severity.
    public var severity: AlertSeverity
    /// Firing events first, then resolved, each by fingerprint.
    public var events: [AlertEvent]

    /// A notification of `rule` carrying `events`.
    public init(rule: String, severity: AlertSeverity, events: [AlertEvent]) {
        self.rule = rule
        self.severity = severity
        self.events = events
    }

    /// One JSON object per event, each followed by `\n`.
    public var jsonLines: String { events.map { $0.json + "\n" }.joined() }
}

/// Decides which notifications to send: pure, no I/O.
///
/// - A firing alert is announced once (deduplicated by fingerprint), then again every
///   ``repeatInterval`` while it keeps firing.
/// - An alert that was announced as firing gets exactly one resolved notice when it resolves.
/// - Pending alerts are never announced.
/// - Events are grouped by rule: one ``AlertNotification`` per rule per evaluation.
///
/// Sending is at most once per decision: a hook that fails does not make the notifier try
/// again before the repeat interval.
public struct Notifier: Sendable {
    /// Nanoseconds between repeats of a firing notification.
    public var repeatInterval: Int64
    /// Put in every event's `node`.
    public var nodeName: String
    /// When each alert was last announced as firing.
    public private(set) var lastSent: [AlertKey: Int64] = [:]

    /// A notifier that has sent nothing yet.
    public init(repeatInterval: Int64 = AlertRuleSet.defaultRepeatInterval, nodeName: String) {
        self.repeatInterval = repeatInterval
        self.nodeName = nodeName
    }

    /// Puts back ``lastSent`` after a restart.
    public mutating func restore(lastSent saved: [AlertKey: Int64]) {
        for (k, v) in saved { lastSent[k] = v }
    }

    /// Decides the notifications of one evaluation.
    /// - Parameters:
    ///   - now: the evaluation time.
    ///   - transitions: what ``AlertStateMachine/evaluate(now:values:)`` (or a rules update) returned.
    ///   - firing: the firing alerts after it.
    ///   - rules: rule lookup by name (include removed rules when their alerts resolve).
    /// - Returns: one notification per rule with events, ordered by rule name.
    public mutating func plan(
        now: Int64, transitions: [AlertTransition], firing: [AlertStateMachine.Alert], rules: (String) -> AlertRule?
    ) -> [AlertNotification] {
        var events: [String: [AlertEvent]] = [:]
        var severities: [String: AlertSeverity] = [:]
        func add(_ status: AlertState, _ key: AlertKey, value: Double?, since: Int64) {
            guard let rule = rules(key.rule) else { return }
            let labels = rule.alertLabels(groupLabels: key.labels)
            events[key.rule, default: []].append(AlertEvent(
                status: status, rule: rule.name, severity: rule.severity, key: key, labels: labels,
                annotations: rule.renderedAnnotations(labels: labels, value: value), value: value, since: since, at: now,
                node: nodeName))
            severities[key.rule] = rule.severity
        }
        var firingKeys = Set<AlertKey>()
        for a in firing.sorted(by: { $0.key.fingerprint < $1.key.fingerprint }) where a.state == .firing {
            firingKeys.insert(a.key)
            if let last = lastSent[a.key], now &- last < repeatInterval { continue }
            lastSent[a.key] = now
            add(.firing, a.key, value: a.value, since: a.firingSince ?? a.activeSince)
        }
        for t in transitions.sorted(by: { $0.key.fingerprint < $1.key.fingerprint }) where t.to == .resolved {
            guard lastSent.removeValue(forKey: t.key) != nil else { continue }
            add(.resolved, t.key, value: t.value, since: t.firingSince ?? t.activeSince)
        }
        // Forget alerts that stopped firing without a resolved transition (rule removed, state dropped).
        if lastSent.count > firingKeys.count { lastSent = lastSent.filter { firingKeys.contains($0.key) } }
        return events.keys.sorted().map { AlertNotification(rule: $0, severity: severities[$0]!, events: events[$0]!) }
    }
}
