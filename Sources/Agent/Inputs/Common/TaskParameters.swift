/// Reads a task's parameters (docs/control.md, "Tasks") for the readers' options. The node
/// validated them already; a daemon still refuses what it cannot use, naming the parameter.
struct TaskParameters {
    let values: [String: String]
    let kind: String

    init(_ values: [String: String], kind: String) {
        self.values = values
        self.kind = kind
    }

    subscript(_ name: String) -> String? { values[name] }

    func required(_ name: String) throws(InputError) -> String {
        guard let value = values[name], !value.isEmpty else {
            throw InputError(.invalidParameter, "a \(kind) task needs parameter \(name)", subject: name)
        }
        return value
    }

    /// A whole number in `range`, or `fallback` when the parameter is missing.
    func integer(_ name: String, in range: ClosedRange<Int>, default fallback: Int? = nil) throws(InputError) -> Int? {
        guard let text = values[name] else { return fallback }
        guard let value = Int(text), range.contains(value) else {
            throw InputError(.invalidParameter, "\(name) is \"\(text)\"; it must be a whole number from \(range.lowerBound) to \(range.upperBound)", subject: name)
        }
        return value
    }

    /// `true` or `false`, or `fallback` when the parameter is missing.
    func flag(_ name: String, default fallback: Bool) throws(InputError) -> Bool {
        switch values[name] {
        case nil: return fallback
        case "true": return true
        case "false": return false
        case let text?: throw InputError(.invalidParameter, "\(name) is \"\(text)\"; it must be true or false", subject: name)
        }
    }

    /// One of `choices`, or `fallback` when the parameter is missing.
    func choice(_ name: String, _ choices: [String], default fallback: String) throws(InputError) -> String {
        let value = values[name] ?? fallback
        guard choices.contains(value) else {
            throw InputError(.invalidParameter, "\(name) is \"\(value)\"; it must be one of \(choices.joined(separator: ", "))", subject: name)
        }
        return value
    }
}
