/// The regular-expression dialect of filters: POSIX extended (ERE, glibc) plus the Perl
/// shorthands people type, translated before compiling (docs/query.md, "Regular expressions").
///
/// | written | outside `[ ]` | inside `[ ]` |
/// |---|---|---|
/// | `\d` `\D` | `[0-9]` `[^0-9]` | `0-9`, not allowed |
/// | `\w` `\W` | `[[:alnum:]_]` `[^[:alnum:]_]` | `[:alnum:]_`, not allowed |
/// | `\s` `\S` | `[[:space:]]` `[^[:space:]]` | `[:space:]`, not allowed |
/// | `\t` `\n` | tab, newline | tab, newline |
/// | `\X` other | kept (`\.` is a literal dot) | `X` |
///
/// No back-references, no lazy quantifiers, no look-around; matching is case-sensitive.
enum RegexDialect {
    /// `pattern` in POSIX ERE, checked by compiling it.
    /// - Throws: an error at `column` (where the pattern starts) when it is not valid.
    static func translate(_ pattern: String, column: Int) throws(FilterSyntaxError) -> String {
        var out = ""
        var chars = Array(pattern.unicodeScalars)[...]
        var inBracket = false
        var bracketStart = true
        while let c = chars.popFirst() {
            if inBracket {
                if c == "[", let next = chars.first, next == ":" || next == "." || next == "=" {
                    // A class like [:alpha:]: copy to its closing ":]".
                    out.unicodeScalars.append(c)
                    while let d = chars.popFirst() {
                        out.unicodeScalars.append(d)
                        if d == "]", out.unicodeScalars.dropLast().last == next { break }
                    }
                    bracketStart = false
                    continue
                }
                if c == "]", !bracketStart {
                    inBracket = false
                    out += "]"
                    continue
                }
                if c == "^", bracketStart, !out.hasSuffix("[^") {
                    out += "^"
                    continue
                }
                bracketStart = false
                if c == "\\", let next = chars.popFirst() {
                    switch next {
                    case "d": out += "0-9"
                    case "w": out += "[:alnum:]_"
                    case "s": out += "[:space:]"
                    case "t": out += "\t"
                    case "n": out += "\n"
                    case "D", "W", "S":
                        throw FilterSyntaxError(column: column, "\\\(next) is not supported inside [ ] in a regular expression")
                    default: out.unicodeScalars.append(next)
                    }
                    continue
                }
                out.unicodeScalars.append(c)
                continue
            }
            if c == "[" {
                inBracket = true
                bracketStart = true
                out += "["
                continue
            }
            if c == "\\", let next = chars.popFirst() {
                switch next {
                case "d": out += "[0-9]"
                case "D": out += "[^0-9]"
                case "w": out += "[[:alnum:]_]"
                case "W": out += "[^[:alnum:]_]"
                case "s": out += "[[:space:]]"
                case "S": out += "[^[:space:]]"
                case "t": out += "\t"
                case "n": out += "\n"
                default:
                    out += "\\"
                    out.unicodeScalars.append(next)
                }
                continue
            }
            out.unicodeScalars.append(c)
        }
        do {
            _ = try POSIXRegex(out)
        } catch {
            throw FilterSyntaxError(column: column, "invalid regular expression \"\(pattern)\": \(error.message)")
        }
        return out
    }
}
