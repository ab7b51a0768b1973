import Ingest

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
        bytes.appendControlU32(version)
        bytes.appendControlU64(generation)
        bytes.appendControlU64(UInt64(entries.count))
        for (key, value) in entries {
            bytes.appendControlU32(UInt32(key.utf8.count))
            bytes.append(contentsOf: key.utf8)
            bytes.appendControlU32(UInt32(value.count))
            bytes.append(contentsOf: value)
        }
        bytes.appendControlU32(CRC32C.checksum(bytes))
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
        let stored = bytes.controlU32(at: end)
        let computed = CRC32C.checksum(bytes[0 ..< end])
        guard stored == computed else {
            throw corrupt(end, "checksum mismatch (stored \(hex(stored)), computed \(hex(computed)) over \(end) bytes)")
        }
        var reader = ControlByteReader(bytes, from: 4, to: end)
        let fileVersion = reader.u32()!
        guard fileVersion == version else { throw corrupt(4, "format version \(fileVersion) is not \(version)") }
        let fileGeneration = reader.u64()!
        guard fileGeneration == generation else {
            throw corrupt(8, "header says generation \(fileGeneration), its name says \(generation)")
        }
        let count = reader.u64()!
        guard count <= UInt64(reader.remaining / 8) else { throw corrupt(16, "entry count \(count) does not fit the file") }
        var contents: [String: [UInt8]] = [:]
        contents.reserveCapacity(Int(count))
        for index in 0 ..< Int(count) {
            let at = reader.offset
            guard let key = reader.string(limit: ControlStoreLimits.maxKeyBytes), !key.isEmpty,
                let value = reader.lengthPrefixed(limit: ControlStoreLimits.maxValueBytes)
            else { throw corrupt(at, "entry \(index) of \(count) does not decode") }
            guard contents.updateValue(Array(value), forKey: key) == nil else {
                throw corrupt(at, "entry \(index) repeats the key \"\(key.prefix(80))\"")
            }
        }
        guard reader.remaining == 0 else {
            throw corrupt(reader.offset, "has \(reader.remaining) bytes after its \(count) entries")
        }
        return contents
    }

    private static func hex(_ value: UInt32) -> String { "0x" + String(value, radix: 16) }
}
