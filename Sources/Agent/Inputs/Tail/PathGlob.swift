import Glibc

/// Expands an absolute path pattern with glob(3): `*`, `?`, `[...]` and `{a,b}` (GNU brace
/// expansion); a leading `.` in a name is matched only explicitly. Matches come back sorted.
enum PathGlob {
    /// The paths matching `pattern` now; none when nothing matches (the directory may not exist
    /// yet). Directories that cannot be read are passed over.
    static func expand(_ pattern: String) -> [String] {
        var matches = unsafe glob_t()
        defer { unsafe globfree(&matches) }
        guard unsafe glob(pattern, GLOB_BRACE, nil, &matches) == 0 else { return [] }
        var paths: [String] = []
        paths.reserveCapacity(Int(unsafe matches.gl_pathc))
        for i in 0 ..< Int(unsafe matches.gl_pathc) {
            if let path = unsafe matches.gl_pathv[i] { paths.append(unsafe String(cString: path)) }
        }
        return paths
    }

    /// The longest leading directory of `pattern` that has no wildcard in it (`/var/log/app`
    /// for `/var/log/app/*.log`): where files matching it live when they are renamed.
    static func literalDirectory(of pattern: String) -> String {
        var directory = ""
        for part in pattern.split(separator: "/", omittingEmptySubsequences: true).dropLast() {
            if part.contains(where: { "*?[{".contains($0) }) { break }
            directory += "/" + part
        }
        return directory.isEmpty ? "/" : directory
    }
}
