import Foundation
import Settings
import Testing

@testable import Agent

/// docs/agent.md shows the table the settings make.
@Suite struct AgentDocumentationTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func docsAgentTableIsTheGeneratedOne() throws {
        let text = try String(contentsOf: Self.repository.appending(path: "docs/agent.md"), encoding: .utf8)
        let begin = "<!-- BEGIN generated settings: hypha agent --settings-markdown -->\n"
        let start = try #require(text.range(of: begin), "docs/agent.md marks where the generated table begins")
        let stop = try #require(text.range(of: "<!-- END generated settings -->", range: start.upperBound ..< text.endIndex))
        let documented = String(text[start.upperBound ..< stop.lowerBound])
        let generated = AgentConfiguration.settings.markdown(defaults: AgentConfiguration())
        #expect(documented == generated, "regenerate docs/agent.md's table with `hypha agent --settings-markdown`")
    }
}
