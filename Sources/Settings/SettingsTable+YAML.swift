import Yams

extension SettingsTable {
    /// Applies a YAML document to `root`: a mapping of keys to values, with a nested mapping for
    /// each section of dotted keys (`limits: {line_kib: 64}` sets `limits.line_kib`). An empty
    /// document changes nothing.
    ///
    /// - Throws: ``SettingsError``: text that is not YAML or not a mapping; an unknown key, named
    ///   with its path, the closest known key and the keys known at its level; a value the
    ///   setting refuses, named as `'key'` with its line. Keys before the failing one have been
    ///   applied to `root`.
    public func apply(yaml text: String, to root: inout Root) throws(SettingsError) {
        let document: Node?
        do { document = try Yams.compose(yaml: text) } catch {
            throw SettingsError(.invalidDocument, "invalid YAML: \(error)")
        }
        guard let document else { return }
        guard let mapping = document.mapping else {
            throw SettingsError(.invalidDocument, "the configuration must be a mapping of keys to values")
        }
        try apply(mapping, under: "", to: &root)
    }

    private func apply(_ mapping: Node.Mapping, under prefix: String, to root: inout Root) throws(SettingsError) {
        for (keyNode, valueNode) in mapping {
            guard let name = keyNode.scalar?.string else {
                throw SettingsError(.invalidDocument, "a key\(prefix.isEmpty ? "" : " under '\(prefix.dropLast())'") is not a string")
                    .at(line: keyNode.mark?.line)
            }
            let key = prefix + name
            if let setting = setting(key: key) {
                do throws(SettingsError) {
                    try setting.store(&root, try Self.value(of: valueNode, key), "'\(key)'")
                } catch {
                    throw error.at(line: valueNode.mark?.line)
                }
            } else if isSection(key) {
                guard let section = valueNode.mapping else {
                    throw SettingsError(.invalidValue, "'\(key)' must be a mapping").at(line: valueNode.mark?.line)
                }
                try apply(section, under: key + ".", to: &root)
            } else {
                throw unknownKey(key, under: prefix)
            }
        }
    }

    private func unknownKey(_ key: String, under prefix: String) -> SettingsError {
        let known = names(under: prefix)
        let suggestion = closestName(to: key, among: known.map { prefix + $0 }).map { "; did you mean '\($0)'?" } ?? ""
        return SettingsError(.unknownName, "unknown configuration key '\(key)'\(suggestion) (known: \(known.joined(separator: ", ")))")
    }

    /// A YAML node as a setting's value: a scalar, a sequence of scalars or a mapping of scalars.
    private static func value(of node: Node, _ key: String) throws(SettingsError) -> SettingValue {
        if let scalar = node.scalar { return .scalar(scalar.string) }
        if let sequence = node.sequence {
            var values: [String] = []
            for item in sequence {
                guard let value = item.scalar?.string else { throw SettingsError(.invalidValue, "'\(key)' must be a list of plain values") }
                values.append(value)
            }
            return .list(values)
        }
        if let mapping = node.mapping {
            var entries: [(key: String, value: String)] = []
            for (k, v) in mapping {
                guard let name = k.scalar?.string, let value = v.scalar?.string else {
                    throw SettingsError(.invalidValue, "'\(key)' must map plain keys to plain values")
                }
                entries.append((name, value))
            }
            return .mapping(entries)
        }
        throw SettingsError(.invalidValue, "'\(key)' has a value of an unsupported form")
    }
}
