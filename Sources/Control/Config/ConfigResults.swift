import Platform
import WAL
public import Wire

/// Something the caller of ``ConfigBook`` must send.
public enum ConfigCommand: Sendable, Equatable {
    /// Send CONFIG_PUSH to the daemon's connection.
    case push(daemonID: String, ConfigPush)
}

/// What ``ConfigBook/put(name:content:selector:rollout:comment:online:now:)`` did.
public struct ConfigUpdate: Sendable {
    /// The new version, or the latest one when ``unchanged``.
    public var document: ConfigDocument
    /// The rollout it started (or, when ``unchanged``, the one in progress of that version).
    public var rollout: Rollout?
    /// Pushes to send now.
    public var commands: [ConfigCommand]
    /// Same content hash and selector as the latest version (current or rolling out): no new
    /// version was made and nothing is pushed.
    public var unchanged: Bool

    /// An update; see the properties.
    public init(document: ConfigDocument, rollout: Rollout?, commands: [ConfigCommand], unchanged: Bool) {
        self.document = document
        self.rollout = rollout
        self.commands = commands
        self.unchanged = unchanged
    }
}

/// Where a daemon is with a configuration name, as it last reported (or as pushed). Encodes as
/// `"pushed"`, `"applying"`, `"applied"` or `"failed"`.
public enum ConfigApplyStatus: String, Codable, Sendable {
    /// Sent by the node; the daemon has not reported on it yet.
    case pushed
    /// The daemon is applying it.
    case applying
    /// The daemon runs it.
    case applied
    /// The daemon could not apply it.
    case failed

    init(_ state: ConfigApplyState) {
        switch state {
        case .applying: self = .applying
        case .applied: self = .applied
        case .failed: self = .failed
        }
    }
}

/// A daemon's latest known state for one configuration name.
public struct DaemonConfigState: Codable, Sendable, Equatable {
    /// The configuration name.
    public var name: String
    /// The version last pushed or reported.
    public var version: UInt64
    /// Its hash, as the daemon reported it (or as pushed).
    public var hash: String
    /// Pushed, applying, applied or failed.
    public var state: ConfigApplyStatus
    /// The daemon's message (its error, when failed).
    public var message: String
    /// When it was pushed or reported, nanoseconds since the epoch.
    public var at: Int64

    /// A state; see the properties.
    public init(name: String, version: UInt64, hash: String, state: ConfigApplyStatus, message: String, at: Int64) {
        self.name = name
        self.version = version
        self.hash = hash
        self.state = state
        self.message = message
        self.at = at
    }
}

/// What changed in a ``ConfigBook`` since the last ``ConfigBook/takeChanges()``: what a store
/// must write (whole values, last write wins) and delete.
public struct ConfigChanges: Sendable {
    /// Versions created or whose status changed, ordered by name then version.
    public var documents: [ConfigDocument]
    /// Rollouts created or changed, ordered by creation.
    public var rollouts: [Rollout]
    /// Versions dropped by the history bound.
    public var removedDocuments: [(name: String, version: UInt64)]
    /// Finished rollouts dropped by the bound on kept rollouts.
    public var removedRollouts: [String]

    /// Changes; see the properties.
    public init(documents: [ConfigDocument] = [], rollouts: [Rollout] = [], removedDocuments: [(name: String, version: UInt64)] = [], removedRollouts: [String] = []) {
        self.documents = documents
        self.rollouts = rollouts
        self.removedDocuments = removedDocuments
        self.removedRollouts = removedRollouts
    }

    /// Nothing to write or delete.
    public var isEmpty: Bool { documents.isEmpty && rollouts.isEmpty && removedDocuments.isEmpty && removedRollouts.isEmpty }
}
