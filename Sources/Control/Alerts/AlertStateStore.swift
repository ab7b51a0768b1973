import Foundation
import Platform
import WAL
import Wire
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One pending or firing alert as saved on disk.
public struct PersistedAlert: Sendable, Codable, Equatable {
    /// ``AlertKey/fingerprintHex`` (informational; the key is rebuilt from rule and labels).
    public var fingerprint: String
    /// The rule's name.
    public var rule: String
    /// The grouped labels.
    public var labels: [String: String]
    /// `pending` or `firing`.
    public var state: AlertState
    /// Nanoseconds since the epoch, as in ``AlertStateMachine/Alert``.
    public var activeSince: Int64
    /// When it started firing.
    public var firingSince: Int64?
    /// When its condition stopped holding while firing.
    public var keepFiringSince: Int64?
    /// The newest value (finite only).
    public var value: Double?
    /// When a firing notification last went out (`nil`: never).
    public var lastNotifiedAt: Int64?

    /// The saved form of `alert`.
    public init(alert: AlertStateMachine.Alert, lastNotifiedAt: Int64?) {
        fingerprint = alert.key.fingerprintHex
        rule = alert.key.rule
        labels = alert.key.labels
        state = alert.state
        activeSince = alert.activeSince
        firingSince = alert.firingSince
        keepFiringSince = alert.keepFiringSince
        value = alert.value.flatMap { $0.isFinite ? $0 : nil }
        self.lastNotifiedAt = lastNotifiedAt
    }

    /// The alert for ``AlertStateMachine/restore(_:now:holdFor:)``.
    public var alert: AlertStateMachine.Alert {
        AlertStateMachine.Alert(
            key: AlertKey(rule: rule, labels: labels), state: state, activeSince: activeSince, firingSince: firingSince,
            keepFiringSince: keepFiringSince, value: value)
    }
}

/// The alert-state file's content.
public struct PersistedAlertState: Sendable, Codable, Equatable {
    /// Format version: 1.
    public var version: Int
    /// When it was written, nanoseconds since the epoch.
    public var savedAt: Int64
    /// Sorted by rule, then fingerprint.
    public var alerts: [PersistedAlert]

    /// A state file's content.
    public init(version: Int = 1, savedAt: Int64, alerts: [PersistedAlert]) {
        self.version = version
        self.savedAt = savedAt
        self.alerts = alerts
    }
}

/// A state file that cannot be read or written.
public struct AlertStateStoreError: Error, Sendable, CustomStringConvertible {
    /// What went wrong; new codes may be added.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private enum Backing: String, Sendable, Hashable { case io, corrupt }
        private let backing: Backing
        private init(_ b: Backing) { backing = b }
        /// Reading, writing, syncing or renaming failed.
        public static let io = Code(.io)
        /// The file is not a state file this version understands.
        public static let corrupt = Code(.corrupt)
        /// The code's name.
        public var description: String { backing.rawValue }
    }

    /// What went wrong.
    public var code: Code
    /// The state file.
    public var path: String
    /// Human-readable detail.
    public var message: String

    /// An error about the file at `path`.
    public init(_ code: Code, path: String, _ message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    /// `alert state PATH: message`.
    public var description: String { "alert state \(path): \(message)" }
}

/// Saves pending and firing alerts to a JSON file, atomically, and reads them back at start.
///
/// ``save(_:)`` writes `<path>.tmp`, fsyncs it, renames it over `path` and fsyncs the
/// directory, so after a crash the file holds either the old or the new state, never a mix.
/// Blocking I/O: ``AlertEngine`` calls it from a thread of its own.
///
/// ```json
/// {"version":1,"savedAt":1772359200000000000,"alerts":[{"fingerprint":"9f2c4e1a0b3d5e77","rule":"HighCPU",
///  "labels":{"host":"web-1"},"state":"firing","activeSince":…,"firingSince":…,"value":97,"lastNotifiedAt":…}]}
/// ```
public struct AlertStateStore: Sendable {
    /// The state file.
    public let path: String

    /// A store at `path` (for example `<data>/control/alerts.json`); its directory must exist.
    public init(path: String) { self.path = path }

    /// Reads the saved state.
    /// - Returns: `nil` when there is no file yet.
    /// - Throws: ``AlertStateStoreError/Code/corrupt`` for a file that does not decode,
    ///   ``AlertStateStoreError/Code/io`` when it cannot be read.
    public func load() throws(AlertStateStoreError) -> PersistedAlertState? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw AlertStateStoreError(.io, path: path, "cannot read: \(error)")
        }
        do {
            let state = try JSONDecoder().decode(PersistedAlertState.self, from: data)
            guard state.version == 1 else {
                throw AlertStateStoreError(.corrupt, path: path, "format version \(state.version) is not 1")
            }
            return state
        } catch let e as AlertStateStoreError {
            throw e
        } catch {
            throw AlertStateStoreError(.corrupt, path: path, "does not decode: \(error)")
        }
    }

    /// Replaces the file with `state`, atomically and durably.
    public func save(_ state: PersistedAlertState) throws(AlertStateStoreError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data: Data
        do { data = try encoder.encode(state) } catch {
            throw AlertStateStoreError(.io, path: path, "cannot encode: \(error)")
        }
        do {
            try FileSystem.writeAtomically(path, [UInt8](data), mode: 0o640)
        } catch {
            throw AlertStateStoreError(.io, path: path, error.description)
        }
    }

    /// Moves an unreadable file aside to `<path>.corrupt-<nanoseconds>` so a fresh one can be
    /// written and the old one is kept for inspection.
    /// - Returns: the new name, or `nil` when the rename failed.
    @discardableResult
    public func quarantine(now: Int64) -> String? {
        let aside = "\(path).corrupt-\(now)"
        return rename(path, aside) == 0 ? aside : nil
    }
}
