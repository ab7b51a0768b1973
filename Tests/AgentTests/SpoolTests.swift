import Logging
import Platform
import TestSupport
import Testing
import WAL

@testable import Agent

@Suite struct SpoolTests {
    private let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    private func draft(_ producer: UInt64, _ sequence: UInt64, messages: [String]) -> BatchDraft {
        var payload: [UInt8] = []
        for message in messages {
            RecordEncoder.append(.log(LogRecord(timestamp: 1, severity: 6, facility: 1, host: "h", app: "a", message: message)), to: &payload)
        }
        return BatchDraft(
            payload: payload, recordCount: messages.count, minTimestamp: 1, maxTimestamp: 1, producerID: producer, producerSequence: sequence,
            codec: .lz4)
    }

    @Test func batchesStayUntilAcknowledgedAndTheWatermarkSurvivesARestart() throws {
        let directory = TemporaryDirectory("spool")
        defer { directory.remove() }
        var spool = try Spool(directory: directory.path, maxBytes: 1 << 30, durability: .batch, logger: logger)
        #expect(spool.isNew)
        let first = try spool.append(draft(7, 1, messages: ["a", "b"]))
        let second = try spool.append(draft(7, 2, messages: ["c"]))
        #expect(spool.nextSequence(producer: 7) == 3)
        #expect(spool.sendableSequence == second)
        spool.acknowledge(through: first)
        try spool.close()

        spool = try Spool(directory: directory.path, maxBytes: 1 << 30, durability: .batch, logger: logger)
        #expect(!spool.isNew)
        #expect(spool.acknowledged == first)
        #expect(spool.nextSequence(producer: 7) == 3)
        let cursor = spool.cursor()
        let batch = try #require(try cursor.next(upTo: spool.sendableSequence))
        #expect(batch.header.producerSequence == 2)
        #expect(try cursor.next(upTo: spool.sendableSequence) == nil)
        #expect(spool.backlogBytes > 0)
        spool.acknowledge(through: second)
        try spool.compact()
        #expect(spool.backlogBytes == 0)
        try spool.close()
    }

    @Test func theSpoolSaysWhenItIsFull() throws {
        let directory = TemporaryDirectory("spool-full")
        defer { directory.remove() }
        let spool = try Spool(directory: directory.path, maxBytes: 4096, durability: .none, logger: logger)
        var sequence: UInt64 = 1
        while spool.hasRoom {
            try spool.append(draft(9, sequence, messages: (0 ..< 20).map { "line \($0) of batch \(sequence) " + String(repeating: "x", count: 40) }))
            sequence += 1
        }
        #expect(spool.storedBytes >= 4096 && spool.backlogBytes >= 4096)
        #expect(spool.oldestUnacknowledgedAge >= .zero)
        spool.setMaxBytes(1 << 20)
        #expect(spool.hasRoom)
        spool.setMaxBytes(4096)
        #expect(!spool.hasRoom)
        spool.acknowledge(through: spool.endSequence)
        #expect(spool.hasRoom, "acknowledged batches make room at once, before their segment is deleted")
        try spool.close()
    }

    @Test func theJournalResumesFromWhatTheSpoolHoldsAndReportsWhatWasAcknowledged() throws {
        let directory = TemporaryDirectory("journal")
        defer { directory.remove() }
        let path = directory.file("journal")
        var journal = try CheckpointJournal(path: path, spooled: 0)
        try journal.append(sequence: 1, checkpoint: ["offset": "10", "file": "a&b=c%"])
        try journal.append(sequence: 2, checkpoint: ["offset": "20", "file": "a&b=c%"])
        try journal.append(sequence: 3, checkpoint: ["offset": "30", "file": "a&b=c%"])
        journal.acknowledge(2)
        #expect(journal.acknowledgedCheckpoint?["offset"] == "20")
        #expect(journal.latest?["file"] == "a&b=c%")

        // Batch 3's entry was written but the spool never got batch 3 (a crash in between).
        journal = try CheckpointJournal(path: path, spooled: 2)
        #expect(journal.latest?["offset"] == "20")
        journal.acknowledge(2)
        try journal.compact()
        #expect(journal.entries.count == 1)
        journal = try CheckpointJournal(path: path, spooled: 2)
        #expect(journal.acknowledged == 2)
        #expect(journal.acknowledgedCheckpoint?["offset"] == "20")
    }

    @Test func aTornJournalLineEndsTheReading() throws {
        let directory = TemporaryDirectory("journal-torn")
        defer { directory.remove() }
        let path = directory.file("journal")
        try FileSystem.writeAtomically(path, Array("1\toffset=5\n2\toffset=9\n3\toff".utf8))
        let journal = try CheckpointJournal(path: path, spooled: 10)
        #expect(journal.entries.map(\.sequence) == [1, 2])
    }

    @Test func anIncarnationLivesAsLongAsItsSpool() throws {
        let directory = TemporaryDirectory("incarnation")
        defer { directory.remove() }
        let first = try Incarnation.load(directory: directory.path, fresh: false)
        #expect(try Incarnation.load(directory: directory.path, fresh: false) == first)
        #expect(try Incarnation.load(directory: directory.path, fresh: true) != first)
    }
}
