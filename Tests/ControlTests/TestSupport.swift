import Control
import Foundation
import Logging

// Helpers shared by the suites of this target.

/// 2026-01-01T00:00:00Z, a round start for readable test times, in nanoseconds.
enum TestTime {
    static let s = AlertDuration.second
    static let t0: Int64 = 1_767_225_600 * s
    static func at(_ seconds: Double) -> Int64 { t0 + Int64(seconds * 1e9) }
}

/// A logger that drops everything.
let silentLogger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

/// A scratch directory for one test, removed when the test ends.
final class TestDirectory {
    let root: String
    /// Where the store lives (not created: the store creates it).
    var store: String { root + "/control" }

    init(_ name: String = #function) throws {
        let safe = name.filter { $0.isLetter || $0.isNumber }
        root = NSTemporaryDirectory() + "hypha-test-\(safe)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// `store/name`.
    func path(_ name: String) -> String { store + "/" + name }

    /// Names in the store directory, sorted.
    func files() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []).sorted() }

    func read(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: path(name)))) }

    func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path(name))) }

    /// Total size of the files in the store directory.
    func bytesOnDisk() -> Int {
        files().reduce(0) { sum, name in
            sum + ((try? FileManager.default.attributesOfItem(atPath: path(name))[.size] as? Int) ?? 0)
        }
    }
}
