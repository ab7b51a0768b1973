import Platform

/// Encodes and decodes snapshot files: every key and value at the start of a generation.
///
/// ```
/// 0   4  magic "HYCS"
/// 4   4  u32 version = 1
/// 8   8  u64 generation (equals the N of the file name snapshot-N)
/// 16  8  u64 entry count
/// 24  …  per entry, sorted by key bytes: u32 key length | key | u32 value length | value
/// end 4  u32 CRC32C of every byte before it
/// ```
enum ControlSnapshotCodec {
    static let magic: [UInt8] = Array("HYCS".utf8)
    static let version: UInt32 = 1
    static let headerBytes = 24
    static let trailerBytes = 4

    /// The snapshot file for `contents` at `generation`.
    static func encode(_ contents: [String: [UInt8]], generation: UInt64) -> [UInt8] {
        let entries = contents.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        var size = headerBytes + trailerBytes
        for (key, value) in entries { size += 8 + key.utf8.count + value.count }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(size)
        bytes.append(contentsOf: magic)
        bytes.appendLittleEndian(version)
        bytes.appendLittleEndian(generation)
        bytes.appendLittleEndian(UInt64(entries.count))
        for (key, value) in entries {
            bytes.appendControlField(key.utf8)
            bytes.appendControlField(value)
        }
        bytes.appendLittleEndian(CRC32C.checksum(bytes))
        return bytes
    }

    /// The contents of the snapshot file `bytes`, read from `path` for `generation`.
    /// - Throws: ``ControlStoreError/Code/corrupt`` naming the offset of the first defect.
    static func decode(_ bytes: [UInt8], path: String, generation: UInt64) throws(ControlStoreError) -> [String: [UInt8]] {
        func corrupt(_ offset: Int, _ message: String) -> ControlStoreError {
            ControlStoreError(.corrupt, path: path, offset: offset, "snapshot \(message)")
        }
        guard bytes.count >= headerBytes + trailerBytes else {
            throw corrupt(0, "is \(bytes.count) bytes, shorter than an empty snapshot (\(headerBytes + trailerBytes))")
        }
        guard Array(bytes[0 ..< 4]) == magic else { throw corrupt(0, "does not start with the magic \"HYCS\"") }
        let end = bytes.count - trailerBytes
        let stored = bytes.loadLittleEndian(UInt32.self, at: end)
        let computed = CRC32C.checksum(bytes[0 ..< end])
        guard stored == computed else {
            throw corrupt(end, "checksum mismatch (stored \(hex(stored)), computed \(hex(computed)) over \(end) bytes)")
        }
        let decoded = ByteView.with(bytes) { all -> Result<[String: [UInt8]], ControlStoreError> in
            var reader = ByteReader(all[0 ..< end], offset: 4)
            let fileVersion = reader.littleEndian(UInt32.self)!
            guard fileVersion == version else { return .failure(corrupt(4, "format version \(fileVersion) is not \(version)")) }
            let fileGeneration = reader.littleEndian(UInt64.self)!
            guard fileGeneration == generation else {
                return .failure(corrupt(8, "header says generation \(fileGeneration), its name says \(generation)"))
            }
            let count = reader.littleEndian(UInt64.self)!
            guard count <= UInt64(reader.remaining / 8) else { return .failure(corrupt(16, "entry count \(count) does not fit the file")) }
            var contents: [String: [UInt8]] = [:]
            contents.reserveCapacity(Int(count))
            for index in 0 ..< Int(count) {
                let at = reader.offset
                guard let key = reader.controlString(limit: ControlStoreLimits.maxKeyBytes), !key.isEmpty,
                    let value = reader.controlField(limit: ControlStoreLimits.maxValueBytes)
                else { return .failure(corrupt(at, "entry \(index) of \(count) does not decode")) }
                guard contents.updateValue(value, forKey: key) == nil else {
                    return .failure(corrupt(at, "entry \(index) repeats the key \"\(key.prefix(80))\""))
                }
            }
            guard reader.isAtEnd else {
                return .failure(corrupt(reader.offset, "has \(reader.remaining) bytes after its \(count) entries"))
            }
            return .success(contents)
        }
        return try decoded.get()
    }

    private static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
}
