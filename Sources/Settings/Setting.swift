/// One setting of a command, written once: its YAML key, its flag, the form and range of its
/// value, where it is stored in `Root`, and what it does.
///
/// Settings are collected in a ``SettingsTable``, which derives the flag parser, the YAML loader,
/// the range checks, the `--help` text and the documentation table from them. Build each with
/// the factory for its kind of value: ``integer(_:flag:_:in:shownDefault:help:)``,
/// ``bytes(_:flag:_:unit:in:help:)``, ``duration(_:flag:_:unit:in:help:)``,
/// ``text(_:flag:_:placeholder:help:)``, ``choice(_:flag:_:placeholder:help:)``, ``port(_:flag:_:help:)``,
/// ``toggle(_:flag:_:help:)``, ``list(_:flag:_:placeholder:help:)``, ``mapping(_:_:placeholder:help:parse:show:)``.
///
/// Numbers are whole numbers in the unit the key names (`segment_mib: 64`, `--linger-ms 5`);
/// sizes are stored in bytes and times as a `Duration`, so the unit is written once, here.
///
/// ```swift
/// let segment = Setting<WALOptions>.bytes(
///     "segment_mib", \.segmentSize, unit: .mebibytes, in: 1 ... 4096,
///     help: "Segment file size (preallocated; a batch must fit in one).")
/// ```
///
/// Values are immutable and `Sendable`; storing runs on the caller's thread.
public struct Setting<Root>: Sendable {
    /// The YAML key, dotted under a section (`limits.line_kib` is `line_kib` in `limits:`).
    public let key: String
    /// The command-line flag without its dashes (`max-line-kib`); nil for a setting that only a
    /// YAML file can hold (a mapping).
    public let flag: String?
    /// What the setting does.
    public let help: String
    /// How a value is written in help: `<MiB>`, `<none|interval|batch>`.
    public let placeholder: String
    /// The values allowed, in words (`1 to 4096 MiB`); empty when any value goes.
    public let allowed: String
    /// Whether the flag may be given several times, each time adding a value.
    public let repeats: Bool
    /// Shown as the default instead of the default value, when that depends on the machine.
    let shownDefault: String?
    /// A switch: the flag alone means `true` (`--journald`); `--flag=false` and YAML
    /// `key: false` turn it off.
    public internal(set) var isSwitch = false
    /// Parses `value` (named `name` in errors) and stores it into the root.
    let store: @Sendable (inout Root, SettingValue, _ name: String) throws(SettingsError) -> Void
    /// The stored value, written as a user would write it.
    let show: @Sendable (Root) -> String

    /// The setting's value in `root`, written as on the command line (in the setting's unit).
    public func value(in root: Root) -> String { show(root) }

    /// The default as documented: the value in `defaults`, or the fixed text given for a default
    /// that depends on the machine.
    public func documentedDefault(_ defaults: Root) -> String { shownDefault ?? show(defaults) }

    /// This setting applied to the part of `Outer` at `path`: same key, flag, range and help.
    /// A command that embeds another's settings (the node's `wal` options) reuses them this way.
    public func lifted<Outer>(into path: any WritableKeyPath<Outer, Root> & Sendable) -> Setting<Outer> {
        let store = self.store
        let show = self.show
        var outer = Setting<Outer>(
            key: key, flag: flag, help: help, placeholder: placeholder, allowed: allowed, repeats: repeats,
            shownDefault: shownDefault,
            store: { outer, value, name throws(SettingsError) in try store(&outer[keyPath: path], value, name) },
            show: { show($0[keyPath: path]) })
        outer.isSwitch = isSwitch
        return outer
    }
}

/// A value given to a setting, as written on the command line or in a YAML file.
enum SettingValue: Sendable {
    /// One value: a flag's argument or a YAML scalar.
    case scalar(String)
    /// Several values: a repeated flag or a YAML sequence.
    case list([String])
    /// Key-value pairs: a YAML mapping.
    case mapping([(key: String, value: String)])
}

/// The unit a size setting is written in; the value is stored in bytes.
public struct ByteUnit: Sendable {
    let symbol: String
    let shift: Int

    /// KiB: 1,024 bytes.
    public static let kibibytes = ByteUnit(symbol: "KiB", shift: 10)
    /// MiB: 1,048,576 bytes.
    public static let mebibytes = ByteUnit(symbol: "MiB", shift: 20)
}

/// The unit a time setting is written in; the value is stored as a `Duration`.
public struct TimeUnit: Sendable {
    let symbol: String
    let one: Duration

    /// Milliseconds (`ms`).
    public static let milliseconds = TimeUnit(symbol: "ms", one: .milliseconds(1))
    /// Seconds (`s`).
    public static let seconds = TimeUnit(symbol: "s", one: .seconds(1))
    /// Hours (`h`).
    public static let hours = TimeUnit(symbol: "h", one: .seconds(3600))
    /// Days (`d`).
    public static let days = TimeUnit(symbol: "d", one: .seconds(86_400))

    /// `text` without a trailing symbol of this unit: `10s` is read as `10` in a setting in
    /// seconds. Another unit's symbol stays, and the number check refuses it.
    func strip(_ text: String) -> String {
        text.hasSuffix(symbol) && text.count > symbol.count ? String(text.dropLast(symbol.count)) : text
    }
}

// MARK: - Kinds of settings

extension Setting {
    /// A count within `range` (`--shards 4`, `shards: 4`).
    /// - Parameters:
    ///   - flag: the flag without dashes; by default the key with `-` for `_`.
    ///   - shownDefault: the default as documented, when the real one depends on the machine.
    public static func integer(
        _ key: String, flag: String? = nil, _ path: any WritableKeyPath<Root, Int> & Sendable, in range: ClosedRange<Int>,
        shownDefault: String? = nil, help: String
    ) -> Setting {
        scalar(
            key, flag, path, placeholder: "<n>", allowed: "\(range.lowerBound) to \(range.upperBound)", shownDefault: shownDefault,
            help: help, parse: { text, name throws(SettingsError) in try wholeNumber(text, name, in: range) }, show: { String($0) })
    }

    /// A size written in `unit` within `range` and stored in bytes (`--segment-mib 64` stores
    /// 67,108,864).
    public static func bytes(
        _ key: String, flag: String? = nil, _ path: any WritableKeyPath<Root, Int> & Sendable, unit: ByteUnit,
        in range: ClosedRange<Int>, help: String
    ) -> Setting {
        scalar(
            key, flag, path, placeholder: "<\(unit.symbol)>",
            allowed: "\(range.lowerBound) to \(range.upperBound) \(unit.symbol)", help: help,
            parse: { text, name throws(SettingsError) in try wholeNumber(text, name, in: range) << unit.shift },
            show: { String($0 >> unit.shift) })
    }

    /// A size limit written in `unit`, from 0 to `limit`, where 0 means no limit (stored as nil).
    /// - Parameter zeroMeans: what 0 means, for help (`no size limit`).
    public static func bytes(
        _ key: String, flag: String? = nil, _ path: any WritableKeyPath<Root, Int?> & Sendable, unit: ByteUnit,
        upTo limit: Int, zeroMeans: String, help: String
    ) -> Setting {
        scalar(
            key, flag, path, placeholder: "<\(unit.symbol)>", allowed: "0 to \(limit) \(unit.symbol); 0: \(zeroMeans)", help: help,
            parse: { text, name throws(SettingsError) in
                let value = try wholeNumber(text, name, in: 0 ... limit)
                return value == 0 ? nil : value << unit.shift
            },
            show: { $0.map { String($0 >> unit.shift) } ?? "0" })
    }

    /// A time written in `unit` within `range` and stored as a `Duration` (`--linger-ms 5` stores
    /// `.milliseconds(5)`).
    public static func duration(
        _ key: String, flag: String? = nil, _ path: any WritableKeyPath<Root, Duration> & Sendable, unit: TimeUnit,
        in range: ClosedRange<Int>, help: String
    ) -> Setting {
        scalar(
            key, flag, path, placeholder: "<\(unit.symbol)>",
            allowed: "\(range.lowerBound) to \(range.upperBound) \(unit.symbol)", help: help,
            parse: { text, name throws(SettingsError) in unit.one * (try wholeNumber(unit.strip(text), name, in: range)) },
            show: { String(whole($0, of: unit)) })
    }

    /// A time limit written in `unit`, from 0 to `limit`, where 0 means none (stored as nil).
    /// - Parameter zeroMeans: what 0 means, for help (`keep forever`).
    public static func duration(
        _ key: String, flag: String? = nil, _ path: any WritableKeyPath<Root, Duration?> & Sendable, unit: TimeUnit,
        upTo limit: Int, zeroMeans: String, help: String
    ) -> Setting {
        scalar(
            key, flag, path, placeholder: "<\(unit.symbol)>", allowed: "0 to \(limit) \(unit.symbol); 0: \(zeroMeans)", help: help,
            parse: { text, name throws(SettingsError) in
                let value = try wholeNumber(unit.strip(text), name, in: 0 ... limit)
                return value == 0 ? nil : unit.one * value
            },
            show: { $0.map { String(whole($0, of: unit)) } ?? "0" })
    }

    /// Free text (a path, an address, a name).
    /// - Parameter placeholder: what the text is, for help (`path`).
    /// - Parameter shownDefault: the default as documented, when the real one depends on the
    ///   machine (`the host name`).
    public static func text(
        _ key: String, flag: String? = nil, _ path: any WritableKeyPath<Root, String> & Sendable, placeholder: String,
        shownDefault: String? = nil, help: String
    ) -> Setting {
        scalar(
            key, flag, path, placeholder: "<\(placeholder)>", allowed: "", shownDefault: shownDefault, help: help,
            parse: { text, _ in text }, show: { $0 })
    }

    /// Free text that is unset by default.
    /// - Parameter placeholder: what the text is, for help (`file`).
    public static func text(
        _ key: String, flag: String? = nil, _ path: any WritableKeyPath<Root, String?> & Sendable, placeholder: String,
        help: String
    ) -> Setting {
        scalar(
            key, flag, path, placeholder: "<\(placeholder)>", allowed: "", help: help,
            parse: { text, _ in text }, show: { $0 ?? "(none)" })
    }

    /// One of the cases of `Value`, written as its description (case-insensitive).
    /// - Parameter placeholder: what a value is, for help; by default the choices themselves
    ///   (`<none|interval|batch>`).
    public static func choice<Value: CaseIterable & CustomStringConvertible & Sendable>(
        _ key: String, flag: String? = nil, _ path: any WritableKeyPath<Root, Value> & Sendable, placeholder: String? = nil,
        help: String
    ) -> Setting {
        let cases = Array(Value.allCases)
        let names = cases.map(\.description)
        return scalar(
            key, flag, path, placeholder: "<\(placeholder ?? names.joined(separator: "|"))>", allowed: names.joined(separator: ", "),
            help: help,
            parse: { text, name throws(SettingsError) in
                guard let match = cases.first(where: { $0.description.lowercased() == text.lowercased() }) else {
                    throw SettingsError(.invalidValue, "\(name) must be one of \(names.joined(separator: ", ")), got '\(text)'")
                }
                return match
            },
            show: { $0.description })
    }

    /// On or off: the flag alone turns it on (`--journald`), `--flag=false` off; in YAML
    /// `true`/`false` (also `yes`/`no`, `on`/`off`).
    public static func toggle(
        _ key: String, flag: String? = nil, _ path: any WritableKeyPath<Root, Bool> & Sendable, help: String
    ) -> Setting {
        var setting = scalar(
            key, flag, path, placeholder: "", allowed: "", help: help,
            parse: { text, name throws(SettingsError) in
                switch text.lowercased() {
                case "true", "yes", "on": return true
                case "false", "no", "off": return false
                default: throw SettingsError(.invalidValue, "\(name) is on or off (true or false), got '\(text)'")
                }
            },
            show: { $0 ? "on" : "off" })
        setting.isSwitch = true
        return setting
    }

    /// A listener port: 0 to 65535 (0 picks a free port), or `off` (also `false`, `no`) for no
    /// listener, stored as nil.
    public static func port(
        _ key: String, flag: String? = nil, _ path: any WritableKeyPath<Root, Int?> & Sendable, help: String
    ) -> Setting {
        scalar(
            key, flag, path, placeholder: "<port|off>", allowed: "0 to 65535 (0: any free port), or off", help: help,
            parse: { text, name throws(SettingsError) in
                if ["off", "false", "no"].contains(text.lowercased()) { return nil }
                guard let number = Int(text) else {
                    throw SettingsError(.invalidValue, "\(name) must be a port number or off, got '\(text)'")
                }
                guard (0 ... 65_535).contains(number) else { throw .outOfRange(name, 0 ... 65_535, got: number, orOff: true) }
                return number
            },
            show: { $0.map(String.init) ?? "off" })
    }

    /// A set of strings: a YAML sequence, or the flag repeated once per value. Values given on
    /// the command line replace those of the file.
    /// - Parameter placeholder: what one value is, for help (`token`).
    public static func list(
        _ key: String, flag: String? = nil, _ path: any WritableKeyPath<Root, Set<String>> & Sendable, placeholder: String,
        help: String
    ) -> Setting {
        Setting(
            key: key, flag: flag ?? defaultFlag(for: key), help: help, placeholder: "<\(placeholder)>",
            allowed: "", repeats: true, shownDefault: nil,
            store: { root, value, name throws(SettingsError) in
                guard case .list(let values) = value else { throw SettingsError(.invalidValue, "\(name) must be a list") }
                root[keyPath: path] = Set(values)
            },
            show: { root in
                let values = root[keyPath: path]
                return values.isEmpty ? "(none)" : values.sorted().joined(separator: ", ")
            })
    }

    /// An ordered list of strings (servers to try in turn, `k=v` labels): a YAML sequence, or
    /// the flag repeated once per value, kept in the order given. Values given on the command
    /// line replace those of the file.
    /// - Parameter placeholder: what one value is, for help (`host:port`).
    public static func list(
        _ key: String, flag: String? = nil, _ path: any WritableKeyPath<Root, [String]> & Sendable, placeholder: String,
        help: String
    ) -> Setting {
        Setting(
            key: key, flag: flag ?? defaultFlag(for: key), help: help, placeholder: "<\(placeholder)>",
            allowed: "", repeats: true, shownDefault: nil,
            store: { root, value, name throws(SettingsError) in
                guard case .list(let values) = value else { throw SettingsError(.invalidValue, "\(name) must be a list") }
                root[keyPath: path] = values
            },
            show: { root in
                let values = root[keyPath: path]
                return values.isEmpty ? "(none)" : values.joined(separator: ", ")
            })
    }

    /// A mapping of keys to values, which only a YAML file can hold (there is no flag).
    /// - Parameters:
    ///   - placeholder: the shape of one entry, for help (`<shard>: <region>`).
    ///   - parse: makes the stored value from the entries, throwing an error that names `name`.
    ///   - show: writes a stored value for help and documentation.
    public static func mapping<Value>(
        _ key: String, _ path: any WritableKeyPath<Root, Value> & Sendable, placeholder: String, help: String,
        parse: @escaping @Sendable (_ entries: [(key: String, value: String)], _ name: String) throws(SettingsError) -> Value,
        show: @escaping @Sendable (Value) -> String
    ) -> Setting {
        Setting(
            key: key, flag: nil, help: help, placeholder: placeholder, allowed: "", repeats: false, shownDefault: nil,
            store: { root, value, name throws(SettingsError) in
                guard case .mapping(let entries) = value else { throw SettingsError(.invalidValue, "\(name) must be a mapping") }
                root[keyPath: path] = try parse(entries, name)
            },
            show: { show($0[keyPath: path]) })
    }

    /// A setting that takes one value, parsed by `parse` and stored at `path`.
    private static func scalar<Value>(
        _ key: String, _ flag: String?, _ path: any WritableKeyPath<Root, Value> & Sendable, placeholder: String,
        allowed: String, shownDefault: String? = nil, help: String,
        parse: @escaping @Sendable (_ text: String, _ name: String) throws(SettingsError) -> Value,
        show: @escaping @Sendable (Value) -> String
    ) -> Setting {
        Setting(
            key: key, flag: flag ?? defaultFlag(for: key), help: help, placeholder: placeholder, allowed: allowed,
            repeats: false, shownDefault: shownDefault,
            store: { root, value, name throws(SettingsError) in
                guard case .scalar(let text) = value else { throw SettingsError(.invalidValue, "\(name) takes a single value") }
                root[keyPath: path] = try parse(text, name)
            },
            show: { show($0[keyPath: path]) })
    }
}

/// The flag of a key that names none: the key with `-` for `_` and `.`.
private func defaultFlag(for key: String) -> String {
    String(key.map { $0 == "_" || $0 == "." ? "-" : $0 })
}

/// `text` as a whole number within `range`; errors name `name`.
private func wholeNumber(_ text: String, _ name: String, in range: ClosedRange<Int>) throws(SettingsError) -> Int {
    guard let value = Int(text) else { throw .notANumber(name, got: text) }
    guard range.contains(value) else { throw .outOfRange(name, range, got: value) }
    return value
}

/// `duration` in whole `unit`s, rounded to the nearest.
private func whole(_ duration: Duration, of unit: TimeUnit) -> Int {
    Int((duration / unit.one).rounded())
}
