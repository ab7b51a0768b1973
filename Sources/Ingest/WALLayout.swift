/// Where the WAL keeps its files under a data directory:
/// `<data>/wal/meta`, `<data>/wal/shard-NNNN/<20-digit base sequence>.seg`,
/// `shard-NNNN/quarantine.log` (damaged ranges) and `shard-NNNN/quarantine/` (whole segments).
public struct WALLayout: Sendable {
    public let dataDirectory: String

    public init(dataDirectory: String) { self.dataDirectory = dataDirectory }

    public var walDirectory: String { dataDirectory + "/wal" }
    var metaPath: String { walDirectory + "/meta" }

    public func shardDirectory(_ shard: Int) -> String {
        walDirectory + "/shard-" + Self.pad(UInt64(shard), to: 4)
    }

    func segmentPath(shard: Int, base: UInt64) -> String {
        shardDirectory(shard) + "/" + Self.segmentName(base: base)
    }

    func quarantineLogPath(shard: Int) -> String { shardDirectory(shard) + "/quarantine.log" }
    func quarantineDirectory(shard: Int) -> String { shardDirectory(shard) + "/quarantine" }

    static func segmentName(base: UInt64) -> String { pad(base, to: 20) + ".seg" }

    /// The base sequence named by a segment file, or `nil` for other files.
    static func baseSequence(ofSegmentNamed name: String) -> UInt64? {
        guard name.utf8.count == 24, name.hasSuffix(".seg") else { return nil }
        return UInt64(name.prefix(20))
    }

    static func pad(_ value: UInt64, to width: Int) -> String {
        let digits = String(value)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    /// Reads the shard count recorded in the data directory, `nil` when none is recorded.
    func recordedShardCount() throws(WALError) -> Int? {
        guard let bytes = try FileSystem.read(metaPath) else { return nil }
        let text = String(decoding: bytes, as: UTF8.self)
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 2, parts[0] == "shards", let n = Int(parts[1]), n > 0 { return n }
        }
        throw WALError(.corruptMetadata, "WAL metadata has no valid 'shards N' line", path: metaPath)
    }

    /// Records the shard count, or checks it against the one already recorded.
    func establish(shardCount: Int) throws(WALError) {
        guard shardCount > 0, shardCount <= 65_536 else {
            throw WALError(.invalidArgument, "shard count must be between 1 and 65536, got \(shardCount)")
        }
        if let recorded = try recordedShardCount() {
            guard recorded == shardCount else {
                throw WALError(
                    .shardCountMismatch,
                    "data directory \(dataDirectory) was created with \(recorded) shards; it cannot be opened with \(shardCount) (the shard count is fixed per data directory)",
                    path: metaPath)
            }
            return
        }
        try FileSystem.makeDirectory(walDirectory)
        try FileSystem.writeAtomically(metaPath, Array("hypha-wal 1\nshards \(shardCount)\n".utf8))
    }
}

/// The 64-byte header at the start of every segment file (docs/wal-format.md).
struct SegmentHeader: Equatable {
    static let size = 64
    static let magic: UInt64 = 0x4745_5341_4850_5948  // "HYPHASEG" little-endian
    static let version: UInt16 = 1

    var shard: UInt32
    var baseSequence: UInt64
    var createdNanoseconds: Int64

    func encoded() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Self.size)
        out.storeLE(Self.magic, at: 0)
        out.storeLE(UInt64(Self.version), at: 8, width: 2)
        out.storeLE(UInt64(shard), at: 12, width: 4)
        out.storeLE(baseSequence, at: 16)
        out.storeLE(UInt64(bitPattern: createdNanoseconds), at: 24)
        out.storeLE(UInt64(CRC32C.checksum(out[0 ..< 60])), at: 60, width: 4)
        return out
    }

    /// Decodes and checks magic, version and CRC; `nil` when any is wrong.
    static func decode(_ bytes: [UInt8]) -> SegmentHeader? {
        guard bytes.count >= size, bytes.loadLE(at: 0) == magic, bytes.loadLE(at: 8, width: 2) == UInt64(version),
            bytes.loadLE(at: 60, width: 4) == UInt64(CRC32C.checksum(bytes[0 ..< 60]))
        else { return nil }
        return SegmentHeader(
            shard: UInt32(bytes.loadLE(at: 12, width: 4)), baseSequence: bytes.loadLE(at: 16),
            createdNanoseconds: Int64(bitPattern: bytes.loadLE(at: 24)))
    }
}

extension Array where Element == UInt8 {
    mutating func storeLE(_ value: UInt64, at offset: Int, width: Int = 8) {
        for i in 0 ..< width { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }

    func loadLE(at offset: Int, width: Int = 8) -> UInt64 {
        var v: UInt64 = 0
        for i in 0 ..< width { v |= UInt64(self[offset + i]) << (8 * UInt64(i)) }
        return v
    }
}
