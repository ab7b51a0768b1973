@testable import Control
import Platform
import Wire
import Testing

/// The scheduler: selectors, spreading by task count then throughput, and stickiness.
@Suite struct TaskPlacementTests {
    typealias F = TaskFixture

    @Test func placementHonoursLabelsAndRegion() throws {
        var book = F.book(daemons: [
            F.daemon("d-eu-prod", labels: ["env": "prod"], region: "eu"),
            F.daemon("d-us-prod", labels: ["env": "prod"], region: "us"),
            F.daemon("d-eu-dev", labels: ["env": "dev"], region: "eu"),
        ])
        let euProd = try book.create(F.tail(selector: DaemonSelector(labels: ["env": "prod"], region: "eu")), now: F.t0)
        let prod = try book.create(F.tail(selector: DaemonSelector(labels: ["env": "prod"])), now: F.t0)
        let us = try book.create(F.tail(selector: DaemonSelector(region: "us")), now: F.t0)
        let nowhere = try book.create(F.tail(selector: DaemonSelector(labels: ["env": "qa"])), now: F.t0)
        let out = book.tick(now: F.t0)
        let holders = Dictionary(uniqueKeysWithValues: out.assignments.map { ($0.1.taskID, $0.daemon) })
        #expect(holders[euProd.id] == "d-eu-prod")
        #expect(holders[us.id] == "d-us-prod")
        #expect(holders[prod.id] == "d-eu-prod", "groups with fewer eligible daemons go first; then a tie on load, broken by id")
        #expect(holders[nowhere.id] == nil)
        #expect(book.task(nowhere.id)?.state == .pending, "no eligible daemon: stays pending")
        // A matching daemon coming online picks it up at the next tick.
        _ = book.daemonOnline(F.daemon("d-qa", labels: ["env": "qa", "rack": "7"]), incarnation: F.incarnation, now: F.at(1))
        #expect(book.tick(now: F.at(1)).summary == ["d-qa:assign:\(nowhere.id)@1"])
    }

    @Test func twoListenersOnOnePortNeverShareADaemon() throws {
        var book = F.book(daemons: [F.daemon("d-1"), F.daemon("d-2")])
        func listen(_ port: Int, _ proto: String) throws -> TaskRecord {
            try book.create(TaskSpec(kind: .listen, stream: "edge", parameters: ["port": "\(port)", "protocol": proto]), now: F.t0)
        }
        let first = try listen(514, "syslog-tcp"), second = try listen(514, "json-tcp"), third = try listen(514, "syslog-tcp")
        let other = try listen(8080, "json-tcp")
        let udp = try listen(514, "syslog-udp")
        let out = book.tick(now: F.t0)
        let holders = Dictionary(uniqueKeysWithValues: out.assignments.map { ($0.1.taskID, $0.daemon) })
        #expect(Set([holders[first.id], holders[second.id]]) == ["d-1", "d-2"], "one port-514 listener per daemon: \(holders)")
        #expect(holders[third.id] == nil && book.task(third.id)?.state == .pending, "no daemon is free on port 514")
        #expect(holders[other.id] != nil, "another port is placed as usual")
        #expect(holders[udp.id] != nil, "UDP port 514 is another socket than TCP port 514")

        // When one of them terminates, the third takes its daemon at the next tick.
        let holder = try #require(holders[first.id])
        _ = try book.terminate(first.id, now: F.at(1))
        let done = TaskStatus(taskID: first.id, epoch: 1, state: .terminated, checkpoint: [:], message: "")
        _ = book.report(done, from: holder, now: F.at(2))
        #expect(book.tick(now: F.at(3)).summary == ["\(holder):assign:\(third.id)@1"])
    }

    @Test func spreadsEvenlyByTaskCount() throws {
        let ids = (1 ... 20).map { "d-\($0)" }
        var book = F.book(daemons: ids.map { F.daemon($0) })
        for i in 0 ..< 100 { _ = try book.create(F.tail("s\(i)"), now: F.t0) }
        let out = book.tick(now: F.t0)
        #expect(out.assignments.count == 100)
        let load = book.load(ids)
        #expect(Set(load.values) == [5], "100 tasks on 20 daemons: \(load)")
        #expect(book.counts == [.running: 100])
    }

    @Test func throughputBreaksTies() throws {
        var book = F.book(daemons: [F.daemon("d-a", throughput: 900), F.daemon("d-b", throughput: 100), F.daemon("d-c", throughput: 500)])
        let first = try book.create(F.tail("one"), now: F.t0)
        #expect(book.tick(now: F.t0).summary == ["d-b:assign:\(first.id)@1"], "equal counts: least throughput wins")
        book.setThroughput(50, of: "d-a")
        let second = try book.create(F.tail("two"), now: F.t0)
        #expect(book.tick(now: F.t0).summary == ["d-a:assign:\(second.id)@1"], "d-b has a task now; d-a is lighter than d-c")
        let third = try book.create(F.tail("three"), now: F.t0)
        #expect(book.tick(now: F.t0).summary == ["d-c:assign:\(third.id)@1"], "task count comes before throughput")
    }

    @Test func nothingMovesWhenNothingChanged() throws {
        var book = F.book(daemons: (1 ... 4).map { F.daemon("d-\($0)") })
        for i in 0 ..< 10 { _ = try book.create(F.tail("s\(i)"), now: F.t0) }
        _ = book.tick(now: F.t0)
        let before = book.tasks
        _ = book.takeChanges()
        for s in 1 ... 30 {
            for d in 1 ... 4 { book.heartbeat(from: "d-\(d)", now: F.at(Double(s))) }
            #expect(book.tick(now: F.at(Double(s))).isEmpty, "tick at \(s) s sent something")
        }
        #expect(book.tasks.map(\.lease?.holder) == before.map(\.lease?.holder))
        #expect(book.tasks.map(\.epoch) == before.map(\.epoch))
        #expect(book.takeChanges().isEmpty, "renewals are not changes")
    }

    @Test func aNewDaemonDoesNotStealRunningTasks() throws {
        var book = F.book(daemons: [F.daemon("d-1"), F.daemon("d-2")])
        for i in 0 ..< 6 { _ = try book.create(F.tail("s\(i)"), now: F.t0) }
        _ = book.tick(now: F.t0)
        let joined = book.daemonOnline(F.daemon("d-3"), incarnation: F.incarnation, now: F.at(1))
        #expect(joined.isEmpty)
        book.heartbeat(from: "d-1", now: F.at(1))
        book.heartbeat(from: "d-2", now: F.at(1))
        #expect(book.tick(now: F.at(1)).isEmpty)
        #expect(book.load(["d-1", "d-2", "d-3"]) == ["d-1": 3, "d-2": 3, "d-3": 0])
        // New work goes to the new daemon.
        let next = try book.create(F.tail("new"), now: F.at(2))
        #expect(book.tick(now: F.at(2)).summary == ["d-3:assign:\(next.id)@1"])
    }

    @Test func offlineDaemonsGetNoNewTasks() throws {
        var book = F.book(daemons: [F.daemon("d-1"), F.daemon("d-2")])
        book.daemonOffline("d-1", now: F.at(1))
        for i in 0 ..< 3 { _ = try book.create(F.tail("s\(i)"), now: F.at(1)) }
        #expect(Set(book.tick(now: F.at(1)).assignments.map(\.daemon)) == ["d-2"])
        #expect(!book.isOnline("d-1"))
    }

    @Test func assignmentCarriesTheLeaseAndSpec() throws {
        var book = F.book(daemons: [F.daemon("d-1")])
        let task = try book.create(TaskSpec(kind: .listen, stream: "edge", parameters: ["port": "5514"]), now: F.t0)
        let a = try #require(book.tick(now: F.at(1)).assignments.first?.1)
        #expect(a == TaskAssignment(
            taskID: task.id, epoch: 1, leaseMilliseconds: 10_000, producerID: TaskProducerID.make(serial: task.serial, epoch: 1),
            kind: "listen", stream: "edge", parameters: ["port": "5514", "protocol": "syslog-tcp", "address": "127.0.0.1"], checkpoint: [:]))
        let r = try #require(book.task(task.id))
        #expect(r.lease == TaskLease(holder: "d-1", epoch: 1, grantedAt: F.at(1), expiresAt: F.at(11), incarnation: F.incarnation))
        #expect(r.history == [TaskAssignmentRecord(holder: "d-1", epoch: 1, from: F.at(1))])
        #expect(r.producerID == a.producerID)
    }
}
