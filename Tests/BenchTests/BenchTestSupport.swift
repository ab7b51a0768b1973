import Foundation
import Testing

/// Runs the real `hypha` binary (built beside the test bundle) for the end-to-end bench tests.
enum HyphaCLI {
    static var binary: String {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let path = (exe as NSString).deletingLastPathComponent + "/hypha"
        precondition(FileManager.default.isExecutableFile(atPath: path), "hypha binary not found at \(path); run swift build first")
        return path
    }

    /// Runs `hypha arguments…` to completion.
    static func run(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let group = DispatchGroup()
        nonisolated(unsafe) var errData = Data()
        group.enter()
        Thread.detachNewThread {
            errData = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// Runs the command and decodes its one JSON object.
    static func json(_ arguments: [String]) throws -> [String: Any] {
        let r = try run(arguments)
        try #require(r.status == 0, "exit \(r.status): \(r.stderr)")
        let lines = r.stdout.split(separator: "\n")
        try #require(lines.count == 1, "exactly one line on stdout: \(r.stdout)")
        return try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any], "not an object: \(r.stdout)")
    }

    /// A new empty directory under the system's temporary directory, named `label-XXXXXX`.
    static func temporaryDirectory(_ label: String) -> String {
        var template = Array((NSTemporaryDirectory() + "\(label)-XXXXXX").utf8CString)
        return String(cString: mkdtemp(&template)!)
    }
}
