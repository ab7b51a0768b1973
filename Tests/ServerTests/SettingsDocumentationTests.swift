import Foundation
import Server
import Settings
import Testing

/// The documentation says what the settings table says.
@Suite struct SettingsDocumentationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let begin = "<!-- BEGIN generated settings: hypha serve --settings-markdown -->\n"
    static let end = "<!-- END generated settings -->"

    @Test func docsAPITableIsTheGeneratedOne() throws {
        let text = try String(contentsOf: Self.repository.appending(path: "docs/api.md"), encoding: .utf8)
        let start = try #require(text.range(of: Self.begin), "docs/api.md marks where the generated table begins")
        let stop = try #require(text.range(of: Self.end, range: start.upperBound ..< text.endIndex), "… and where it ends")
        let documented = String(text[start.upperBound ..< stop.lowerBound])
        let generated = ServeConfiguration.settings.markdown(defaults: ServeConfiguration())
        let differences = zip(documented.split(separator: "\n"), generated.split(separator: "\n")).filter { $0 != $1 }
        #expect(
            documented == generated,
            """
            docs/api.md's settings table differs from the table (regenerate it with `hypha serve --settings-markdown`); \
            first differing lines (documented, generated): \(differences.prefix(3))
            """)
    }

    @Test func readmeConfigurationExampleIsAValidFile() throws {
        let text = try String(contentsOf: Self.repository.appending(path: "README.md"), encoding: .utf8)
        let blocks = text.components(separatedBy: "```yaml\n").dropFirst().map { $0.components(separatedBy: "```").first ?? "" }
        #expect(!blocks.isEmpty, "README.md has a YAML configuration example")
        for block in blocks {
            var configuration = ServeConfiguration()
            var problem: String?
            do throws(SettingsError) {
                try ServeConfiguration.settings.apply(yaml: block, to: &configuration)
            } catch {
                problem = error.message
            }
            #expect(problem == nil, "README's example is refused: \(problem ?? "")\n\(block)")
        }
    }
}
