import Platform
public import WAL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Bounds on what ``AlertInput`` keeps.
public struct AlertInputLimits: Sendable, Equatable {
    /// Active series across all rules: one per (rule, `group_by` label set), plus one per
    /// counter a `rate` rule over metrics follows. A sample that would start a series past the
    /// bound is dropped and counted in ``AlertInputStats/seriesRefused``. Default 100,000.
    public var maxSeries: Int = 100_000
    /// Entries one series keeps. Percentile rules keep every sample of the window, so this caps
    /// them: past it the oldest samples go first (the window shortens) and
    /// ``AlertInputStats/samplesOverCap`` counts them. Other aggregations keep at most one
    /// entry per ``resolution`` slot, so they reach the cap only with windows longer than
    /// `cap × resolution` (2 h 46 m at the defaults). Default 10,000.
    public var maxSamplesPerSeries: Int = 10_000
    /// Slot length in nanoseconds: samples of one series within one slot are merged into one
    /// entry (sum and count, min, max or newest, as the aggregation needs). Window edges are
    /// exact to this. Default 1 s.
    public var resolution: Int64 = AlertDuration.second

    /// Limits; the defaults are documented on each property.
    public init(maxSeries: Int = 100_000, maxSamplesPerSeries: Int = 10_000, resolution: Int64 = AlertDuration.second) {
        self.maxSeries = maxSeries
        self.maxSamplesPerSeries = maxSamplesPerSeries
        self.resolution = max(1, resolution)
    }
}

/// Counters of ``AlertInput``.
public struct AlertInputStats: Sendable, Equatable, Codable {
    /// Series held now.
    public var activeSeries = 0
    /// Samples and records taken into at least one series.
    public var accepted: UInt64 = 0
    /// Samples dropped because they would have started a series past ``AlertInputLimits/maxSeries``.
    public var seriesRefused: UInt64 = 0
    /// Oldest entries dropped because a series reached ``AlertInputLimits/maxSamplesPerSeries``.
    public var samplesOverCap: UInt64 = 0
    /// Stream samples with a reserved `hypha:` name, ignored.
    public var reservedIgnored: UInt64 = 0
}

/// What the alert rules want from the stream: a cheap prefilter for the ingest path.
///
/// Take one per batch (or after each reload) and skip every metric whose name is not in
/// ``metricNames`` and all logs when ``wantsLogs`` is false, before building
/// `MetricSample`/`LogRecord` values.
public struct AlertInterest: Sendable, Equatable {
    /// Names of the metrics any rule selects (reserved `hypha:` names excluded).
    public var metricNames: Set<String>
    /// Whether any rule selects log records.
    public var wantsLogs: Bool
    /// The mildest syslog severity any log rule takes (255 when some rule takes every
    /// severity, including unknown ones). Records with a larger severity number can be skipped.
    public var logSeverityCeiling: UInt8

    /// An interest in `metricNames` and, when `wantsLogs`, log records up to `logSeverityCeiling`.
    public init(metricNames: Set<String> = [], wantsLogs: Bool = false, logSeverityCeiling: UInt8 = 255) {
        self.metricNames = metricNames
        self.wantsLogs = wantsLogs
        self.logSeverityCeiling = logSeverityCeiling
    }

    /// Whether a metric named `name` can matter to any rule.
    @inlinable public func wantsMetric(named name: String) -> Bool { metricNames.contains(name) }

    /// Whether a log record of syslog `severity` (``LogRecord/unknownLevel`` when unknown) can
    /// matter to any rule.
    @inlinable public func wantsLog(severity: UInt8) -> Bool { wantsLogs && severity <= logSeverityCeiling }

    /// Whether nothing from the stream can matter.
    public var isEmpty: Bool { metricNames.isEmpty && !wantsLogs }
}

/// The alert engine's intake: per (rule, group label set) only what the rule's window needs.
///
/// A pure value (no locks, no clock, no I/O): ``AlertEngine`` keeps one under its input lock.
/// Samples and records enter a batch at a time; each rule that selects one adds it to the
/// series of its group. ``evaluate(now:)`` trims every window to `(now - window, …]`, drops
/// series left empty, and returns each group's aggregated value.
///
/// Timestamps are the records' own (nanoseconds since the epoch). Samples stamped later than
/// `now` count; samples older than their window are dropped when the window is trimmed.
///
/// Memory: bounded by ``AlertInputLimits/maxSeries`` series of at most
/// ``AlertInputLimits/maxSamplesPerSeries`` 24-byte entries each; typical series (one sample
/// every 10 s, 5 min window) hold 30 entries.
///
/// - Complexity: ingest is O(rules selecting the sample) per sample, with no allocation once its
///   series exists; evaluation is O(entries held).
public struct AlertInput: Sendable {
    /// The bounds in force.
    public private(set) var limits: AlertInputLimits
    /// Counters since creation.
    public private(set) var stats = AlertInputStats()
    /// The prefilter for the current rules.
    public private(set) var interest = AlertInterest()
    var stores: [RuleStore] = []
    private var rulesByMetric: [String: [Int]] = [:]
    private var logRules: [Int] = []

    /// An intake for `rules`.
    public init(rules: [AlertRule], limits: AlertInputLimits = AlertInputLimits()) {
        self.limits = limits
        updateRules(rules)
    }

    /// Whether a metric named `name` can matter to any rule.
    public func wantsMetric(named name: String) -> Bool { interest.wantsMetric(named: name) }

    /// Whether any rule selects log records.
    public var wantsLogs: Bool { interest.wantsLogs }

    /// Replaces the rules. A rule whose name, selector, aggregation, window and `group_by` are
    /// unchanged keeps its series; the others start empty.
    /// - Returns: the names of rules that exist in both sets but lost their series.
    @discardableResult
    public mutating func updateRules(_ rules: [AlertRule]) -> Set<String> {
        var old: [String: RuleStore] = [:]
        for s in stores { old[s.rule.name] = s }
        var reset = Set<String>()
        stores = rules.map { rule in
            if var s = old[rule.name], s.rule.sharesSeries(with: rule) {
                s.rule = rule
                return s
            }
            if old[rule.name] != nil { reset.insert(rule.name) }
            return RuleStore(rule: rule)
        }
        rulesByMetric = [:]
        logRules = []
        var names = Set<String>()
        var ceiling: UInt8 = 0
        for (i, s) in stores.enumerated() {
            switch s.rule.selector {
            case .metric(let m):
                rulesByMetric[m.metric, default: []].append(i)
                if !m.metric.hasPrefix(ControlSignals.Metric.reservedPrefix) { names.insert(m.metric) }
            case .logs(let l):
                logRules.append(i)
                ceiling = max(ceiling, l.severityAtMost ?? LogRecord.unknownLevel)
            }
        }
        interest = AlertInterest(metricNames: names, wantsLogs: !logRules.isEmpty, logSeverityCeiling: logRules.isEmpty ? 0 : ceiling)
        stats.activeSeries = stores.reduce(0) { $0 + $1.seriesCount }
        return reset
    }

    /// Takes a batch of metric samples from the stream. Samples no rule selects cost one
    /// dictionary lookup; reserved `hypha:` names are ignored.
    public mutating func ingest(samples: [MetricSample]) {
        ingest(samples, signals: false)
    }

    /// Takes the control plane's signals as samples stamped `now` (see ``ControlSignals``).
    public mutating func ingest(signals: ControlSignals, now: Int64) {
        ingest(signals.samples(at: now), signals: true)
    }

    private mutating func ingest(_ samples: [MetricSample], signals: Bool) {
        guard !rulesByMetric.isEmpty else { return }
        var budget = Budget(limits: limits, active: stats.activeSeries)
        for sample in samples {
            guard let indices = rulesByMetric[sample.name] else { continue }
            if !signals, sample.name.utf8.starts(with: ControlSignals.Metric.reservedPrefix.utf8) {
                stats.reservedIgnored &+= 1
                continue
            }
            var taken = false
            for i in indices where stores[i].add(metric: sample, budget: &budget) { taken = true }
            if taken { stats.accepted &+= 1 }
        }
        commit(budget)
    }

    /// Takes a batch of log records.
    public mutating func ingest(logs: [LogRecord]) {
        guard !logRules.isEmpty else { return }
        var budget = Budget(limits: limits, active: stats.activeSeries)
        for record in logs {
            var taken = false
            for i in logRules where stores[i].add(log: record, budget: &budget) { taken = true }
            if taken { stats.accepted &+= 1 }
        }
        commit(budget)
    }

    private mutating func commit(_ budget: Budget) {
        stats.activeSeries = budget.active
        stats.seriesRefused &+= budget.refused
        stats.samplesOverCap &+= budget.overCap
    }

    /// Trims every window to `now` and returns every group's value, by alert key (groups whose
    /// aggregation has no value are absent). For tests and inspection; ``AlertEngine`` uses a
    /// path that skips groups that cannot change any alert.
    public mutating func evaluate(now: Int64) -> [AlertKey: Double] {
        var out: [AlertKey: Double] = [:]
        for i in stores.indices {
            evaluate(storeAt: i, now: now) { key, value, _ in out[key] = value }
        }
        return out
    }

    /// Trims and aggregates the rule at `index`, calling `body(key, value, conditionHolds)` for each group with a value.
    /// With `also` non-nil only groups whose condition holds or whose fingerprint is in `also` are reported.
    mutating func evaluate(storeAt index: Int, now: Int64, also: Set<UInt64>? = nil, _ body: (AlertKey, Double, Bool) -> Void) {
        var budget = Budget(limits: limits, active: stats.activeSeries)
        stores[index].evaluate(now: now, budget: &budget, also: also, body)
        commit(budget)
    }

    /// The group values of one rule at `now` (trimming its windows), by grouped labels.
    public mutating func values(ofRule name: String, now: Int64) -> [[String: String]: Double] {
        guard let i = stores.firstIndex(where: { $0.rule.name == name }) else { return [:] }
        var out: [[String: String]: Double] = [:]
        evaluate(storeAt: i, now: now) { key, value, _ in out[key.labels] = value }
        return out
    }
}

/// Running series count during one batch.
struct Budget {
    let limits: AlertInputLimits
    var active: Int
    var refused: UInt64 = 0
    var overCap: UInt64 = 0

    init(limits: AlertInputLimits, active: Int) {
        self.limits = limits
        self.active = active
    }

    /// Claims room for one new series; counts a refusal when there is none.
    mutating func claim() -> Bool {
        guard active < limits.maxSeries else {
            refused &+= 1
            return false
        }
        active += 1
        return true
    }
}

// MARK: - Per-rule storage

/// One window entry: the samples of one series in one resolution slot, merged.
struct SeriesEntry {
    /// Newest timestamp merged in.
    var ts: Int64
    /// Sum, minimum, maximum or newest value (by the rule's merge mode); the raw value for
    /// percentiles; the counter increase for `rate`.
    var value: Double
    /// Samples merged in.
    var n: UInt32
}

/// How a series merges samples that share a slot.
enum MergeMode {
    case sum, min, max, newest, raw

    init(_ aggregation: AlertAggregation) {
        switch aggregation {
        case .avg, .sum, .count, .rate: self = .sum
        case .min: self = .min
        case .max: self = .max
        case .last: self = .newest
        case .p50, .p90, .p99: self = .raw
        }
    }
}

/// The entries of one (rule, group) series, oldest first from `head`.
struct SeriesBuffer {
    var entries: [SeriesEntry] = []
    var head = 0

    var isEmpty: Bool { head == entries.count }
    var count: Int { entries.count - head }

    mutating func append(ts: Int64, value: Double, mode: MergeMode, resolution: Int64, cap: Int, overCap: inout UInt64) {
        if head < entries.count {
            let last = entries.count - 1
            switch mode {
            case .newest:
                if ts >= entries[last].ts { entries[last] = SeriesEntry(ts: ts, value: value, n: 1) }
                return
            case .raw:
                break
            case .sum, .min, .max:
                if Self.slot(ts, resolution) == Self.slot(entries[last].ts, resolution) {
                    var e = entries[last]
                    switch mode {
                    case .sum: e.value += value
                    case .min: e.value = Swift.min(e.value, value)
                    default: e.value = Swift.max(e.value, value)
                    }
                    e.n &+= 1
                    e.ts = Swift.max(e.ts, ts)
                    entries[last] = e
                    return
                }
            }
        }
        if count >= cap {
            head += 1
            overCap &+= 1
        }
        if head > 32, head * 2 > entries.count {
            entries.removeFirst(head)
            head = 0
        }
        entries.append(SeriesEntry(ts: ts, value: value, n: 1))
    }

    @inline(__always) static func slot(_ ts: Int64, _ resolution: Int64) -> Int64 {
        ts >= 0 ? ts / resolution : (ts - resolution + 1) / resolution
    }

    /// One value for the entries after `cutoff`; see ``AlertAggregation``.
    func aggregate(_ aggregation: AlertAggregation, cutoff: Int64, windowSeconds: Double, logs: Bool, scratch: inout [Double]) -> Double? {
        entries.withUnsafeBufferPointer { all in
            let entries = UnsafeBufferPointer(rebasing: all[head...])
            switch aggregation {
            case .avg, .sum, .count, .rate:
                var sum = 0.0
                var n: UInt64 = 0
                for e in entries where e.ts > cutoff {
                    sum += e.value
                    n &+= UInt64(e.n)
                }
                switch aggregation {
                case .avg: return n == 0 ? nil : sum / Double(n)
                case .sum: return n == 0 ? nil : sum
                case .count: return Double(n)
                default: return (logs ? Double(n) : sum) / windowSeconds
                }
            case .min, .max:
                var out: Double?
                for e in entries where e.ts > cutoff {
                    if let o = out { out = aggregation == .min ? Swift.min(o, e.value) : Swift.max(o, e.value) } else { out = e.value }
                }
                return out
            case .last:
                var best: SeriesEntry?
                for e in entries where e.ts > cutoff && e.ts >= (best?.ts ?? .min) { best = e }
                return best?.value
            case .p50, .p90, .p99:
                scratch.removeAll(keepingCapacity: true)
                for e in entries where e.ts > cutoff { scratch.append(e.value) }
                guard !scratch.isEmpty else { return nil }
                scratch.sort()
                let p = aggregation == .p50 ? 50 : aggregation == .p90 ? 90 : 99
                let rank = (p * scratch.count + 99) / 100  // ⌈p·N/100⌉, at least 1
                return scratch[Swift.max(rank, 1) - 1]
            }
        }
    }

    /// Drops entries at or before `cutoff` from the front.
    mutating func trim(after cutoff: Int64) {
        while head < entries.count, entries[head].ts <= cutoff { head += 1 }
        if head == entries.count {
            entries.removeAll(keepingCapacity: entries.capacity <= 64)
            head = 0
        } else if head >= 4 {
            // Keep the live entries at the front: evaluation then touches the array's first lines only.
            entries.removeFirst(head)
            head = 0
        }
    }
}

/// A group's identity inside a rule and its series.
struct GroupSeries {
    /// Values of the rule's `group_by` labels, in its order.
    var values: [String]
    var hash: UInt64
    var key: AlertKey
    var buffer = SeriesBuffer()
}

/// An open-addressing index of a rule's groups by hash (linear probing, backward-shift
/// deletion, load ≤ 1/2). Slots hold group indices; equality is decided by the caller, so
/// colliding hashes simply probe on.
struct GroupTable {
    private var slots: [Int32] = Array(repeating: -1, count: 8)
    private var mask = 7
    private var count = 0

    @inline(__always) private static func mix(_ h: UInt64) -> Int {
        var x = h
        x ^= x >> 33
        x = x &* 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        return Int(truncatingIfNeeded: x)
    }

    /// The group with `hash` that `matches` accepts.
    @inline(__always) func find(_ hash: UInt64, _ matches: (Int) -> Bool) -> Int? {
        var i = Self.mix(hash) & mask
        while true {
            let g = slots[i]
            if g < 0 { return nil }
            if matches(Int(g)) { return Int(g) }
            i = (i + 1) & mask
        }
    }

    /// Adds group `index`; `hashOf` gives any group's hash (for growing).
    mutating func insert(_ hash: UInt64, index: Int, hashOf: (Int) -> UInt64) {
        if (count + 1) * 2 > slots.count {
            let old = slots
            slots = Array(repeating: -1, count: old.count * 2)
            mask = slots.count - 1
            for g in old where g >= 0 { place(hashOf(Int(g)), Int32(g)) }
        }
        place(hash, Int32(index))
        count += 1
    }

    private mutating func place(_ hash: UInt64, _ g: Int32) {
        var i = Self.mix(hash) & mask
        while slots[i] >= 0 { i = (i + 1) & mask }
        slots[i] = g
    }

    private func slot(of index: Int, hash: UInt64) -> Int {
        var i = Self.mix(hash) & mask
        while slots[i] != Int32(index) { i = (i + 1) & mask }
        return i
    }

    /// Points the entry of group `old` (with `hash`) at `new`.
    mutating func renumber(_ hash: UInt64, from old: Int, to new: Int) {
        slots[slot(of: old, hash: hash)] = Int32(new)
    }

    /// Removes group `index`.
    mutating func remove(_ hash: UInt64, index: Int, hashOf: (Int) -> UInt64) {
        var hole = slot(of: index, hash: hash)
        var j = (hole + 1) & mask
        while slots[j] >= 0 {
            let home = Self.mix(hashOf(Int(slots[j]))) & mask
            // Move the entry back into the hole unless its home lies cyclically in (hole, j].
            let stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j)
            if !stays {
                slots[hole] = slots[j]
                hole = j
            }
            j = (j + 1) & mask
        }
        slots[hole] = -1
        count -= 1
    }
}

/// The last sample of one counter a `rate` rule follows.
struct CounterState {
    var ts: Int64
    var value: Double
}

/// Everything one rule keeps.
struct RuleStore {
    var rule: AlertRule
    let mode: MergeMode
    var groups: [GroupSeries] = []
    var table = GroupTable()
    /// The rule's `group_by`, and for metric rules its matchers (copied out of `rule` for the hot path).
    let groupBy: [String]
    let matchers: [LabelMatcher]
    /// Counters of a `rate` rule over metrics, by hash of the full label set.
    var counters: [UInt64: CounterState] = [:]
    /// Per regex matcher: label value → matches (cleared past 10,000 entries).
    var regexCache: [[String: Bool]]
    let isMetricRate: Bool

    static let regexCacheLimit = 10_000

    init(rule: AlertRule) {
        self.rule = rule
        mode = MergeMode(rule.aggregation)
        groupBy = rule.groupBy
        switch rule.selector {
        case .metric(let m):
            matchers = m.matchers
            regexCache = Array(repeating: [:], count: m.matchers.count)
            isMetricRate = rule.aggregation == .rate
        case .logs:
            matchers = []
            regexCache = [[:], [:]]
            isMetricRate = false
        }
    }

    var seriesCount: Int { groups.count + counters.count }

    // MARK: Matching

    mutating func matches(_ matcher: LabelMatcher, _ value: String, cache slot: Int) -> Bool {
        switch matcher.op {
        case .equal: return value == matcher.value
        case .notEqual: return value != matcher.value
        case .matches, .notMatches:
            let hit: Bool
            if let cached = regexCache[slot][value] {
                hit = cached
            } else {
                hit = matcher.regex!.wholeMatches(value)
                if regexCache[slot].count >= Self.regexCacheLimit { regexCache[slot].removeAll(keepingCapacity: true) }
                regexCache[slot][value] = hit
            }
            return matcher.op == .matches ? hit : !hit
        }
    }

    @inline(__always) static func label(_ labels: [(String, String)], _ name: String) -> String {
        for (k, v) in labels where k == name { return v }
        return ""
    }

    /// Adds a metric sample if the rule's matchers accept it. Returns whether it was taken.
    mutating func add(metric sample: MetricSample, budget: inout Budget) -> Bool {
        let labels = sample.labels
        for i in 0 ..< matchers.count where !matches(matchers[i], Self.label(labels, matchers[i].label), cache: i) {
            return false
        }
        var value = sample.value
        if isMetricRate {
            // Follow the counter; its increase since its previous sample is what the window holds.
            let id = Self.seriesHash(labels)
            if let previous = counters[id] {
                guard sample.timestamp > previous.ts else { return false }
                counters[id] = CounterState(ts: sample.timestamp, value: sample.value)
                value = sample.value >= previous.value ? sample.value - previous.value : sample.value
            } else {
                guard budget.claim() else { return false }
                counters[id] = CounterState(ts: sample.timestamp, value: sample.value)
                return true
            }
        }
        var h = FNV1a()
        for j in 0 ..< groupBy.count {
            h.add(Self.label(labels, groupBy[j]))
            h.add(byte: 0xFF)
        }
        let hash = h.value
        var g = table.find(hash) { g in
            guard groups[g].hash == hash else { return false }
            for j in 0 ..< groupBy.count where groups[g].values[j] != Self.label(labels, groupBy[j]) { return false }
            return true
        }
        if g == nil {
            guard budget.claim() else { return false }
            g = addGroup(hash: hash, values: groupBy.map { Self.label(labels, $0) })
        }
        groups[g!].buffer.append(ts: sample.timestamp, value: value, mode: mode, resolution: budget.limits.resolution,
                                 cap: budget.limits.maxSamplesPerSeries, overCap: &budget.overCap)
        return true
    }

    /// Adds a log record if the rule's selector accepts it. Returns whether it was taken.
    mutating func add(log record: LogRecord, budget: inout Budget) -> Bool {
        guard case .logs(let selector) = rule.selector else { return false }
        if let most = selector.severityAtMost, record.severity > most { return false }  // unknown (255) fails too
        if let m = selector.source, !matches(m, record.host, cache: 0) { return false }
        if let m = selector.app, !matches(m, record.app, cache: 1) { return false }
        if let needle = selector.contains, !Self.contains(record.message, needle) { return false }
        func field(_ name: String) -> String {
            switch name {
            case "source": record.host
            case "app": record.app
            default: record.severity == LogRecord.unknownLevel ? "" : String(record.severity)
            }
        }
        var h = FNV1a()
        for j in 0 ..< groupBy.count {
            h.add(field(groupBy[j]))
            h.add(byte: 0xFF)
        }
        let hash = h.value
        var g = table.find(hash) { g in
            guard groups[g].hash == hash else { return false }
            for j in 0 ..< groupBy.count where groups[g].values[j] != field(groupBy[j]) { return false }
            return true
        }
        if g == nil {
            guard budget.claim() else { return false }
            g = addGroup(hash: hash, values: groupBy.map(field))
        }
        groups[g!].buffer.append(ts: record.timestamp, value: 1, mode: .sum, resolution: budget.limits.resolution,
                                 cap: budget.limits.maxSamplesPerSeries, overCap: &budget.overCap)
        return true
    }

    /// Creates a group (its series was already claimed from the budget).
    private mutating func addGroup(hash: UInt64, values: [String]) -> Int {
        var labels: [String: String] = [:]
        for (name, v) in zip(groupBy, values) where !v.isEmpty { labels[name] = v }
        let i = groups.count
        groups.append(GroupSeries(values: values, hash: hash, key: AlertKey(rule: rule.name, labels: labels)))
        table.insert(hash, index: i) { groups[$0].hash }
        return i
    }

    /// Order-independent hash of a full label set (one counter's identity).
    static func seriesHash(_ labels: [(String, String)]) -> UInt64 {
        var total: UInt64 = 0x9E37_79B9_7F4A_7C15
        for (k, v) in labels {
            var h = FNV1a()
            h.add(k)
            h.add(byte: 0)
            h.add(v)
            total = total &+ (h.value ^ (h.value >> 29)) &* 0xBF58_476D_1CE4_E5B9
        }
        return total
    }

    static func contains(_ haystack: String, _ needle: String) -> Bool {
        var h = haystack
        var n = needle
        return h.withUTF8 { hb in
            n.withUTF8 { nb in
                guard nb.count <= hb.count else { return false }
                guard let first = nb.first else { return true }
                let last = hb.count - nb.count
                var i = 0
                while i <= last {
                    guard let p = memchr(hb.baseAddress! + i, Int32(first), last - i + 1) else { return false }
                    i = hb.baseAddress!.distance(to: p.assumingMemoryBound(to: UInt8.self))
                    if memcmp(hb.baseAddress! + i, nb.baseAddress!, nb.count) == 0 { return true }
                    i += 1
                }
                return false
            }
        }
    }

    // MARK: Evaluation

    /// Trims, aggregates, drops empty groups and expired counters; calls `body` per group value.
    mutating func evaluate(now: Int64, budget: inout Budget, also: Set<UInt64>?, _ body: (AlertKey, Double, Bool) -> Void) {
        let cutoff = now &- rule.window
        let aggregation = rule.aggregation
        let condition = rule.condition
        if isMetricRate, !counters.isEmpty {
            let before = counters.count
            counters = counters.filter { $0.value.ts > cutoff }
            budget.active -= before - counters.count
        }
        let windowSeconds = Double(rule.window) / 1e9
        let isLogs: Bool = if case .logs = rule.selector { true } else { false }
        var scratch: [Double] = []
        var i = 0
        while i < groups.count {
            groups[i].buffer.trim(after: cutoff)
            if groups[i].buffer.isEmpty {
                removeGroup(at: i)
                budget.active -= 1
                continue
            }
            if let v = groups[i].buffer.aggregate(aggregation, cutoff: cutoff, windowSeconds: windowSeconds, logs: isLogs,
                                                  scratch: &scratch) {
                let holds = condition.holds(for: v)
                if holds || also.map({ $0.isEmpty ? false : $0.contains(groups[i].key.fingerprint) }) ?? true {
                    body(groups[i].key, v, holds)
                }
            }
            i += 1
        }
        if groups.isEmpty, rule.groupBy.isEmpty, aggregation == .count || aggregation == .rate {
            let holds = condition.holds(for: 0)
            let key = AlertKey(rule: rule.name)
            if holds || also.map({ $0.contains(key.fingerprint) }) ?? true { body(key, 0, holds) }
        }
    }

    private mutating func removeGroup(at i: Int) {
        table.remove(groups[i].hash, index: i) { groups[$0].hash }
        let last = groups.count - 1
        if i != last {
            table.renumber(groups[last].hash, from: last, to: i)
            groups.swapAt(i, last)
        }
        groups.removeLast()
    }

}
