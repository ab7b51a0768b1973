import Platform
import CShims

/// How a batch payload is compressed. Chosen per batch; stored in the batch header.
public enum WALCodec: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// Stored as is.
    case none = 0
    /// LZ4 (fast; about 3.3× on syslog text).
    case lz4 = 1
    /// Zstandard (about 5.4× on syslog text, half LZ4's speed).
    case zstd = 2

    /// Parses `none`, `lz4` or `zstd`.
    public init?(name: String) {
        switch name.lowercased() {
        case "none": self = .none
        case "lz4": self = .lz4
        case "zstd": self = .zstd
        default: return nil
        }
    }

    public var description: String {
        switch self {
        case .none: "none"
        case .lz4: "lz4"
        case .zstd: "zstd"
        }
    }
}

/// A reusable compression context (LZ4 state, zstd contexts), owned by one thread at a time.
///
/// Reusing a context avoids a malloc per call. Not thread-safe: give each writer its own.
@safe public final class CodecContext {
    let raw: OpaquePointer

    /// Creates a context; `zstdLevel` 1 is the fast default.
    public init(zstdLevel: Int32 = 1) {
        guard let raw = unsafe hy_codec_ctx_create(zstdLevel) else {
            fatalError("out of memory creating a compression context")
        }
        unsafe self.raw = raw
    }

    deinit { unsafe hy_codec_ctx_free(raw) }

    /// Compresses `input` and returns the compressed bytes.
    public func compress(_ input: [UInt8], codec: WALCodec) throws(WALError) -> [UInt8] {
        let bound = hy_compress_bound(Int32(codec.rawValue), input.count)
        guard bound >= 0 else { throw WALError(.codec, "input of \(input.count) bytes is too large to compress") }
        var output = [UInt8](repeating: 0, count: Int(bound))
        let n = unsafe input.withUnsafeBytes { src in
            unsafe output.withUnsafeMutableBytes { dst in
                unsafe hy_compress(raw, Int32(codec.rawValue), src.baseAddress, src.count, dst.baseAddress, dst.count)
            }
        }
        guard n >= 0 else { throw WALError(.codec, "\(codec) compression failed (code \(n))") }
        output.removeSubrange(Int(n)...)
        return output
    }

    /// Decompresses `input`, which expands to exactly `originalLength` bytes.
    public func decompress(_ input: [UInt8], codec: WALCodec, originalLength: Int) throws(WALError) -> [UInt8] {
        // Safe here: `UInt8` has no padding, so its bytes are its elements.
        try unsafe decompress(input.span.bytes, codec: codec, originalLength: originalLength)
    }

    /// Decompresses borrowed bytes (a network buffer, say) into a new array of exactly
    /// `originalLength` bytes, the only allocation.
    /// - Throws: ``WALError`` `codec` when `input` is malformed or does not expand to exactly
    ///   `originalLength` bytes.
    public func decompress(_ input: RawSpan, codec: WALCodec, originalLength: Int) throws(WALError) -> [UInt8] {
        var n: Int64 = 0
        let output = unsafe input.withUnsafeBytes { src in
            unsafe [UInt8](unsafeUninitializedCapacity: originalLength) { dst, initialized in
                n = unsafe hy_decompress(raw, Int32(codec.rawValue), src.baseAddress, src.count, dst.baseAddress, dst.count)
                initialized = n > 0 ? Int(n) : 0
            }
        }
        guard n == originalLength else {
            throw WALError(.codec, "\(codec) payload is corrupt (decoded \(n) of \(originalLength) bytes)")
        }
        return output
    }
}

@available(*, unavailable)
extension CodecContext: Sendable {}
