import Logging
import Settings
import Testing
import Wire

@testable import Agent

@Suite struct AgentPartsTests {
    @Test func backOffDoublesWithJitterUpToTheMaximumAndResets() {
        var backoff = Backoff(minimum: .milliseconds(100), maximum: .seconds(2))
        var generator = SystemRandomNumberGenerator()
        var delays: [Duration] = []
        for _ in 0 ..< 8 { delays.append(backoff.next(using: &generator)) }
        for (failures, delay) in delays.enumerated() {
            let ceiling = backoff.ceiling(after: failures)
            #expect(delay <= ceiling && delay >= ceiling / 2, "delay \(delay) after \(failures) failures, ceiling \(ceiling)")
        }
        #expect(backoff.ceiling(after: 7) == .seconds(2))
        backoff.reset()
        #expect(backoff.next(using: &generator) <= .milliseconds(100))
    }

    @Test func serverAddressesAreHostAndPort() throws {
        #expect(ServerAddress("127.0.0.1:7400") == ServerAddress("127.0.0.1:7400"))
        #expect(ServerAddress("[::1]:7400")?.host == "::1")
        #expect(ServerAddress("[::1]:7400")?.description == "[::1]:7400")
        #expect(ServerAddress("node") == nil)
        #expect(ServerAddress("node:0") == nil)
        #expect(ServerAddress("node:http") == nil)
        var configuration = AgentConfiguration()
        #expect(throws: AgentError.self) { try configuration.serverAddresses() }
        configuration.servers = ["a:1", "b:2"]
        #expect(try configuration.serverAddresses().map(\.port) == [1, 2])
        configuration.labels = ["env=prod", "bad"]
        #expect(throws: AgentError.self) { try configuration.labelMap() }
    }

    @Test func settingsReadTheQuickStartAsTheIssueWritesIt() throws {
        var configuration = AgentConfiguration()
        try AgentConfiguration.settings.apply(
            arguments: ["--server", "n1:7400", "--server", "n2:7400", "--tail", "/var/log/*.log", "--journald", "--hostmetrics", "10s"],
            to: &configuration)
        #expect(configuration.servers == ["n1:7400", "n2:7400"])
        #expect(configuration.journald)
        #expect(configuration.hostmetrics == .seconds(10))
        let specs = InputSpec.quickStart(configuration, agentID: "web-1")
        #expect(specs.map(\.kind) == ["tail", "journald", "hostmetrics"])
        #expect(specs.allSatisfy { $0.producerID & TaskProducerID.taskBit == 0 && $0.producerID != 0 })
        #expect(Set(specs.map(\.producerID)).count == 3)
        #expect(InputSpec.quickStart(configuration, agentID: "web-1") == specs)
    }

    @Test func pushedDocumentsTakeOnlyTheirKeys() throws {
        var configuration = AgentConfiguration()
        try AppliedConfigs.settings.apply(yaml: "batch_kib: 64\nlabels: [tier=web]\n", to: &configuration)
        #expect(configuration.batchBytes == 64 << 10)
        #expect(throws: (any Error).self) { try AppliedConfigs.settings.apply(yaml: "servers: [x:1]\n", to: &configuration) }
    }

    @Test func logLinesAreLogfmtOrJSON() {
        let line = AgentLogHandler.logfmt(
            time: "2026-12-02T14:00:00Z", level: .info, message: "node: session open", fields: ["server": "127.0.0.1:7400", "why": "a \"b\""])
        #expect(line == #"ts=2026-12-02T14:00:00Z level=info msg="node: session open" server=127.0.0.1:7400 why="a \"b\"""#)
        let json = AgentLogHandler.json(time: "t", level: .error, message: "x\ny", fields: ["k": "v"])
        #expect(json == #"{"ts":"t","level":"error","msg":"x\ny","k":"v"}"#)
    }
}
