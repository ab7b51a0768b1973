import Platform
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
    func producerMarksPath(shard: Int) -> String { shardDirectory(shard) + "/producers" }
    func quarantineDirectory(shard: Int) -> String { shardDirectory(shard) + "/quarantine" }

    static func segmentName(base: UInt64) -> String { pad(base, to: 20) + ".seg" }

    /// The segment files of `shard`, oldest first, as (base sequence, path).
    public func segmentFiles(shard: Int) throws(WALError) -> [(base: UInt64, path: String)] {
        let directory = shardDirectory(shard)
        guard FileSystem.isDirectory(directory) else { return [] }
        return try io { () throws(SystemError) in try FileSystem.list(directory) }.compactMap { name in
            WALLayout.baseSequence(ofSegmentNamed: name).map { ($0, directory + "/" + name) }
        }.sorted { $0.base < $1.base }
    }

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
        guard let bytes = try io({ () throws(SystemError) in try FileSystem.read(metaPath) }) else { return nil }
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
        try io { () throws(SystemError) in try FileSystem.makeDirectory(walDirectory) }
        try io { () throws(SystemError) in try FileSystem.writeAtomically(metaPath, Array("hypha-wal 1\nshards \(shardCount)\n".utf8)) }
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
        out.storeLittleEndian(Self.magic, at: 0)
        out.storeLittleEndian(Self.version, at: 8)
        out.storeLittleEndian(shard, at: 12)
        out.storeLittleEndian(baseSequence, at: 16)
        out.storeLittleEndian(createdNanoseconds, at: 24)
        out.storeLittleEndian(CRC32C.checksum(out[0 ..< 60]), at: 60)
        return out
    }

    /// Decodes and checks magic, version and CRC; `nil` when any is wrong.
    static func decode(_ bytes: [UInt8]) -> SegmentHeader? {
        guard bytes.count >= size, bytes.loadLittleEndian(UInt64.self, at: 0) == magic,
            bytes.loadLittleEndian(UInt16.self, at: 8) == version,
            bytes.loadLittleEndian(UInt32.self, at: 60) == CRC32C.checksum(bytes[0 ..< 60])
        else { return nil }
        return SegmentHeader(
            shard: bytes.loadLittleEndian(at: 12), baseSequence: bytes.loadLittleEndian(at: 16),
            createdNanoseconds: bytes.loadLittleEndian(at: 24))
    }
}
