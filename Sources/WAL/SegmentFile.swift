import Platform
import CShims
import Glibc

/// A memory-mapped segment file: the one owner of its mapping, unmapped in `deinit`.
///
/// All pointer work on segment bytes happens here; callers pass offsets and byte arrays.
/// The mapping (descriptor, base, size) is a `let` handed to the C functions as `const`: none
/// of them changes it, so the shard's writer (pwrite) and the flusher (msync, madvise) can use
/// the same file at once, which the kernel allows, and the class is `Sendable`.
@safe final class SegmentFile: @unchecked Sendable {
    private let raw: hy_segment
    let path: String

    private init(raw: hy_segment, path: String) {
        unsafe self.raw = unsafe raw
        self.path = path
    }

    deinit {
        var mapping = unsafe raw
        unsafe hy_segment_close(&mapping)
    }

    /// Calls `body` with a pointer to the (unchanging) mapping, for the C functions.
    private func withMapping<R>(_ body: (UnsafePointer<hy_segment>) throws -> R) rethrows -> R {
        try unsafe withUnsafePointer(to: raw) { try unsafe body($0) }
    }

    /// Creates, preallocates and maps a new segment file of `size` bytes.
    static func create(path: String, size: Int) throws(WALError) -> SegmentFile {
        var raw = unsafe hy_segment()
        guard unsafe hy_segment_create(path, size, &raw) == HY_OK else {
            throw .lastError("cannot create segment", path: path)
        }
        return unsafe SegmentFile(raw: raw, path: path)
    }

    /// Maps an existing segment file.
    static func open(path: String, writable: Bool) throws(WALError) -> SegmentFile {
        var raw = unsafe hy_segment()
        guard unsafe hy_segment_open(path, writable ? 1 : 0, &raw) == HY_OK else {
            throw .lastError("cannot open segment", path: path)
        }
        return unsafe SegmentFile(raw: raw, path: path)
    }

    var size: Int { unsafe raw.size }

    /// Writes `bytes` at `offset` (pwrite, not through the mapping).
    func write(_ bytes: [UInt8], at offset: Int) throws(WALError) {
        let r = unsafe withMapping { m in unsafe bytes.withUnsafeBytes { unsafe hy_segment_write(m, offset, $0.baseAddress, $0.count) } }
        if r == HY_ENOSPACE { throw WALError(.io, "write past the end of segment at \(offset)", path: path) }
        guard r == HY_OK else { throw .lastError("cannot write segment at \(offset)", path: path) }
    }

    /// Reads `count` bytes at `offset` (clamped to the segment).
    func read(at offset: Int, count: Int) -> [UInt8] {
        let n = max(0, min(count, size - offset))
        guard n > 0 else { return [] }
        return unsafe [UInt8](UnsafeRawBufferPointer(start: raw.base + offset, count: n))
    }

    /// Compresses `payload` into a batch written at `offset`; fills in lengths and CRCs of
    /// `header`. The batch is encoded in `context`'s scratch buffer and written with pwrite:
    /// writing through the mapping cost a zero-filling page fault per new page and TLB
    /// shootdowns at every msync (docs/wal-format.md, "Appending").
    /// - Returns: bytes written, or `nil` when the batch does not fit before the end.
    func writeBatch(
        _ payload: [UInt8], header: inout BatchHeader, at offset: Int, context: CodecContext
    ) throws(WALError) -> Int? {
        var h = header.raw
        let n = unsafe withMapping { m in
            unsafe payload.withUnsafeBytes { src in
                unsafe hy_segment_append_batch(m, context.raw, &h, src.baseAddress, src.count, offset)
            }
        }
        if n == Int64(HY_ENOSPACE) { return nil }
        guard n > 0 else {
            if n == Int64(HY_ETOOLARGE) {
                throw WALError(.batchTooLarge, "batch of \(payload.count) bytes exceeds \(BatchHeader.maxPayload)")
            }
            if n == Int64(HY_EIO) { throw .lastError("cannot write batch at \(offset)", path: path) }
            throw WALError(.codec, "cannot encode batch (code \(n))", path: path)
        }
        header = BatchHeader(h)
        return Int(n)
    }

    /// Checks the batch at `offset`, including its payload CRC when `verifyPayload`.
    func checkBatch(at offset: Int, verifyPayload: Bool) -> BatchCheck {
        guard offset < size else { return .end }
        var out = hy_batch_header()
        let status = unsafe hy_batch_check(raw.base + offset, size - offset, verifyPayload ? 1 : 0, &out)
        return BatchCheck(status: status, header: out)
    }

    /// The offset of the next plausible batch (magic + header CRC) at or after `offset`.
    func resync(from offset: Int) -> Int? {
        guard offset < size else { return nil }
        let r = unsafe hy_batch_resync(raw.base, size, offset)
        return r >= 0 ? Int(r) : nil
    }

    /// Whether every byte from `offset` to the end is zero. Reads with pread rather than through
    /// the mapping, so a long preallocated tail costs no resident memory. An unreadable tail
    /// counts as not zero (the caller then zeroes it).
    func isZero(from offset: Int) -> Bool {
        guard offset < size else { return true }
        return unsafe withMapping { unsafe hy_segment_find_nonzero($0, offset) } == -1
    }

    /// Decodes the payload of the batch at `offset` into the front of `output`, growing it when
    /// needed and never shrinking it (so one buffer serves every batch without reallocating).
    /// - Returns: the number of valid bytes at the front of `output`.
    func decodePayload(
        of header: BatchHeader, at offset: Int, context: CodecContext, into output: inout [UInt8]
    ) throws(BatchDamage) -> Int {
        let length = Int(header.uncompressedLength)
        if output.count < length { output.append(contentsOf: repeatElement(0, count: length - output.count)) }
        guard length > 0 else { return 0 }
        let start = unsafe raw.base + offset + BatchHeader.size
        let stored = Int(header.storedLength)
        let n = unsafe output.withUnsafeMutableBytes { dst in
            unsafe hy_decompress(context.raw, Int32(header.codec.rawValue), start, stored, dst.baseAddress, length)
        }
        guard n == Int64(length) else { throw .badPayload }
        return length
    }

    /// Makes `[offset, offset + length)` durable.
    func sync(offset: Int, length: Int) throws(WALError) {
        guard unsafe withMapping({ unsafe hy_segment_sync($0, offset, length) }) == HY_OK else {
            throw .lastError("msync failed", path: path)
        }
    }

    /// Drops fully covered pages of the range from this process's resident memory.
    func release(offset: Int, length: Int) {
        _ = unsafe withMapping { unsafe hy_segment_release($0, offset, length) }
    }

    /// Hints that the mapping will be read front to back.
    func adviseSequential() { unsafe withMapping { unsafe hy_segment_advise_sequential($0) } }

    /// Zeroes from `offset` to the end and syncs it.
    func zeroTail(from offset: Int) throws(WALError) {
        guard unsafe withMapping({ unsafe hy_segment_zero_tail($0, offset) }) == HY_OK else {
            throw .lastError("cannot zero tail at \(offset)", path: path)
        }
    }
}
