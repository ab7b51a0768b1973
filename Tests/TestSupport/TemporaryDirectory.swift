import Foundation

/// A fresh directory under the system's temporary directory (`label-XXXXXX`), for one test.
/// Remove it with ``remove()`` (tests usually `defer` it).
public struct TemporaryDirectory: Sendable {
    /// The directory's absolute path.
    public let path: String

    /// Creates the directory; traps when the system cannot (a broken test machine).
    public init(_ label: String = "hypha-test") {
        var template = Array((NSTemporaryDirectory() + "\(label)-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed: errno \(errno)") }
        path = String(cString: made)
    }

    /// `path/name`.
    public func file(_ name: String) -> String { path + "/" + name }

    /// Deletes the directory and everything in it.
    public func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// A copy of this directory's contents in a new temporary directory.
    public func copy() throws -> TemporaryDirectory {
        let target = TemporaryDirectory("hypha-copy")
        try FileManager.default.removeItem(atPath: target.path)
        try FileManager.default.copyItem(atPath: path, toPath: target.path)
        return target
    }
}
