@testable import Control
import Platform
import WAL
import Wire
import Testing

/// All-at-once pushes, selectors, HELLO, reports, forgetting and the bounds.
@Suite struct ConfigBookTests {
    static let prod = DaemonSelector(labels: ["env": "prod"])

    @Test func aVersionGoesToEveryMatchingOnlineDaemonAtOnce() throws {
        var book = ConfigBook()
        let online = CT.daemons(["p2", "p1"], labels: ["env": "prod"]) + CT.daemons(["d1"], labels: ["env": "dev"])
            + [DaemonCandidate(id: "p3", labels: ["env": "prod", "rack": "r1"], region: "eu")]
        let u = try book.put(name: "agent", content: CT.bytes("level: info"), selector: Self.prod, rollout: nil, comment: "", online: online, now: TestTime.at(0))
        #expect(CT.pushes(u.commands) == ["p1:1", "p2:1", "p3:1"], "sorted by id, dev not selected")
        #expect(u.rollout == nil)
        #expect(book.daemonStates("p1") == [DaemonConfigState(name: "agent", version: 1, hash: u.document.hash, state: .pushed, message: "", at: TestTime.at(0))])
        #expect(book.daemonStates("d1").isEmpty)
        let eu = try book.put(
            name: "eu", content: CT.bytes("a: 1"), selector: DaemonSelector(labels: ["env": "prod"], region: "eu"), rollout: nil, comment: "",
            online: online, now: TestTime.at(1))
        #expect(CT.pushes(eu.commands) == ["p3:1"], "region must match too")
        let all = try book.put(name: "all", content: CT.bytes("a: 1"), selector: DaemonSelector(), rollout: nil, comment: "", online: online + online, now: TestTime.at(2))
        #expect(CT.pushes(all.commands) == ["d1:1", "p1:1", "p2:1", "p3:1"], "the empty selector takes everyone, once")
    }

    @Test func aDaemonConnectingLaterGetsTheCurrentVersionsAtHello() throws {
        var book = ConfigBook()
        _ = try book.put(name: "b", content: CT.bytes("a: 1"), selector: Self.prod, rollout: nil, comment: "", online: [], now: TestTime.at(0))
        _ = try book.put(name: "b", content: CT.bytes("a: 2"), selector: Self.prod, rollout: nil, comment: "", online: [], now: TestTime.at(1))
        _ = try book.put(name: "a", content: CT.bytes("x: 1"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: TestTime.at(2))
        _ = try book.put(name: "c", content: CT.bytes("x: 1"), selector: DaemonSelector(labels: ["env": "dev"]), rollout: nil, comment: "", online: [], now: TestTime.at(3))
        let hello = book.daemonOnline(DaemonCandidate(id: "p1", labels: ["env": "prod"]), now: TestTime.at(10))
        #expect(CT.pushes(hello) == ["p1:1", "p1:2"], "a v1 and b v2, by name; not c")
        if case .push(_, let p) = hello[1] { #expect(p.name == "b" && p.content == CT.bytes("a: 2")) }
        #expect(book.daemonStates("p1").map(\.name) == ["a", "b"])
        #expect(book.isOnline("p1"))
        book.daemonOffline("p1", now: TestTime.at(11))
        #expect(!book.isOnline("p1"))
        let next = try book.put(name: "a", content: CT.bytes("x: 2"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: TestTime.at(12))
        #expect(next.commands.isEmpty, "offline daemons are pushed at their next hello")
        #expect(CT.pushes(book.daemonOnline(DaemonCandidate(id: "p1", labels: ["env": "prod"]), now: TestTime.at(13))) == ["p1:2", "p1:2"])
    }

    @Test func reportsAreRecordedPerDaemonAndName() throws {
        var book = ConfigBook()
        let u = try book.put(name: "a", content: CT.bytes("x: 1"), selector: DaemonSelector(), rollout: nil, comment: "", online: CT.daemons(["d1", "d2"]), now: TestTime.at(0))
        let doc = u.document
        #expect(book.report(ConfigStatus(name: "a", version: 1, hash: doc.hash, state: .applying), from: "d1", now: TestTime.at(1)).isEmpty)
        #expect(book.report(CT.applied(doc), from: "d1", now: TestTime.at(2)).isEmpty)
        #expect(book.report(CT.failed(doc, "port 80 in use"), from: "d2", now: TestTime.at(3)).isEmpty, "no rollout: nothing to do")
        #expect(book.daemonStates("d1") == [DaemonConfigState(name: "a", version: 1, hash: doc.hash, state: .applied, message: "", at: TestTime.at(2))])
        let byDaemon = book.daemonStates(forName: "a")
        #expect(byDaemon.keys.sorted() == ["d1", "d2"])
        #expect(byDaemon["d2"]?.state == .failed && byDaemon["d2"]?.message == "port 80 in use")
        #expect(book.current("a")?.version == 1, "an all-at-once version is good once pushed, failures or not")
        book.forget("d2")
        #expect(book.daemonStates("d2").isEmpty)
        #expect(book.daemonStates(forName: "a").keys.sorted() == ["d1"])
        #expect(!book.isOnline("d2"))
    }

    @Test func versionsPerNameAreBoundedButTheCurrentOneStays() throws {
        var book = ConfigBook(maxVersions: 3)
        for i in 1 ... 5 {
            _ = try book.put(name: "a", content: CT.bytes("x: \(i)"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: TestTime.at(Double(i)))
        }
        #expect(book.history("a")?.map(\.version) == [3, 4, 5])
        let changes = book.takeChanges()
        #expect(changes.removedDocuments.map { "\($0.name):\($0.version)" } == ["a:1", "a:2"])
        #expect(changes.documents.map(\.version) == [3, 4, 5], "dropped versions are not written")
        #expect(book.takeChanges().isEmpty)
        // A rollout that halts (no daemon) still keeps version 5 current while 6, 7, 8 come.
        var b2 = ConfigBook(maxVersions: 2)
        _ = try b2.put(name: "a", content: CT.bytes("x: 1"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: 0)
        for i in 2 ... 4 {
            let u = try b2.put(name: "a", content: CT.bytes("x: \(i)"), selector: DaemonSelector(), rollout: RolloutStrategy(), comment: "",
                               online: CT.daemons(["d"]), now: TestTime.at(Double(i)))
            let r = try #require(u.rollout)
            _ = try b2.abort(r.id, now: TestTime.at(Double(i)))
        }
        #expect(b2.history("a")?.map(\.version) == [1, 4], "the current version 1 and the newest stay")
        #expect(b2.current("a")?.version == 1)
    }

    @Test func namesAreBounded() throws {
        var book = ConfigBook(maxDocuments: 2)
        _ = try book.put(name: "a", content: CT.bytes("x: 1"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: 0)
        _ = try book.put(name: "b", content: CT.bytes("x: 1"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: 0)
        #expect(throws: ConfigError.self) {
            try book.put(name: "c", content: CT.bytes("x: 1"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: 0)
        }
        do {
            _ = try book.put(name: "c", content: CT.bytes("x: 1"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: 0)
        } catch {
            #expect(error.kind == .limit)
        }
        #expect(try book.put(name: "a", content: CT.bytes("x: 2"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: 0).document.version == 2,
                "existing names take new versions")
    }

    @Test func finishedRolloutsAreBounded() throws {
        var book = ConfigBook()
        let n = ConfigBook.keptFinishedRollouts + 5
        for i in 1 ... n {
            // No daemon selected: each rollout succeeds at once.
            _ = try book.put(name: "a", content: CT.bytes("x: \(i)"), selector: DaemonSelector(), rollout: RolloutStrategy(), comment: "", online: [], now: TestTime.at(Double(i)))
        }
        // One more, active, with a daemon.
        _ = try book.put(name: "b", content: CT.bytes("x: 1"), selector: DaemonSelector(), rollout: RolloutStrategy(), comment: "", online: CT.daemons(["d"]), now: TestTime.at(500))
        #expect(book.rollouts.count == ConfigBook.keptFinishedRollouts + 1)
        #expect(book.rollouts.first?.id == "r-6", "the oldest five went")
        #expect(book.rollouts.last?.state == .running)
        let changes = book.takeChanges()
        #expect(changes.removedRollouts == ["r-1", "r-2", "r-3", "r-4", "r-5"])
        #expect(!changes.rollouts.contains { $0.id == "r-1" })
        #expect(book.rollout("r-1") == nil)
    }
}
