import Logging
import Platform
import Settings
import Wire

/// The configuration documents the control plane pushed (CONFIG_PUSH), as applied: kept in
/// `<spool>/config/<name>`, so a restart comes back with the last applied version of each.
///
/// A document is YAML (or JSON) with a subset of the agent's own settings, the same keys as its
/// configuration file: `labels`, `spool_mib`, `batch_kib`, `linger_ms`, `window`, `compression`,
/// `tail`, `tail_from`, `journald`, `hostmetrics`, `log_level`. They apply over the command
/// line's settings, documents in name order. A document that does not validate is reported
/// `failed` with the reason and changes nothing: the last good one stays. Not thread-safe: the
/// core's thread owns it.
final class AppliedConfigs {
    struct Document: Equatable {
        var name: String
        var version: UInt64
        var hash: String
        var content: String
    }

    /// The keys a pushed document may set.
    static let pushable: Set<String> = [
        "labels", "spool_mib", "batch_kib", "linger_ms", "window", "compression", "tail", "tail_from", "journald", "hostmetrics",
        "log_level",
    ]

    static let settings = SettingsTable<AgentConfiguration>(AgentConfiguration.settings.groups.compactMap { group in
        let kept = group.settings.filter { pushable.contains($0.key) }
        return kept.isEmpty ? nil : SettingsTable<AgentConfiguration>.Group(group.title, kept)
    })

    let directory: String
    private(set) var documents: [String: Document] = [:]

    /// Loads the applied documents from `directory`; unreadable ones are logged and skipped.
    init(directory: String, logger: Logger) throws(SystemError) {
        self.directory = directory
        try FileSystem.makeDirectory(directory)
        for name in try FileSystem.list(directory) where !name.hasPrefix(".") {
            guard let bytes = try? FileSystem.read(directory + "/" + name), let document = Self.parse(bytes, name: name) else {
                logger.warning("config: an applied document cannot be read; ignored", metadata: ["config.name": "\(name)"])
                continue
            }
            documents[name] = document
        }
    }

    /// `base` with every applied document over it.
    /// - Throws: ``AgentError`` naming the document and the setting that does not validate.
    func configuration(base: AgentConfiguration) throws(AgentError) -> AgentConfiguration {
        try Self.compose(base, documents)
    }

    /// Applies a push: the reports to send (applying, then applied or failed) and, when it
    /// applied and changes something, the new configuration.
    func apply(_ push: ConfigPush, base: AgentConfiguration, logger: Logger) -> (reports: [ConfigStatus], configuration: AgentConfiguration?) {
        if let current = documents[push.name], current.hash == push.hash {
            return ([ConfigStatus(name: push.name, version: push.version, hash: push.hash, state: .applied)], nil)
        }
        var reports = [ConfigStatus(name: push.name, version: push.version, hash: push.hash, state: .applying)]
        let document = Document(name: push.name, version: push.version, hash: push.hash, content: String(decoding: push.content, as: UTF8.self))
        var trial = documents
        trial[push.name] = document
        do throws(AgentError) {
            guard Self.isSafeName(push.name) else { throw AgentError("configuration name '\(push.name)' cannot be a file name") }
            let configuration = try Self.compose(base, trial)
            do { try FileSystem.writeAtomically(directory + "/" + push.name, Self.encode(document)) } catch {
                throw AgentError("cannot save the configuration: \(error)")
            }
            documents = trial
            reports.append(ConfigStatus(name: push.name, version: push.version, hash: push.hash, state: .applied))
            logger.info("config applied", metadata: ["config.name": "\(push.name)", "config.version": "\(push.version)"])
            return (reports, configuration)
        } catch {
            reports.append(ConfigStatus(name: push.name, version: push.version, hash: push.hash, state: .failed, message: error.message))
            logger.error("config refused; keeping the last good one", metadata: [
                "config.name": "\(push.name)", "config.version": "\(push.version)", "error": "\(error)",
            ])
            return (reports, nil)
        }
    }

    private static func compose(_ base: AgentConfiguration, _ documents: [String: Document]) throws(AgentError) -> AgentConfiguration {
        var configuration = base
        for document in documents.values.sorted(by: { $0.name < $1.name }) {
            do { try settings.apply(yaml: document.content, to: &configuration) } catch {
                throw AgentError("\(document.name) version \(document.version): \(error)")
            }
        }
        do { _ = try configuration.labelMap() } catch { throw AgentError("labels: \(error)") }
        return configuration
    }

    private static func isSafeName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 128 && name != "." && name != ".."
            && name.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 | 0x20 >= 0x61 && $0 | 0x20 <= 0x7A) || $0 == 0x2E || $0 == 0x5F || $0 == 0x2D }
    }

    /// `version<TAB>hash` on the first line, then the content.
    private static func encode(_ document: Document) -> [UInt8] {
        Array("\(document.version)\t\(document.hash)\n\(document.content)".utf8)
    }

    private static func parse(_ bytes: [UInt8], name: String) -> Document? {
        guard let newline = bytes.firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        let head = String(decoding: bytes[..<newline], as: UTF8.self).split(separator: "\t")
        guard head.count == 2, let version = UInt64(head[0]) else { return nil }
        return Document(name: name, version: version, hash: String(head[1]), content: String(decoding: bytes[(newline + 1)...], as: UTF8.self))
    }
}
