public import WAL

/// The identity of a daemon's de-duplication state: the HELLO extension `incarnation`
/// (docs/protocol.md, sections 5.1 and 10.2).
///
/// A daemon keeps its incarnation as long as it keeps its producer sequences and its spool of
/// unacknowledged batches; a daemon that lost them picks a new random one. The node folds it
/// into the de-duplication key of every batch, so a fresh incarnation starts fresh sequence
/// spaces for all of its producer ids, task producer ids included, and the control plane
/// assigns the daemon's tasks again at the next epoch when it changes.
///
/// On the wire and in JSON it is exactly 16 lowercase hexadecimal digits; it is never zero
/// (zero stands for "no incarnation": a version 1 session).
///
/// ```swift
/// let incarnation = DaemonIncarnation.random()   // persist it with the spool
/// var hello = NativeHello(version: 2, daemonID: "web1")
/// hello.incarnation = incarnation
/// ```
public struct DaemonIncarnation: Hashable, Sendable, CustomStringConvertible {
    /// The non-zero value.
    public let value: UInt64

    /// An incarnation with this value; `nil` for 0.
    public init?(_ value: UInt64) {
        guard value != 0 else { return nil }
        self.value = value
    }

    /// Parses the wire form: exactly 16 lowercase hexadecimal digits, not all zero.
    /// - Returns: `nil` for any other text.
    public init?(hex: some StringProtocol) {
        let utf8 = hex.utf8
        guard utf8.count == 16, utf8.allSatisfy({ (0x30 ... 0x39).contains($0) || (0x61 ... 0x66).contains($0) }),
            let value = UInt64(hex, radix: 16)
        else { return nil }
        self.init(value)
    }

    /// A new random incarnation (never zero), for a daemon that starts without state.
    public static func random() -> DaemonIncarnation {
        while true {
            if let fresh = DaemonIncarnation(UInt64.random(in: .min ... .max)) { return fresh }
        }
    }

    /// The wire form: 16 lowercase hexadecimal digits.
    public var description: String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }
}

extension DaemonIncarnation: Codable {
    /// Decodes the wire form (a JSON string of 16 lowercase hex digits).
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let parsed = DaemonIncarnation(hex: text) else {
            throw DecodingError.dataCorrupted(.init(
                codingPath: decoder.codingPath, debugDescription: "'\(text)' is not 16 lowercase hex digits, not all zero"))
        }
        self = parsed
    }

    /// Encodes the wire form.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// The keys of the `extensions` pairs of HELLO and HELLO_OK, protocol version 2
/// (docs/protocol.md, sections 5.1 and 5.2). Receivers ignore keys they do not know.
public enum NativeExtensionKey {
    /// HELLO: the codecs the daemon can send BATCH_COMPRESSED with, comma-separated, in order
    /// of preference (`lz4`, `zstd`). HELLO_OK: the one the node accepts.
    public static let compression = "compression"
    /// HELLO: the daemon's ``DaemonIncarnation``.
    public static let incarnation = "incarnation"
    /// HELLO_OK: the largest uncompressed payload of a BATCH_COMPRESSED, in bytes (decimal).
    public static let maxBatchBytes = "max_batch_bytes"
}

extension WALCodec {
    /// The codecs a BATCH_COMPRESSED may use, by their wire names: `lz4` and `zstd`.
    /// - Returns: `nil` for any other name, `none` included.
    init?(compressionName name: some StringProtocol) {
        switch name {
        case "lz4": self = .lz4
        case "zstd": self = .zstd
        default: return nil
        }
    }
}

extension NativeHello {
    /// The protocol versions this implementation speaks, and the node accepts in HELLO.
    public static let supportedVersions: ClosedRange<UInt16> = 1 ... 2

    /// The `incarnation` extension, `nil` when absent (always for version 1).
    public var incarnation: DaemonIncarnation? {
        get { extensions[NativeExtensionKey.incarnation].flatMap { DaemonIncarnation(hex: $0) } }
        set { extensions[NativeExtensionKey.incarnation] = newValue?.description }
    }

    /// The `compression` extension: the codecs offered, in order of preference. Names this
    /// implementation does not know are skipped, and so are repeats; empty when absent.
    public var compression: [WALCodec] {
        get {
            guard let list = extensions[NativeExtensionKey.compression] else { return [] }
            var codecs: [WALCodec] = []
            for name in list.split(separator: ",") {
                if let codec = WALCodec(compressionName: name), !codecs.contains(codec) { codecs.append(codec) }
            }
            return codecs
        }
        set {
            let names = newValue.filter { $0 != .none }.map(\.description)
            extensions[NativeExtensionKey.compression] = names.isEmpty ? nil : names.joined(separator: ",")
        }
    }

    /// Rejects a known extension with a value outside its form (an unparsable `incarnation`).
    func checkExtensions() throws(NativeMalformed) {
        if let text = extensions[NativeExtensionKey.incarnation], DaemonIncarnation(hex: text) == nil {
            throw NativeMalformed(what: "incarnation '\(text.prefix(40))' is not 16 lowercase hex digits, not all zero")
        }
    }
}

extension NativeWelcome {
    /// The `compression` extension: the codec the node accepts in BATCH_COMPRESSED; `nil`
    /// when it accepts none (then the daemon sends plain BATCHes).
    public var compression: WALCodec? {
        get { extensions[NativeExtensionKey.compression].flatMap { WALCodec(compressionName: $0) } }
        set { extensions[NativeExtensionKey.compression] = newValue.flatMap { $0 == .none ? nil : $0.description } }
    }

    /// The `max_batch_bytes` extension: the largest `uncompressed_length` the node accepts in
    /// a BATCH_COMPRESSED; `nil` when absent.
    public var maxBatchBytes: Int? {
        get { extensions[NativeExtensionKey.maxBatchBytes].flatMap { Int($0) } }
        set { extensions[NativeExtensionKey.maxBatchBytes] = newValue.map { "\($0)" } }
    }

    /// Rejects a known extension with a value outside its form.
    func checkExtensions() throws(NativeMalformed) {
        if let name = extensions[NativeExtensionKey.compression], WALCodec(compressionName: name) == nil {
            throw NativeMalformed(what: "HELLO_OK compression '\(name.prefix(40))' is not lz4 or zstd")
        }
        if let text = extensions[NativeExtensionKey.maxBatchBytes], (Int(text) ?? 0) <= 0 || text.first == "+" {
            throw NativeMalformed(what: "HELLO_OK max_batch_bytes '\(text.prefix(40))' is not a positive decimal number")
        }
    }
}
