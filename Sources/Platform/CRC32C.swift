import CShims

/// CRC32C (Castagnoli), with the SSE4.2 instruction when the CPU has it and slice-by-8 when it
/// does not (docs/wal-format.md). Thread-safe.
public enum CRC32C {
    /// The checksum of `bytes`, continuing from `seed` (0 to start).
    public static func checksum(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        unsafe bytes.withUnsafeBytes { unsafe hy_crc32c(seed, $0.baseAddress, $0.count) }
    }

    /// The checksum of a slice, without copying it out first.
    public static func checksum(_ bytes: ArraySlice<UInt8>, seed: UInt32 = 0) -> UInt32 {
        unsafe bytes.withUnsafeBytes { unsafe hy_crc32c(seed, $0.baseAddress, $0.count) }
    }

    /// The portable slice-by-8 result, for checking the hardware path.
    public static func portableChecksum(_ bytes: [UInt8], seed: UInt32 = 0) -> UInt32 {
        unsafe bytes.withUnsafeBytes { unsafe hy_crc32c_portable(seed, $0.baseAddress, $0.count) }
    }
}
