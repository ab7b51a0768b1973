import Yams

/// Checks the control plane's text inputs share: names and YAML errors.
enum TextRules {
    /// Whether `b` may appear in a name (a configuration name, a task's stream):
    /// `A-Z a-z 0-9 . _ -`.
    static func isNameByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A") ... UInt8(ascii: "Z"), UInt8(ascii: "a") ... UInt8(ascii: "z"), UInt8(ascii: "0") ... UInt8(ascii: "9"),
             UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"):
            true
        default:
            false
        }
    }

    /// The line and the problem of a YAML error that has a position, `nil` for the others.
    static func locate(_ error: YamlError) -> (line: Int, problem: String)? {
        switch error {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
             .composer(let context, let problem, let mark, _):
            (mark.line, "YAML syntax: \(problem)\(context.map { " \($0.text)" } ?? "")")
        case .duplicatedKeysInMapping(let duplicates, let context):
            (context.mark.line, "duplicate key \(duplicates.joined(separator: ", ")) in \(context.text)")
        default:
            nil
        }
    }
}
