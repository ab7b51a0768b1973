import Control
import Foundation
import TestSupport

// Helpers shared by the suites of this target; what every target shares is in TestSupport.

/// 2026-01-01T00:00:00Z, a round start for readable test times, in nanoseconds.
enum TestTime {
    static let s = AlertDuration.second
    static let t0: Int64 = 1_767_225_600 * s
    static func at(_ seconds: Double) -> Int64 { t0 + Int64(seconds * 1e9) }
}

/// The control store's files in a test's scratch directory.
extension TemporaryDirectory {
    /// Where the store lives (not created: the store creates it).
    var store: String { path + "/control" }

    /// `store/name`.
    func storeFile(_ name: String) -> String { store + "/" + name }

    /// Names in the store directory, sorted.
    func files() -> [String] { ((try? FileManager.default.contentsOfDirectory(atPath: store)) ?? []).sorted() }

    func read(_ name: String) throws -> [UInt8] { Array(try Data(contentsOf: URL(fileURLWithPath: storeFile(name)))) }

    func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: storeFile(name))) }

    /// Total size of the files in the store directory.
    func bytesOnDisk() -> Int {
        files().reduce(0) { sum, name in
            sum + ((try? FileManager.default.attributesOfItem(atPath: storeFile(name))[.size] as? Int) ?? 0)
        }
    }
}
