import Glibc
import Platform

/// The `multiline_start` pattern: a POSIX extended regular expression (regcomp(3) with
/// `REG_EXTENDED`, as `grep -E` reads it) that marks the first line of a record. `\d` is not
/// POSIX: write `[0-9]` or `[[:digit:]]`. Anchor it with `^` to match at the start of a line.
///
/// Thread: one follower's thread (it keeps a scratch buffer); not `Sendable`.
@safe final class StartPattern {
    /// The pattern as given, for messages.
    let source: String
    private let regex: UnsafeMutablePointer<regex_t>

    /// Compiles `source`.
    /// - Throws: ``InputError/Code/invalidParameter`` with regcomp's reason.
    init(_ source: String) throws(InputError) {
        // Compiled before `regex` is set: a throw with every stored property set would run
        // deinit, which would free the pattern a second time.
        let compiled = UnsafeMutablePointer<regex_t>.allocate(capacity: 1)
        let status = unsafe regcomp(compiled, source, REG_EXTENDED | REG_NOSUB)
        guard status == 0 else {
            var reason = [CChar](repeating: 0, count: 256)
            unsafe regerror(status, compiled, &reason, reason.count)
            unsafe compiled.deallocate()
            let text = String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw InputError(.invalidParameter, "multiline_start \"\(source)\" is not a valid extended regular expression: \(text)", subject: "multiline_start")
        }
        self.source = source
        unsafe regex = compiled
    }

    deinit {
        unsafe regfree(regex)
        unsafe regex.deallocate()
    }

    /// Whether the pattern matches somewhere in `line` (bytes, not NUL-terminated: regexec reads
    /// exactly the view's range through `REG_STARTEND`).
    func matches(_ line: ByteView) -> Bool {
        scratch.removeAll(keepingCapacity: true)
        line.append(to: &scratch)
        scratch.append(0)
        var range = regmatch_t(rm_so: 0, rm_eo: regoff_t(line.count))
        return unsafe scratch.withUnsafeBufferPointer { bytes in
            unsafe bytes.withMemoryRebound(to: CChar.self) { chars in
                unsafe regexec(regex, chars.baseAddress!, 1, &range, REG_STARTEND) == 0
            }
        }
    }

    private var scratch: [UInt8] = []
}

@available(*, unavailable)
extension StartPattern: Sendable {}
