/// Every setting of a command, in groups, written once; the flag parser, the YAML loader, the
/// range checks, `--help` and the documentation table all come from it.
///
/// - ``apply(arguments:to:)`` reads `--flag value` and `--flag=value` (list flags repeat).
/// - ``apply(yaml:to:)`` reads a YAML mapping; a dotted key (`limits.line_kib`) is a key in a
///   nested mapping (`limits: {line_kib: 64}`).
/// - ``help(defaults:)`` and ``markdown(defaults:)`` describe every setting with its flag, key,
///   default and allowed values.
///
/// Unknown flags and keys are errors that name them and suggest the closest known one. Values
/// outside a setting's range are errors that name the flag or key, the range and the value.
/// Apply the file first and the flags second, so that flags win:
///
/// ```swift
/// var configuration = ServeConfiguration()
/// try ServeConfiguration.settings.apply(yaml: fileText, to: &configuration)
/// try ServeConfiguration.settings.apply(arguments: ["--shards", "8"], to: &configuration)
/// ```
///
/// Immutable and `Sendable`; every method runs on the caller's thread.
public struct SettingsTable<Root>: Sendable {
    /// Settings that belong together, under a title (`Write-ahead log`).
    public struct Group: Sendable {
        /// The group's title in help and documentation.
        public let title: String
        /// The group's settings, in the order help lists them.
        public let settings: [Setting<Root>]

        /// A group titled `title`.
        public init(_ title: String, _ settings: [Setting<Root>]) {
            self.title = title
            self.settings = settings
        }
    }

    /// The groups, in the order help lists them.
    public let groups: [Group]
    /// Every setting, group after group.
    public let settings: [Setting<Root>]
    private let byFlag: [String: Int]
    private let byKey: [String: Int]

    /// A table of `groups`. Keys and flags must be unique (a duplicate is a programming error
    /// and traps).
    public init(_ groups: [Group]) {
        self.groups = groups
        settings = groups.flatMap(\.settings)
        var byFlag: [String: Int] = [:]
        var byKey: [String: Int] = [:]
        for (index, setting) in settings.enumerated() {
            precondition(byKey.updateValue(index, forKey: setting.key) == nil, "two settings have the key \(setting.key)")
            if let flag = setting.flag {
                precondition(byFlag.updateValue(index, forKey: flag) == nil, "two settings have the flag --\(flag)")
            }
        }
        self.byFlag = byFlag
        self.byKey = byKey
    }

    /// The setting whose flag is `flag` (without dashes).
    public func setting(flag: String) -> Setting<Root>? { byFlag[flag].map { settings[$0] } }

    /// The setting whose YAML key is `key` (dotted when nested).
    public func setting(key: String) -> Setting<Root>? { byKey[key].map { settings[$0] } }

    /// These settings applied to the part of `Outer` at `path` (see ``Setting/lifted(into:)``).
    public func lifted<Outer>(into path: any WritableKeyPath<Outer, Root> & Sendable) -> SettingsTable<Outer> {
        SettingsTable<Outer>(groups.map { .init($0.title, $0.settings.map { $0.lifted(into: path) }) })
    }

    /// Whether some setting's key lies under `section` (`limits` for `limits.line_kib`).
    func isSection(_ section: String) -> Bool {
        settings.contains { $0.key.hasPrefix(section + ".") }
    }

    /// The names one level under `prefix` (`""` or `"limits."`), in table order: keys and
    /// sections.
    func names(under prefix: String) -> [String] {
        var names: [String] = []
        for setting in settings where setting.key.hasPrefix(prefix) {
            let rest = setting.key.dropFirst(prefix.count)
            let name = String(rest.prefix { $0 != "." })
            if !names.contains(name) { names.append(name) }
        }
        return names
    }
}
