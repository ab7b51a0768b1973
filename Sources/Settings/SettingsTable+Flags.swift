extension SettingsTable {
    /// Applies command-line flags to `root`.
    ///
    /// Each flag is `--flag value` or `--flag=value`; a switch is `--flag` alone (or `--flag=false`). A flag given twice keeps its last value,
    /// except list flags, which collect every value (and replace the list `root` had). A value
    /// may start with one dash (`-1` is read, then refused by the range check) but not two: a
    /// flag followed by another flag has no value.
    ///
    /// - Throws: ``SettingsError`` naming the flag: an unknown flag (with the closest known one),
    ///   an argument that is not a flag, a missing value, or a value the setting refuses. Nothing
    ///   is applied to `root` when a flag is unknown or lacks its value.
    public func apply(arguments: [String], to root: inout Root) throws(SettingsError) {
        var given: [(setting: Setting<Root>, name: String, values: [String])] = []
        var index = arguments.startIndex
        while index < arguments.endIndex {
            let argument = arguments[index]
            index += 1
            guard argument.hasPrefix("--"), argument.count > 2 else {
                throw SettingsError(.invalidValue, "unexpected argument '\(argument)' (settings are flags: --flag value or --flag=value)")
            }
            let body = argument.dropFirst(2)
            let flag = String(body.prefix { $0 != "=" })
            guard let setting = setting(flag: flag) else { throw unknownFlag(flag) }
            let value: String
            if let equals = body.firstIndex(of: "=") {
                value = String(body[body.index(after: equals)...])
            } else if setting.isSwitch {
                value = "true"
            } else if index < arguments.endIndex, !arguments[index].hasPrefix("--") {
                value = arguments[index]
                index += 1
            } else {
                throw SettingsError(.invalidValue, "--\(flag) needs a value (\(setting.placeholder))")
            }
            if setting.repeats, let earlier = given.firstIndex(where: { $0.setting.key == setting.key }) {
                given[earlier].values.append(value)
            } else {
                given.append((setting, "--" + flag, [value]))
            }
        }
        for (setting, name, values) in given {
            try setting.store(&root, setting.repeats ? .list(values) : .scalar(values[values.count - 1]), name)
        }
    }

    private func unknownFlag(_ flag: String) -> SettingsError {
        let suggestion = closestName(to: flag, among: settings.compactMap(\.flag)).map { "; did you mean '--\($0)'?" } ?? ""
        return SettingsError(.unknownName, "unknown flag '--\(flag)'\(suggestion)")
    }
}
