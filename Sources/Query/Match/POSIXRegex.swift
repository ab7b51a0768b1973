import Glibc
import Platform

/// A compiled POSIX extended regular expression (glibc `regcomp` with `REG_EXTENDED |
/// REG_NOSUB`), the one owner of its `regex_t`, freed in `deinit`.
///
/// Matching is unanchored and byte-oriented in the C locale, and takes the bytes with their
/// length (`REG_STARTEND`), so record bytes need no terminating NUL and no copy.
///
/// Not thread-safe: glibc serialises `regexec` calls on one `regex_t` with a lock, so every
/// scanning thread compiles its own (``FilterMatcher``).
@safe final class POSIXRegex {
    private let compiled: UnsafeMutablePointer<regex_t>

    /// Compiles `pattern` (already in POSIX syntax: see ``RegexDialect``).
    /// - Throws: glibc's message (`regerror`) when it does not compile.
    init(_ pattern: String) throws(RegexCompileError) {
        let compiled = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        let status = unsafe regcomp(compiled, pattern, REG_EXTENDED | REG_NOSUB)
        guard status == 0 else {
            var message = [CChar](repeating: 0, count: 256)
            _ = unsafe regerror(status, compiled, &message, message.count)
            unsafe compiled.deallocate()
            throw RegexCompileError(message: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        unsafe self.compiled = compiled
    }

    deinit {
        unsafe regfree(compiled)
        unsafe compiled.deallocate()
    }

    /// Whether the expression matches anywhere in `bytes`.
    func matches(_ bytes: ByteView) -> Bool {
        unsafe bytes.withUnsafeBytes { raw in
            var range = regmatch_t(rm_so: 0, rm_eo: regoff_t(raw.count))
            let start = unsafe raw.baseAddress ?? UnsafeRawPointer(Self.empty.utf8Start)
            return unsafe regexec(compiled, start.assumingMemoryBound(to: CChar.self), 1, &range, REG_STARTEND) == 0
        }
    }

    /// Something to point at for empty input.
    private static let empty: StaticString = ""
}

/// Why a regular expression does not compile (glibc's words).
struct RegexCompileError: Error {
    let message: String
}
