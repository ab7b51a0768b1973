import Foundation

/// The real `hypha` binary, built beside the test bundle.
func hyphaBinary() -> String {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let path = (exe as NSString).deletingLastPathComponent + "/hypha"
    precondition(FileManager.default.isExecutableFile(atPath: path), "hypha binary not found at \(path); run swift build first")
    return path
}

/// Runs `hypha` with `arguments` to completion and returns its exit status and output.
func runHypha(_ arguments: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: hyphaBinary())
    process.arguments = arguments
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: stdout, as: UTF8.self), String(decoding: stderr, as: UTF8.self))
}

/// A fresh temporary directory.
func makeTemporaryDirectory(_ label: String) -> String {
    var bytes = Array((NSTemporaryDirectory() + "\(label)-XXXXXX").utf8CString)
    return String(cString: mkdtemp(&bytes)!)
}
