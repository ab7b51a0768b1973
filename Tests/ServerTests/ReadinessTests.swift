@testable import Server
import Synchronization
import Testing

@Suite struct ReadinessTests {
    @Test func announcesOnceWhenEveryExpectedListenerHasReported() {
        let announced = Mutex<[[String: String]]>([])
        let readiness = Readiness(expecting: ["native", "http"]) { addresses in announced.withLock { $0.append(addresses) } }
        readiness.report(["native": "127.0.0.1:7400"])
        #expect(announced.withLock { $0.isEmpty }, "not ready while http is missing")
        readiness.report(["http": "127.0.0.1:7401"])
        readiness.report(["http": "127.0.0.1:7401"])
        let calls = announced.withLock { $0 }
        #expect(calls == [["native": "127.0.0.1:7400", "http": "127.0.0.1:7401"]], "announced exactly once with both: \(calls)")
    }
}
