import Glibc

/// Where a program is and what environment it gets, resolved the way execvp(3) would.
enum ProgramLookup {
    /// The search path used when the environment has no `PATH`.
    static let defaultSearchPath = "/usr/local/bin:/usr/bin:/bin"

    /// `program` itself when it contains a `/`, else the first executable of that name in the
    /// directories of `searchPath`.
    /// - Throws: ``InputError/Code/commandNotFound`` naming the program and the search path.
    static func resolve(_ program: String, searchPath: String) throws(InputError) -> String {
        if program.contains("/") {
            guard unsafe access(program, X_OK) == 0 else {
                throw InputError(.commandNotFound, "\(program) does not exist or is not executable", subject: program)
            }
            return program
        }
        for directory in searchPath.split(separator: ":") where !directory.isEmpty {
            let candidate = "\(directory)/\(program)"
            if unsafe access(candidate, X_OK) == 0, FileStatus.of(candidate)?.isRegularFile == true { return candidate }
        }
        throw InputError(.commandNotFound, "\(program) was not found in the search path \(searchPath)", subject: program)
    }

    /// This process's environment, as `NAME=value` entries.
    static func currentEnvironment() -> [String] {
        var entries: [String] = []
        var cursor = unsafe environ
        while let entry = unsafe cursor.pointee {
            entries.append(unsafe String(cString: entry))
            unsafe cursor += 1
        }
        return entries
    }

    /// This process's environment with `overrides` set, as `NAME=value` entries.
    static func environment(overriding overrides: [String: String]) -> [String] {
        guard !overrides.isEmpty else { return currentEnvironment() }
        let kept = currentEnvironment().filter { entry in
            let name = entry.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            return overrides[String(name)] == nil
        }
        return kept + overrides.keys.sorted().map { "\($0)=\(overrides[$0]!)" }
    }

    /// The `PATH` of an environment (`NAME=value` entries), or the default.
    static func searchPath(of environment: [String]) -> String {
        for entry in environment where entry.hasPrefix("PATH=") { return String(entry.dropFirst(5)) }
        return defaultSearchPath
    }
}
