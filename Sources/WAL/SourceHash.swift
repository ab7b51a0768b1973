public import Platform
/// The stable hash that routes a source to a shard: 64-bit FNV-1a over the source key's bytes.
///
/// Stable across runs, versions and machines (docs/wal-format.md, "Routing"): the same host or
/// daemon id always lands in the same shard of a data directory.
public enum SourceHash {
    @inlinable
    public static func hash(_ bytes: ByteView) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for i in 0 ..< bytes.count {
            h = (h ^ UInt64(bytes[i])) &* 0x0000_0100_0000_01B3
        }
        return h
    }

    /// The hash of a string's UTF-8 bytes (same value as the byte form).
    public static func hash(_ string: String) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for b in string.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
        return h
    }

    /// The shard for a hash.
    @inlinable
    public static func shard(for hash: UInt64, shardCount: Int) -> Int { Int(hash % UInt64(shardCount)) }
}
