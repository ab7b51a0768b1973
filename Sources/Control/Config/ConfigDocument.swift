import Platform
import WAL
public import Wire

/// How a configuration document is written. Encodes as `"yaml"` or `"json"`.
public enum ConfigFormat: String, Codable, Sendable {
    /// YAML (anything that is not JSON).
    case yaml
    /// JSON: the first non-blank byte is `{` or `[` and the whole text parses as JSON.
    case json
}

/// Where one version of a configuration document stands. Encodes as its snake_case raw value.
///
/// At most one version of a name is ``current``: the *last known good* version, which daemons
/// get when they connect and which failed rollouts return to.
public enum ConfigVersionStatus: String, Codable, Sendable {
    /// The last known good version: pushed all at once, or its rollout succeeded.
    case current
    /// Its rollout is running or paused; daemons outside the started batches still get the
    /// ``current`` version.
    case rollingOut = "rolling_out"
    /// Was current; a newer version replaced it.
    case superseded
    /// Its rollout passed the failure threshold or was aborted, and the daemons that got it
    /// were sent the last known good version again.
    case rolledBack = "rolled_back"
    /// Its rollout stopped (failure threshold or abort) but there was no earlier good version
    /// to go back to: daemons that got it keep it, no other daemon gets it.
    case halted
}

/// One version of a named configuration document: its text, content hash and the daemons it
/// is for.
///
/// Versions are numbered 1, 2, 3… per name by ``ConfigBook/put(name:content:selector:rollout:comment:online:now:)``
/// and never change afterwards except for their ``status``. JSON (camelCase keys):
///
/// ```json
/// {"name": "pipeline", "version": 3, "format": "yaml", "hash": "sha256:9f86…",
///  "selector": {"labels": {"env": "prod"}}, "content": "inputs: …", "comment": "raise batch size",
///  "createdAt": 1767225600000000000, "status": "rolling_out"}
/// ```
public struct ConfigDocument: Codable, Sendable, Equatable {
    /// 1 to 128 bytes of `A-Z a-z 0-9 . _ -`.
    public var name: String
    /// 1, 2, 3… per name.
    public var version: UInt64
    /// Detected from the content: JSON when the first non-blank byte is `{` or `[` and the text
    /// parses as JSON, else YAML.
    public var format: ConfigFormat
    /// `sha256:` and 64 lowercase hex digits of the content's bytes.
    public var hash: String
    /// The daemons this version is for.
    public var selector: DaemonSelector
    /// The document text (UTF-8), at most 1 MiB.
    public var content: String
    /// Free text from the author of the version.
    public var comment: String
    /// When the version was created, nanoseconds since the Unix epoch.
    public var createdAt: Int64
    /// Where the version stands.
    public var status: ConfigVersionStatus

    /// A version; see the properties. ``ConfigBook`` builds these; tests and restores may too.
    public init(
        name: String, version: UInt64, format: ConfigFormat, hash: String, selector: DaemonSelector, content: String,
        comment: String, createdAt: Int64, status: ConfigVersionStatus
    ) {
        self.name = name
        self.version = version
        self.format = format
        self.hash = hash
        self.selector = selector
        self.content = content
        self.comment = comment
        self.createdAt = createdAt
        self.status = status
    }

    /// The CONFIG_PUSH frame that sends this version to a daemon.
    public var push: ConfigPush {
        ConfigPush(name: name, version: version, hash: hash, format: format.rawValue, content: Array(content.utf8))
    }
}
