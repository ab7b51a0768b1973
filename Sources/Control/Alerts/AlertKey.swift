/// The identity of one alert: its rule and the values of the rule's `group_by` labels.
///
/// Hashing uses the precomputed ``fingerprint`` only, so keys are cheap to put in sets and
/// dictionaries; equality compares the rule and labels in full.
public struct AlertKey: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The rule's name.
    public let rule: String
    /// The grouped labels with a non-empty value (empty for a rule without `group_by`).
    public let labels: [String: String]
    /// A stable 64-bit hash of ``rule`` and ``labels`` (FNV-1a over the rule name and the
    /// labels sorted by name), the same in every process and on every machine.
    public let fingerprint: UInt64

    /// The key of `rule`'s alert for the grouped `labels` (pass only non-empty values).
    public init(rule: String, labels: [String: String] = [:]) {
        self.rule = rule
        self.labels = labels
        fingerprint = Self.fingerprint(rule: rule, labels: labels)
    }

    /// ``fingerprint`` as 16 lower-case hex digits: the `fingerprint` of notifications.
    public var fingerprintHex: String {
        let s = String(fingerprint, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }

    /// `Rule{a="1",b="2"}`.
    public var description: String {
        rule + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\"\($0.value)\"" }.joined(separator: ",") + "}"
    }

    /// Hashes the precomputed fingerprint.
    public func hash(into hasher: inout Hasher) { hasher.combine(fingerprint) }

    /// Same rule and same labels.
    public static func == (a: AlertKey, b: AlertKey) -> Bool {
        a.fingerprint == b.fingerprint && a.rule == b.rule && a.labels == b.labels
    }

    private enum CodingKeys: String, CodingKey { case rule, labels }

    /// Decodes `{"rule":…,"labels":{…}}` and recomputes the fingerprint.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(rule: try c.decode(String.self, forKey: .rule), labels: try c.decode([String: String].self, forKey: .labels))
    }

    /// Encodes `{"rule":…,"labels":{…}}`.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(rule, forKey: .rule)
        try c.encode(labels, forKey: .labels)
    }

    static func fingerprint(rule: String, labels: [String: String]) -> UInt64 {
        var h = FNV1a()
        h.add(rule)
        h.add(byte: 0xFF)
        for (k, v) in labels.sorted(by: { $0.key < $1.key }) {
            h.add(k)
            h.add(byte: 0x00)
            h.add(v)
            h.add(byte: 0xFF)
        }
        return h.value
    }
}

/// 64-bit FNV-1a: stable across processes (unlike `Hasher`), for fingerprints and series keys.
struct FNV1a {
    private(set) var value: UInt64 = 0xcbf2_9ce4_8422_2325

    @inline(__always) mutating func add(byte: UInt8) {
        value = (value ^ UInt64(byte)) &* 0x0000_0100_0000_01B3
    }

    @inline(__always) mutating func add(_ s: String) {
        var s = s
        s.withUTF8 { bytes in
            for b in bytes { add(byte: b) }
        }
    }
}

/// Where an alert is in its life: inactive → pending → firing → resolved (→ inactive).
///
/// Only pending and firing alerts are kept; resolved is the state an alert reports in the one
/// transition that ends it, and inactive the state of an alert that is not kept.
public enum AlertState: String, Sendable, Codable, CaseIterable {
    /// Not kept: the condition does not hold.
    case inactive
    /// The condition holds, for less than the rule's `for`.
    case pending
    /// The condition has held for `for` (or stopped less than `keep_firing_for` ago).
    case firing
    /// It was firing and has stopped: reported once, then forgotten.
    case resolved
}
