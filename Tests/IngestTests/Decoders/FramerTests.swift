import Ingest
import Platform
import WAL
import Wire
import Testing

@Suite struct LineFramerTests {
    typealias H = DecoderHarness

    struct StepCase: Sendable, CustomTestStringConvertible {
        let name: String
        let buffer: String
        let max: Int
        let expected: [FrameStep]
        var testDescription: String { name }
    }

    /// Exact steps on one buffer (no new reads between steps; the buffer shrinks by `consumed`).
    static let stepCases: [StepCase] = [
        StepCase(name: "two lines", buffer: "ab\ncd\n", max: 10, expected: [
            .frame(0 ..< 2, consumed: 3), .frame(0 ..< 2, consumed: 3), .needMore(consumed: 0),
        ]),
        StepCase(name: "CRLF and empty lines", buffer: "\r\n\nab\r\n\r\n", max: 10, expected: [
            .frame(3 ..< 5, consumed: 7), .needMore(consumed: 2),
        ]),
        StepCase(name: "partial line", buffer: "ab\ncd", max: 10, expected: [
            .frame(0 ..< 2, consumed: 3), .needMore(consumed: 0),
        ]),
        StepCase(name: "exactly max", buffer: "abcd\nabcde\n", max: 4, expected: [
            .frame(0 ..< 4, consumed: 5), .rejected(reason: "line too long", consumed: 6), .needMore(consumed: 0),
        ]),
        StepCase(name: "exactly max with CR", buffer: "abcd\r\n", max: 4, expected: [
            .frame(0 ..< 4, consumed: 6), .needMore(consumed: 0),
        ]),
        StepCase(name: "overlong without LF yet", buffer: "abcdefg", max: 4, expected: [
            .rejected(reason: "line too long", consumed: 7), .needMore(consumed: 0),
        ]),
        StepCase(name: "pending at the limit waits", buffer: "abcd\r", max: 4, expected: [.needMore(consumed: 0)]),
        StepCase(name: "empty buffer", buffer: "", max: 4, expected: [.needMore(consumed: 0)]),
    ]

    @Test(arguments: stepCases)
    func steps(_ c: StepCase) {
        var framer = LineFramer(maxLineLength: c.max)
        var buffer = H.bytes(c.buffer)
        var got: [FrameStep] = []
        for _ in 0 ..< c.expected.count {
            let step = ByteView.with(buffer) { framer.next($0) }
            got.append(step)
            buffer.removeFirst(step.consumed)
        }
        #expect(got == c.expected, "got \(got), want \(c.expected)")
    }

    @Test func discardsAnOverlongLineAcrossReads() {
        var framer = LineFramer(maxLineLength: 4)
        let first = ByteView.with(H.bytes("toolong")) { framer.next($0) }
        #expect(first == .rejected(reason: "line too long", consumed: 7))
        #expect(framer.isDiscarding)
        let second = ByteView.with(H.bytes("stillgoing")) { framer.next($0) }
        #expect(second == .needMore(consumed: 10), "keeps discarding silently: \(second)")
        let third = ByteView.with(H.bytes("end\nok\n")) { framer.next($0) }
        #expect(third == .frame(4 ..< 6, consumed: 7), "resumes after the LF: \(third)")
        #expect(!framer.isDiscarding)
    }

    @Test(arguments: [1, 2, 3, 5, 8, 13, 64, 4096])
    func streamInAnyChunking(chunk: Int) {
        let stream = H.bytes("{\"message\":\"a\"}\r\n\n\ncpu value=1\n" + String(repeating: "x", count: 40) + "\nlast line\n" + String(repeating: "y", count: 33) + "\r\nz")
        var framer = LineFramer(maxLineLength: 32)
        let (events, maxPending, leftover) = H.drive(stream, chunk: chunk) { framer.next($0) }
        let expected: [H.Event] = [
            .frame(H.bytes("{\"message\":\"a\"}")), .frame(H.bytes("cpu value=1")), .reject("line too long"),
            .frame(H.bytes("last line")), .reject("line too long"),
        ]
        #expect(events == expected, "chunk \(chunk): \(events)")
        #expect(maxPending <= framer.maxBufferedBytes, "pending \(maxPending) > \(framer.maxBufferedBytes)")
        #expect(leftover == 1, "the unterminated last line stays buffered")
    }
}

@Suite struct SyslogFramerTests {
    typealias H = DecoderHarness

    static let rfc5424 = "<13>1 2026-11-21T10:00:00Z h a - - - hello"
    static let rfc3164 = "<13>Nov 21 10:00:00 h a: hi"

    @Test func octetCountedFrame() {
        var framer = SyslogFramer(maxFrameLength: 1024)
        let stream = H.bytes("\(Self.rfc5424.utf8.count) \(Self.rfc5424)")
        let step = ByteView.with(stream) { framer.next($0) }
        let body = 3 ..< stream.count
        #expect(step == .frame(body, consumed: stream.count), "\(step)")
    }

    @Test func truncatedOctetFrameNeedsMoreThenCompletes() {
        var framer = SyslogFramer(maxFrameLength: 1024)
        let full = H.bytes("\(Self.rfc5424.utf8.count) \(Self.rfc5424)")
        for cut in [1, 2, 3, 10, full.count - 1] {
            let step = ByteView.with(Array(full[..<cut])) { framer.next($0) }
            #expect(step == .needMore(consumed: 0), "cut at \(cut): \(step)")
        }
        let step = ByteView.with(full) { framer.next($0) }
        #expect(step == .frame(3 ..< full.count, consumed: full.count), "\(step)")
    }

    struct StreamCase: Sendable, CustomTestStringConvertible {
        let name: String
        let stream: [UInt8]
        let max: Int
        let expected: [H.Event]
        var testDescription: String { name }
    }

    static func octet(_ s: String) -> String { "\(s.utf8.count) \(s)" }

    static let streamCases: [StreamCase] = [
        StreamCase(
            name: "octet and newline frames mixed",
            stream: H.bytes(octet(rfc5424) + rfc3164 + "\n" + octet(rfc3164) + octet("<14>1 - - - - - - multi\nline") + rfc5424 + "\r\n"),
            max: 256,
            expected: [
                .frame(H.bytes(rfc5424)), .frame(H.bytes(rfc3164)), .frame(H.bytes(rfc3164)),
                .frame(H.bytes("<14>1 - - - - - - multi\nline")), .frame(H.bytes(rfc5424)),
            ]),
        StreamCase(
            name: "octet frames followed by LF and NUL separators",
            stream: H.bytes(octet(rfc5424) + "\n" + octet(rfc3164) + "\r\n\0" + rfc3164 + "\n"),
            max: 256,
            expected: [.frame(H.bytes(rfc5424)), .frame(H.bytes(rfc3164)), .frame(H.bytes(rfc3164))]),
        StreamCase(
            name: "non-digit in count discards to LF",
            stream: H.bytes("12a <13>garbage\n" + octet(rfc3164)),
            max: 256,
            expected: [.reject("invalid octet count"), .frame(H.bytes(rfc3164))]),
        StreamCase(
            name: "count with leading zero is invalid",
            stream: H.bytes("05 <13>x\n" + rfc3164 + "\n"),
            max: 256,
            expected: [.reject("invalid octet count"), .frame(H.bytes(rfc3164))]),
        StreamCase(
            name: "zero count is invalid",
            stream: H.bytes("0 \n" + rfc3164 + "\n"),
            max: 256,
            expected: [.reject("invalid octet count"), .frame(H.bytes(rfc3164))]),
        StreamCase(
            name: "oversized count skips exactly that frame",
            stream: H.bytes(octet("<13>1 - - - - - - " + String(repeating: "x", count: 100)) + octet(rfc3164)),
            max: 64,
            expected: [.reject("frame too long"), .frame(H.bytes(rfc3164))]),
        StreamCase(
            name: "absurd count is garbage: discard to LF",
            stream: H.bytes("99999999999 <13>x\n" + rfc3164 + "\n"),
            max: 64,
            expected: [.reject("invalid octet count"), .frame(H.bytes(rfc3164))]),
        StreamCase(
            name: "overlong newline frame discarded to LF",
            stream: H.bytes("<13>" + String(repeating: "y", count: 200) + "\n" + rfc3164 + "\n"),
            max: 64,
            expected: [.reject("frame too long"), .frame(H.bytes(rfc3164))]),
        StreamCase(
            name: "garbage bytes",
            stream: [0xFF, 0xFE, 0x00, 0x41, 0x0A] + H.bytes(rfc3164 + "\n"),
            max: 64,
            expected: [.frame([0xFF, 0xFE, 0x00, 0x41]), .frame(H.bytes(rfc3164))]),
    ]

    @Test(arguments: streamCases, [1, 2, 3, 7, 16, 61, 4096])
    func streams(_ c: StreamCase, chunk: Int) {
        var framer = SyslogFramer(maxFrameLength: c.max)
        let (events, maxPending, leftover) = H.drive(c.stream, chunk: chunk) { framer.next($0) }
        #expect(events == c.expected, "\(c.name), chunk \(chunk): got \(events)")
        #expect(maxPending <= framer.maxBufferedBytes, "pending \(maxPending) > \(framer.maxBufferedBytes)")
        #expect(leftover == 0, "\(leftover) bytes left")
        #expect(!framer.isDiscarding)
    }

    @Test func frameSplitAcrossTwoReadsDecodes() {
        var framer = SyslogFramer(maxFrameLength: 1024)
        var decoder = SyslogDecoder()
        var sink = CollectingSink()
        let stream = H.bytes(Self.octet(Self.rfc5424) + Self.rfc3164 + "\n")
        var buffer: [UInt8] = []
        for part in [stream[..<20], stream[20...]] {
            buffer += part
            var dropped = 0
            while true {
                let step = ByteView.with(Array(buffer[dropped...])) { view -> FrameStep in
                    let step = framer.next(view)
                    if case .frame(let r, _) = step { decoder.decode(view[r], receivedAt: H.now, into: &sink) }
                    return step
                }
                dropped += step.consumed
                if case .needMore = step { break }
            }
            buffer.removeFirst(dropped)
        }
        #expect(sink.records.count == 2 && sink.rejects.isEmpty, "\(H.describe(sink))")
        #expect(buffer.isEmpty)
    }

    @Test func oversizedCountIsSkippedAcrossReads() {
        var framer = SyslogFramer(maxFrameLength: 8)
        let first = ByteView.with(H.bytes("20 0123456789")) { framer.next($0) }
        #expect(first == .rejected(reason: "frame too long", consumed: 13), "\(first)")
        #expect(framer.isDiscarding)
        let second = ByteView.with(H.bytes("01234")) { framer.next($0) }
        #expect(second == .needMore(consumed: 5), "\(second)")
        let third = ByteView.with(H.bytes("567894 abcd")) { framer.next($0) }
        #expect(third == .frame(7 ..< 11, consumed: 11), "\(third)")
    }

    @Test func maxBufferedBytesCoversTheCountHeader() {
        #expect(SyslogFramer(maxFrameLength: 9).maxBufferedBytes == 11)
        #expect(SyslogFramer(maxFrameLength: 65536).maxBufferedBytes == 65536 + 6)
        #expect(LineFramer(maxLineLength: 100).maxBufferedBytes == 101)
    }
}
