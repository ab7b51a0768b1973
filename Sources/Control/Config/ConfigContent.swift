import Crypto
import Foundation
import Yams

/// Checks names and document text, detects the format and computes the content hash.
///
/// YAML is checked for syntax only (composed, not constructed): tags and values the daemon
/// interprets are its business, but a document that does not parse never reaches a daemon.
enum ConfigContent {
    /// The largest document, in bytes.
    static let maxBytes = 1 << 20
    /// The longest name, in bytes.
    static let maxNameBytes = 128

    /// Refuses a name that is empty, longer than 128 bytes or has a byte outside `[A-Za-z0-9._-]`.
    static func validate(name: String) throws(ConfigError) {
        let bytes = name.utf8
        guard !bytes.isEmpty, bytes.count <= maxNameBytes else {
            throw ConfigError(.invalid, "a configuration name is 1 to \(maxNameBytes) bytes, got \(bytes.count)")
        }
        for b in bytes where !TextRules.isNameByte(b) {
            throw ConfigError(.invalid, "configuration name '\(name)' may only use A-Z a-z 0-9 . _ -")
        }
    }

    /// The text and format of a document, after checking its size, encoding and syntax.
    /// - Throws: ``ControlRequestFailure/limit`` over 1 MiB; ``ControlRequestFailure/invalid``
    ///   when it is not UTF-8, blank, or not YAML (with the line of the first error).
    static func parse(_ content: [UInt8]) throws(ConfigError) -> (text: String, format: ConfigFormat) {
        guard content.count <= maxBytes else {
            throw ConfigError(.limit, "the document is \(content.count) bytes; the limit is \(maxBytes) (1 MiB)")
        }
        guard let text = String(validating: content, as: UTF8.self) else {
            throw ConfigError(.invalid, "the document is not valid UTF-8")
        }
        guard let first = firstNonBlank(content) else { throw ConfigError(.invalid, "the document is empty") }
        if first == UInt8(ascii: "{") || first == UInt8(ascii: "["),
           (try? JSONSerialization.jsonObject(with: Data(content), options: [.fragmentsAllowed])) != nil {
            return (text, .json)
        }
        do {
            _ = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw syntaxError(error)
        } catch {
            throw ConfigError(.invalid, "not YAML or JSON: \(error)")
        }
        return (text, .yaml)
    }

    /// `sha256:` and the 64 lowercase hex digits of the SHA-256 of `content`.
    static func hash(_ content: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = Array("sha256:".utf8)
        out.reserveCapacity(7 + 64)
        for byte in SHA256.hash(data: content) {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The first byte that is not a space, tab, CR, LF or part of a UTF-8 byte order mark.
    private static func firstNonBlank(_ content: [UInt8]) -> UInt8? {
        var i = content.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        while i < content.count {
            switch content[i] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"): i += 1
            default: return content[i]
            }
        }
        return nil
    }

    private static func syntaxError(_ error: YamlError) -> ConfigError {
        guard let (line, problem) = TextRules.locate(error) else { return ConfigError(.invalid, "not YAML or JSON: \(error)") }
        return ConfigError(.invalid, "line \(line): \(problem)", line: line)
    }
}
