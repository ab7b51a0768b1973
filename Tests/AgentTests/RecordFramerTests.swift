import Platform
import Testing

@testable import Agent

/// How bytes after a record boundary become records: the framer alone, no files.
@Suite struct RecordFramerTests {
    /// Cuts all of `text` the way a reader would, from the start, with `flush` at the end.
    static func cut(_ text: String, limit: Int = 64, pattern: String? = nil, flush: RecordFramer.Flush = .none) throws -> [String] {
        let framer = RecordFramer(maxRecordBytes: limit, startPattern: try pattern.map { p throws(InputError) in try StartPattern(p) })
        let bytes = Array(text.utf8)
        var records: [String] = []
        var start = 0
        while true {
            let step = ByteView.with(bytes) { framer.next($0[start ..< bytes.count], flush: flush) }
            switch step {
            case .record(let message, let isPartial, let consumed):
                records.append(String(decoding: bytes[(start + message.lowerBound) ..< (start + message.upperBound)], as: UTF8.self) + (isPartial ? "…" : ""))
                start += consumed
            case .skip(let consumed):
                start += consumed
            case .needMore:
                return records
            }
        }
    }

    @Test func linesEndAtLFWithOneCRDroppedAndEmptyLinesSkipped() throws {
        #expect(try Self.cut("a\r\nb\n\n\r\nc\r\r\nd") == ["a", "b", "c\r"], "only the CR before the LF goes; d has no LF yet")
        #expect(try Self.cut("a\nd", flush: .everything) == ["a", "d"])
        #expect(try Self.cut("\r", flush: .everything) == [], "a lone CR is an empty line")
    }

    @Test func recordsLongerThanTheLimitAreCutIntoPieces() throws {
        #expect(try Self.cut("abcdefghij\n", limit: 4) == ["abcd…", "efgh…", "ij"])
        #expect(try Self.cut("abcd\n", limit: 4) == ["abcd"], "exactly the limit is one record")
        #expect(try Self.cut("abcd\r\n", limit: 4) == ["abcd"], "the CR does not count")
        #expect(try Self.cut("abcde", limit: 4) == [], "4 + 1 bytes without LF may still be 4 bytes and a CR")
        #expect(try Self.cut("abcdef", limit: 4) == ["abcd…"])
        #expect(try Self.cut("aé€😀b\n", limit: 4) == ["aé…", "€…", "😀…", "b"], "cuts fall before a UTF-8 sequence")
    }

    @Test func multilineJoinsLinesThatDoNotStartARecord() throws {
        let text = "S1\n  a\n\n  b\nS2\n  c\nS3 pending\n  d\n"
        #expect(try Self.cut(text, pattern: "^S") == ["S1\n  a\n\n  b", "S2\n  c"], "the last record waits for the line after it")
        #expect(try Self.cut(text, pattern: "^S", flush: .completeLines) == ["S1\n  a\n\n  b", "S2\n  c", "S3 pending\n  d"])
        #expect(try Self.cut("  orphan\nS1\n", pattern: "^S", flush: .completeLines) == ["  orphan", "S1"], "bytes that start with a continuation line start a record")
        #expect(try Self.cut("S1\n  a\nS", pattern: "^S", flush: .completeLines) == ["S1\n  a"], "an unfinished line is not joined by the timeout flush")
        #expect(try Self.cut("S1\n  a\nS", pattern: "^S", flush: .everything) == ["S1\n  a", "S"])
        #expect(try Self.cut("S1\n  a\n  b", pattern: "^S", flush: .everything) == ["S1\n  a\n  b"])
    }

    @Test func aMultilineRecordLongerThanTheLimitIsCutIntoPieces() throws {
        // The rest of a cut record starts a record of its own; S2 waits for the line after it.
        #expect(try Self.cut("S1\n  aaaa\n  bbbb\nS2\n", limit: 8, pattern: "^S") == ["S1\n  aaa…", "a\n  bbbb"])
        #expect(try Self.cut("S1\n  aaaa\n  bbbb\nS2\n", limit: 8, pattern: "^S", flush: .completeLines) == ["S1\n  aaa…", "a\n  bbbb", "S2"])
    }

    @Test func aLongNextLineIsTestedOnItsFirstBytes() throws {
        // The line after S1 is longer than the limit and has no LF yet: it starts a record, so
        // S1 is complete without waiting for the long line's end.
        #expect(try Self.cut("S1\nS2xxxxxxxxxxxx", limit: 8, pattern: "^S") == ["S1", "S2xxxxxx…"])
    }
}
