@testable import Control
import Platform
import WAL
import Wire
import Testing

/// A book with version 1 of "a" pushed to some daemons, plus their health, driven by test time.
struct RolloutFleet {
    var book = ConfigBook()
    var health: [String: HealthState] = [:]
    var v1: ConfigDocument?

    /// Version 1 of "a" all at once to `ids` (all Healthy) when `withGood`, else just the daemons online.
    init(_ ids: [String], withGood: Bool = true) throws {
        for id in ids { health[id] = .healthy }
        if withGood {
            v1 = try book.put(name: "a", content: CT.bytes("v: 1"), selector: DaemonSelector(), rollout: nil, comment: "", online: CT.daemons(ids), now: TestTime.at(0)).document
        } else {
            for id in ids { _ = book.daemonOnline(DaemonCandidate(id: id), now: TestTime.at(0)) }
        }
    }

    /// PUTs `content` as a rollout to every online daemon.
    mutating func roll(_ strategy: RolloutStrategy, content: String = "v: 2", at seconds: Double = 100) throws -> (ConfigDocument, Rollout, [String]) {
        let online = health.keys.filter { book.isOnline($0) }.map { DaemonCandidate(id: $0) }
        let u = try book.put(name: "a", content: CT.bytes(content), selector: DaemonSelector(), rollout: strategy, comment: "", online: online, now: TestTime.at(seconds))
        return (u.document, try #require(u.rollout), CT.pushes(u.commands))
    }

    mutating func tick(_ seconds: Double) -> [String] {
        let h = health
        return CT.pushes(book.tick(now: TestTime.at(seconds), health: { h[$0] }))
    }

    mutating func apply(_ doc: ConfigDocument, _ ids: [String], at seconds: Double) -> [String] {
        ids.flatMap { CT.pushes(book.report(CT.applied(doc), from: $0, now: TestTime.at(seconds))) }
    }

    func rollout(_ id: String) -> Rollout? { book.rollout(id) }

    /// "id:state" of each daemon of the rollout.
    func states(_ id: String) -> [String] { (book.rollout(id)?.daemons ?? []).map { "\($0.id):\($0.state.rawValue)" } }
}

/// Batches, gates, timeouts, thresholds, rollbacks, pause/resume/abort, offline daemons, restore.
@Suite struct RolloutTests {
    static let five = ["d1", "d2", "d3", "d4", "d5"]

    @Test func aRolloutGoesBatchByBatchAfterEachGate() throws {
        var f = try RolloutFleet(Self.five)
        let (v2, r, first) = try f.roll(RolloutStrategy(batchSize: 2, gateSeconds: 10))
        #expect(first == ["d1:2", "d2:2"], "the first batch is pushed at once")
        #expect(r.batchCount == 3 && r.currentBatch == 0 && r.id == "r-1" && r.fromVersion == 1 && r.toVersion == 2)
        #expect(f.states(r.id) == ["d1:applying", "d2:applying", "d3:waiting", "d4:waiting", "d5:waiting"])
        #expect(f.book.current("a")?.version == 1, "daemons connecting now still get version 1")
        #expect(f.book.history("a")?.map(\.status) == [.current, .rollingOut])

        #expect(f.apply(v2, ["d1", "d2"], at: 101) == [])
        #expect(f.tick(101) == [], "the gate starts at the first Healthy tick")
        #expect(f.rollout(r.id)?.daemons[0].healthySince == TestTime.at(101))
        #expect(f.tick(110.9) == [], "9.9 s of 10")
        // A daemon that connects mid-rollout and is not in a started batch gets the last known good.
        f.health["late"] = .healthy
        #expect(CT.pushes(f.book.daemonOnline(DaemonCandidate(id: "late"), now: TestTime.at(105))) == ["late:1"])
        #expect(CT.pushes(f.book.daemonOnline(DaemonCandidate(id: "d1"), now: TestTime.at(106))) == ["d1:2"], "a started daemon gets the new one again")
        #expect(CT.pushes(f.book.daemonOnline(DaemonCandidate(id: "d5"), now: TestTime.at(106))) == ["d5:1"], "a waiting daemon gets the old one")
        #expect(f.tick(111) == ["d3:2", "d4:2"], "batch 1 starts once batch 0 passed its gate")
        #expect(f.rollout(r.id)?.currentBatch == 1)
        #expect(f.states(r.id) == ["d1:gated", "d2:gated", "d3:applying", "d4:applying", "d5:waiting"])

        #expect(f.apply(v2, ["d3", "d4"], at: 112) == [])
        #expect(f.tick(112) == [])
        #expect(f.tick(122) == ["d5:2"])
        #expect(f.apply(v2, ["d5"], at: 123) == [])
        #expect(f.tick(123) == [])
        #expect(f.tick(133) == ["late:2"], "on success the daemons outside the rollout get the new version")
        let done = try #require(f.rollout(r.id))
        #expect(done.state == .succeeded && done.currentBatch == 3 && done.reason == "every batch passed")
        #expect(done.updatedAt == TestTime.at(133))
        #expect(f.book.current("a")?.version == 2)
        #expect(f.book.lastKnownGood("a")?.version == 2)
        #expect(f.book.history("a")?.map(\.status) == [.superseded, .current])
        #expect(f.book.activeRollout(of: "a") == nil)
        #expect(CT.pushes(f.book.daemonOnline(DaemonCandidate(id: "new"), now: TestTime.at(140))) == ["new:2"])
        #expect(f.tick(200) == [], "a finished rollout does nothing")
    }

    @Test func batchPercentRoundsUp() throws {
        let ids = (0 ..< 10).map { "d\($0)" }
        var f = try RolloutFleet(ids)
        let (v2, r, first) = try f.roll(RolloutStrategy(batchPercent: 25, gateSeconds: 0))
        #expect(r.batchCount == 4, "3 + 3 + 3 + 1")
        #expect(first == ["d0:2", "d1:2", "d2:2"])
        _ = f.apply(v2, ["d0", "d1", "d2"], at: 101)
        #expect(f.tick(101) == ["d3:2", "d4:2", "d5:2"], "a 0 s gate passes at the first Healthy tick")
        _ = f.apply(v2, ["d3", "d4", "d5"], at: 102)
        #expect(f.tick(102) == ["d6:2", "d7:2", "d8:2"])
        _ = f.apply(v2, ["d6", "d7", "d8"], at: 103)
        #expect(f.tick(103) == ["d9:2"])
        _ = f.apply(v2, ["d9"], at: 104)
        #expect(f.tick(104) == [])
        #expect(f.rollout(r.id)?.state == .succeeded)
        #expect(f.rollout(r.id)?.daemons.map(\.batch) == [0, 0, 0, 1, 1, 1, 2, 2, 2, 3])
    }

    @Test func noDaemonAndNoBatchOptionMeanOneBatch() throws {
        var f = try RolloutFleet(Self.five)
        let (_, r, first) = try f.roll(RolloutStrategy(gateSeconds: 0))
        #expect(r.batchCount == 1 && first.count == 5)
        var empty = ConfigBook()
        let u = try empty.put(name: "a", content: CT.bytes("x: 1"), selector: DaemonSelector(), rollout: RolloutStrategy(), comment: "", online: [], now: 0)
        #expect(u.rollout?.state == .succeeded && u.rollout?.batchCount == 0, "nobody selected: done at once")
        #expect(empty.current("a")?.version == 1)
    }

    @Test func theGateWaitsForHealthyThenFailsOnAnyLapse() throws {
        var f = try RolloutFleet(Self.five)
        let (v2, r, _) = try f.roll(RolloutStrategy(batchSize: 2, gateSeconds: 10, applyTimeoutSeconds: 60))
        f.health["d1"] = .degraded
        _ = f.apply(v2, ["d1", "d2"], at: 101)
        #expect(f.tick(101) == [] && f.tick(105) == [])
        #expect(f.rollout(r.id)?.daemons[0].state == .applied, "Degraded right after applying: the gate has not started, no failure")
        #expect(f.rollout(r.id)?.daemons[0].healthySince == nil)
        f.health["d1"] = .healthy
        #expect(f.tick(106) == [])
        #expect(f.rollout(r.id)?.daemons[0].healthySince == TestTime.at(106), "the gate starts (over) at the first Healthy tick")
        #expect(f.tick(111) == [], "d2 passed at 111, d1 needs until 116")
        #expect(f.states(r.id).prefix(2) == ["d1:applied", "d2:gated"])
        f.health["d1"] = .degraded
        let rollback = f.tick(112)
        #expect(f.rollout(r.id)?.daemons[0].message == "degraded during its health gate; rolled back to version 1", "the failure stays visible")
        #expect(rollback == ["d1:1", "d2:1"], "not Healthy during its gate: failed, and 0% allowed: both pushed daemons go back to version 1")
        #expect(f.rollout(r.id)?.state == .rolledBack)
        #expect(f.states(r.id) == ["d1:rolled_back", "d2:rolled_back", "d3:waiting", "d4:waiting", "d5:waiting"])
    }

    @Test func unknownHealthCountsAsNotHealthy() throws {
        var f = try RolloutFleet(["d1"])
        let (v2, r, _) = try f.roll(RolloutStrategy(gateSeconds: 10, applyTimeoutSeconds: 30))
        f.health["d1"] = nil
        _ = f.apply(v2, ["d1"], at: 101)
        #expect(f.tick(129) == [])
        #expect(f.tick(130) == ["d1:1"], "applied, never Healthy by the deadline (push + 30 s)")
        #expect(f.rollout(r.id)?.daemons[0].state == .rolledBack)
        #expect(f.book.rollout(r.id)?.reason == "1 of 1 daemons failed (100%), over the 0% allowed: rolled back to version 1")
    }

    @Test func aDaemonThatDoesNotApplyInTimeFailsAndTheRolloutRollsBack() throws {
        var f = try RolloutFleet(Self.five)
        let (v2, r, _) = try f.roll(RolloutStrategy(batchSize: 2, gateSeconds: 5, applyTimeoutSeconds: 30))
        _ = f.apply(v2, ["d1"], at: 101)
        #expect(f.tick(101) == [] && f.tick(106) == [])
        #expect(f.tick(129.9) == [])
        #expect(f.states(r.id).prefix(2) == ["d1:gated", "d2:applying"])
        let rollback = f.tick(130)
        #expect(rollback == ["d1:1", "d2:1"], "the failed daemon is rolled back too")
        let done = try #require(f.rollout(r.id))
        #expect(done.state == .rolledBack)
        #expect(done.reason == "1 of 5 daemons failed (20%), over the 0% allowed: rolled back to version 1")
        #expect(done.daemons[1].message == "not applied within 30 s; rolled back to version 1")
        #expect(f.book.history("a")?.map(\.status) == [.current, .rolledBack])
        #expect(f.book.current("a")?.version == 1)
        #expect(CT.pushes(f.book.daemonOnline(DaemonCandidate(id: "d1"), now: TestTime.at(131))) == ["d1:1"])
        #expect(f.book.daemonStates("d2").first?.version == 1, "the rollback push is recorded")
        // The same content again is a retry: a new version.
        let retry = try f.roll(RolloutStrategy(), at: 140)
        #expect(retry.0.version == 3 && retry.1.id == "r-2" && retry.1.fromVersion == 1)
    }

    @Test func failuresWithinTheThresholdAreToleratedUntilPassed() throws {
        let ids = (1 ... 10).map { $0 < 10 ? "d0\($0)" : "d\($0)" }
        var f = try RolloutFleet(ids)
        let (v2, r, _) = try f.roll(RolloutStrategy(batchSize: 5, gateSeconds: 0, maxFailurePercent: 20))
        #expect(CT.pushes(f.book.report(CT.failed(v2), from: "d01", now: TestTime.at(101))) == [], "10% ≤ 20%")
        _ = f.apply(v2, ["d02", "d03", "d04", "d05"], at: 101)
        #expect(f.tick(102) == ["d06:2", "d07:2", "d08:2", "d09:2", "d10:2"], "a batch with tolerated failures is done")
        #expect(f.book.report(CT.failed(v2), from: "d06", now: TestTime.at(103)) == [], "20% is allowed")
        let wrong = ConfigStatus(name: "a", version: 2, hash: "sha256:" + String(repeating: "0", count: 64), state: .applied)
        let rollback = CT.pushes(f.book.report(wrong, from: "d07", now: TestTime.at(104)))
        #expect(rollback == ids.map { "\($0):1" }, "30% > 20%: every pushed daemon, failed ones too, goes back at once")
        let done = try #require(f.rollout(r.id))
        #expect(done.state == .rolledBack)
        #expect(done.daemons[6].message.hasPrefix("reported hash sha256:0000"), "\(done.daemons[6].message)")
        #expect(done.daemons[6].message.hasSuffix("; rolled back to version 1"))
        #expect(done.daemons[0].message == "reported failed: bad input; rolled back to version 1")
        #expect(done.daemons[1].message == "rolled back to version 1")
        #expect(done.reason.hasPrefix("3 of 10 daemons failed (30%), over the 20% allowed"))
        #expect(f.book.daemonStates("d01").first?.state == .pushed, "the rollback push replaced the failed report")
    }

    @Test func aWrongHashFailsTheDaemon() throws {
        var f = try RolloutFleet(["d1", "d2"])
        let (_, r, _) = try f.roll(RolloutStrategy(gateSeconds: 0, maxFailurePercent: 50))
        let wrong = ConfigStatus(name: "a", version: 2, hash: "sha256:bad", state: .applied)
        #expect(f.book.report(wrong, from: "d1", now: TestTime.at(101)) == [])
        #expect(f.rollout(r.id)?.daemons[0].state == .failed)
        #expect(f.rollout(r.id)?.daemons[0].message.hasPrefix("reported hash sha256:bad for version 2, expected sha256:") == true)
        // A report about another version is only recorded.
        #expect(f.book.report(CT.applied(try #require(f.v1)), from: "d2", now: TestTime.at(102)) == [])
        #expect(f.rollout(r.id)?.daemons[1].state == .applying)
        #expect(f.book.daemonStates("d2").first?.version == 1)
    }

    @Test func withoutALastKnownGoodVersionTheRolloutHaltsAndPushesNothing() throws {
        var f = try RolloutFleet(["d1", "d2", "d3"], withGood: false)
        let (v1, r, first) = try f.roll(RolloutStrategy(batchSize: 2), content: "v: 1")
        #expect(v1.version == 1 && r.fromVersion == nil && first == ["d1:1", "d2:1"])
        #expect(CT.pushes(f.book.daemonOnline(DaemonCandidate(id: "d3"), now: TestTime.at(100))) == [], "nothing good to give a waiting daemon")
        #expect(CT.pushes(f.book.report(CT.failed(v1), from: "d1", now: TestTime.at(101))) == [], "nothing to roll back to")
        let done = try #require(f.rollout(r.id))
        #expect(done.state == .rolledBack)
        #expect(done.reason == "1 of 3 daemons failed (33.3%), over the 0% allowed; no earlier good version of 'a' to roll back to: nothing was pushed, 2 daemons keep version 1")
        #expect(f.book.history("a")?.map(\.status) == [.halted])
        #expect(f.book.current("a") == nil)
        #expect(CT.pushes(f.book.daemonOnline(DaemonCandidate(id: "d2"), now: TestTime.at(102))) == [])
        #expect(f.states(r.id) == ["d1:failed", "d2:applying", "d3:waiting"])
    }

    @Test func pauseHoldsTheNextBatchResumeGoesOn() throws {
        var f = try RolloutFleet(["d1", "d2", "d3"])
        let (v2, r, _) = try f.roll(RolloutStrategy(batchSize: 1, gateSeconds: 0))
        try f.book.pause(r.id, now: TestTime.at(100.5))
        try f.book.pause(r.id, now: TestTime.at(100.6))
        #expect(f.rollout(r.id)?.state == .paused && f.rollout(r.id)?.reason == "paused at batch 1 of 3")
        _ = f.apply(v2, ["d1"], at: 101)
        #expect(f.tick(101) == [], "no batch starts while paused")
        #expect(f.states(r.id) == ["d1:gated", "d2:waiting", "d3:waiting"], "the running batch is still evaluated")
        #expect(try f.book.resume(r.id, now: TestTime.at(102)).map { CT.pushes([$0]) } == [["d2:2"]])
        #expect(try f.book.resume(r.id, now: TestTime.at(102)).isEmpty, "resuming a running rollout does nothing")
        try f.book.pause(r.id, now: TestTime.at(103))
        let rollback = CT.pushes(f.book.report(CT.failed(v2), from: "d2", now: TestTime.at(104)))
        #expect(rollback == ["d1:1", "d2:1"], "failures count while paused")
        #expect(f.rollout(r.id)?.state == .rolledBack)
        #expect(throws: ConfigError(.conflict, "rollout r-1 is rolled_back")) { try f.book.pause(r.id, now: TestTime.at(105)) }
        #expect(throws: ConfigError(.notFound, "no rollout r-9")) { try f.book.resume("r-9", now: TestTime.at(105)) }
    }

    @Test func aPausedRolloutDoesNotFinishUntilResumed() throws {
        var f = try RolloutFleet(["d1"])
        f.health["late"] = .healthy
        _ = f.book.daemonOnline(DaemonCandidate(id: "late"), now: TestTime.at(50))
        let (v2, r, _) = try f.roll(RolloutStrategy(gateSeconds: 0))
        #expect(r.daemons.map(\.id) == ["d1", "late"])
        try f.book.pause(r.id, now: TestTime.at(100))
        _ = f.apply(v2, ["d1", "late"], at: 101)
        #expect(f.tick(101) == [])
        #expect(f.rollout(r.id)?.state == .paused)
        #expect(try f.book.resume(r.id, now: TestTime.at(102)).isEmpty, "everyone already has it")
        #expect(f.rollout(r.id)?.state == .succeeded)
    }

    @Test func abortRollsBackEveryDaemonThatGotTheVersion() throws {
        var f = try RolloutFleet(["d1", "d2", "d3", "d4"])
        let (v2, r, _) = try f.roll(RolloutStrategy(batchSize: 2))
        _ = f.apply(v2, ["d1"], at: 101)
        #expect(CT.pushes(try f.book.abort(r.id, now: TestTime.at(102))) == ["d1:1", "d2:1"])
        let done = try #require(f.rollout(r.id))
        #expect(done.state == .aborted && done.reason == "aborted: rolled back to version 1" && done.updatedAt == TestTime.at(102))
        #expect(f.states(r.id) == ["d1:rolled_back", "d2:rolled_back", "d3:waiting", "d4:waiting"])
        #expect(f.book.history("a")?.map(\.status) == [.current, .rolledBack])
        #expect(throws: ConfigError.self) { try f.book.abort(r.id, now: TestTime.at(103)) }
        #expect(throws: ConfigError.self) { try f.book.resume(r.id, now: TestTime.at(103)) }
        #expect(f.tick(200) == [])
    }

    @Test func aPutDuringARolloutConflictsUnlessItIsTheSame() throws {
        var f = try RolloutFleet(["d1"])
        let (v2, r, _) = try f.roll(RolloutStrategy())
        #expect(throws: ConfigError(.conflict, "rollout r-1 of 'a' (version 2) is running; abort it or wait for it to finish")) {
            try f.book.put(name: "a", content: CT.bytes("v: 3"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: TestTime.at(101))
        }
        let same = try f.book.put(name: "a", content: CT.bytes("v: 2"), selector: DaemonSelector(), rollout: RolloutStrategy(), comment: "", online: [], now: TestTime.at(101))
        #expect(same.unchanged && same.document.version == 2 && same.rollout?.id == r.id && same.commands.isEmpty)
        try f.book.pause(r.id, now: TestTime.at(102))
        #expect(throws: ConfigError.self) {
            try f.book.put(name: "a", content: CT.bytes("v: 3"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: TestTime.at(103))
        }
        #expect(try f.book.put(name: "b", content: CT.bytes("v: 3"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: TestTime.at(103)).document.version == 1,
                "other names are free")
        _ = try f.book.abort(r.id, now: TestTime.at(104))
        #expect(try f.book.put(name: "a", content: CT.bytes("v: 3"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: TestTime.at(105)).document.version == 3)
        _ = v2
    }

    @Test func offlineDaemonsAreSkippedWhenTheirBatchStartsAndTimeOutOnceStarted() throws {
        var f = try RolloutFleet(["d1", "d2", "d3", "d4"])
        let (v2, r, _) = try f.roll(RolloutStrategy(batchSize: 1, gateSeconds: 0, maxFailurePercent: 30, applyTimeoutSeconds: 20))
        f.book.daemonOffline("d2", now: TestTime.at(100))
        _ = f.apply(v2, ["d1"], at: 101)
        #expect(f.tick(101) == ["d3:2"], "d2 is offline when batch 1 starts: skipped, batch 2 starts at once")
        #expect(f.rollout(r.id)?.daemons[1].state == .skipped)
        #expect(f.rollout(r.id)?.daemons[1].message == "offline when its batch started")
        // d3 drops after the push and comes back: it is pushed the new version again, same deadline.
        f.book.daemonOffline("d3", now: TestTime.at(102))
        #expect(CT.pushes(f.book.daemonOnline(DaemonCandidate(id: "d3"), now: TestTime.at(110))) == ["d3:2"])
        #expect(f.rollout(r.id)?.daemons[2].deadline == TestTime.at(121))
        f.book.daemonOffline("d3", now: TestTime.at(111))
        #expect(f.tick(121) == ["d4:2"], "d3 timed out (25% ≤ 30%) and batch 3 starts")
        #expect(f.rollout(r.id)?.daemons[2].state == .failed)
        _ = f.apply(v2, ["d4"], at: 122)
        #expect(f.tick(122) == [], "d2 is offline, so nobody else gets it now")
        #expect(f.rollout(r.id)?.state == .succeeded)
        #expect(f.rollout(r.id)?.reason == "every batch passed with 1 of 4 daemons failed")
        #expect(CT.pushes(f.book.daemonOnline(DaemonCandidate(id: "d2"), now: TestTime.at(130))) == ["d2:2"], "the skipped daemon gets the new current one")
    }

    @Test func anAppliedDaemonThatGoesOfflineFailsItsGate() throws {
        var f = try RolloutFleet(["d1", "d2"])
        let (v2, r, _) = try f.roll(RolloutStrategy(gateSeconds: 10, applyTimeoutSeconds: 30))
        _ = f.apply(v2, ["d1", "d2"], at: 101)
        #expect(f.tick(101) == [])
        f.book.daemonOffline("d2", now: TestTime.at(102))
        f.health["d2"] = .offline
        #expect(f.tick(103) == ["d1:1"], "offline during its gate: failed; only the online daemon is pushed now")
        #expect(f.rollout(r.id)?.daemons[1].message == "offline during its health gate; offline: gets version 1 when it connects")
        #expect(CT.pushes(f.book.daemonOnline(DaemonCandidate(id: "d2"), now: TestTime.at(104))) == ["d2:1"])
    }

    @Test func aRestoredBookContinuesTheRolloutWhereItWas() throws {
        var f = try RolloutFleet(Self.five)
        let (v2, r, _) = try f.roll(RolloutStrategy(batchSize: 2, gateSeconds: 10, applyTimeoutSeconds: 30))
        _ = f.apply(v2, ["d1", "d2"], at: 101)
        _ = f.tick(101)
        #expect(f.tick(111) == ["d3:2", "d4:2"])
        _ = f.apply(v2, ["d3"], at: 112)
        _ = f.tick(112)
        let saved = f.book.takeChanges()
        #expect(saved.documents.map(\.version) == [1, 2] && saved.rollouts.map(\.id) == [r.id])
        let before = try #require(f.rollout(r.id))

        // The node restarts a while later: the daemons reconnect one by one.
        var g = f
        g.book = ConfigBook(restoring: saved.documents, rollouts: saved.rollouts)
        #expect(g.book.rollout(r.id) == before)
        #expect(g.book.current("a")?.version == 1 && g.book.activeRollout(of: "a")?.id == r.id)
        #expect(throws: ConfigError.self) {
            try g.book.put(name: "a", content: CT.bytes("v: 3"), selector: DaemonSelector(), rollout: nil, comment: "", online: [], now: TestTime.at(300))
        }
        var hello: [String] = []
        for id in Self.five { hello += CT.pushes(g.book.daemonOnline(DaemonCandidate(id: id), now: TestTime.at(300))) }
        #expect(hello == ["d1:2", "d2:2", "d3:2", "d4:2", "d5:1"], "started batches get the new version, the waiting daemon the old one")
        #expect(g.tick(301) == [], "deadlines and gates restart after a restore: d4 is not timed out")
        #expect(g.rollout(r.id)?.daemons[3].deadline == TestTime.at(331))
        _ = g.apply(v2, ["d4"], at: 302)
        _ = g.tick(302)
        #expect(g.tick(312) == ["d5:2"])
        _ = g.apply(v2, ["d5"], at: 313)
        _ = g.tick(313)
        #expect(g.tick(323) == [])
        #expect(g.rollout(r.id)?.state == .succeeded && g.book.current("a")?.version == 2)
        let next = try g.roll(RolloutStrategy(), content: "v: 3", at: 400)
        #expect(next.1.id == "r-2", "rollout ids continue after a restore")
    }

    @Test func aRollbackOnlySendsTheGoodVersionWhereItsSelectorMatches() throws {
        var book = ConfigBook()
        let prod = DaemonCandidate(id: "p1", labels: ["env": "prod"])
        let dev = DaemonCandidate(id: "d1", labels: ["env": "dev"])
        _ = try book.put(name: "a", content: CT.bytes("v: 1"), selector: DaemonSelector(labels: ["env": "prod"]), rollout: nil, comment: "", online: [prod, dev], now: TestTime.at(0))
        let u = try book.put(name: "a", content: CT.bytes("v: 2"), selector: DaemonSelector(), rollout: RolloutStrategy(), comment: "", online: [prod, dev], now: TestTime.at(1))
        #expect(CT.pushes(u.commands) == ["d1:2", "p1:2"], "the wider selector takes the dev daemon in")
        let rollback = CT.pushes(book.report(CT.failed(u.document), from: "p1", now: TestTime.at(2)))
        #expect(rollback == ["p1:1"], "version 1 is not for dev daemons: nothing to send it back to")
        let r = try #require(book.rollout("r-1"))
        #expect(r.daemons[0].message == "version 1 does not select it: it keeps version 2")
        #expect(r.daemons[0].state == .applying)
        #expect(r.daemons[1].state == .rolledBack)
    }

    @Test func takeChangesHasEveryStatusChange() throws {
        var f = try RolloutFleet(["d1"])
        _ = f.book.takeChanges()
        let (v2, r, _) = try f.roll(RolloutStrategy(gateSeconds: 0))
        var c = f.book.takeChanges()
        #expect(c.documents.map(\.version) == [2] && c.rollouts.map(\.state) == [.running])
        #expect(f.tick(100).isEmpty && f.book.takeChanges().isEmpty, "a tick that changes nothing writes nothing")
        _ = f.apply(v2, ["d1"], at: 101)
        c = f.book.takeChanges()
        #expect(c.rollouts.map(\.daemons[0].state) == [.applied])
        _ = f.tick(102)
        c = f.book.takeChanges()
        #expect(c.documents.map { "\($0.version):\($0.status.rawValue)" } == ["1:superseded", "2:current"])
        #expect(c.rollouts.map(\.state) == [.succeeded] && c.rollouts.first?.id == r.id)
        #expect(f.book.takeChanges().isEmpty)
    }
}
