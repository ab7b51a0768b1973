import Glibc

/// The machine's host name.
public enum HostName {
    /// `gethostname(2)`, or `localhost` when the kernel has none.
    public static var current: String {
        var buffer = [UInt8](repeating: 0, count: 256)
        let result = unsafe buffer.withUnsafeMutableBytes { unsafe gethostname($0.baseAddress!.assumingMemoryBound(to: CChar.self), $0.count - 1) }
        guard result == 0 else { return "localhost" }
        let name = String(decoding: buffer.prefix { $0 != 0 }, as: UTF8.self)
        return name.isEmpty ? "localhost" : name
    }
}
