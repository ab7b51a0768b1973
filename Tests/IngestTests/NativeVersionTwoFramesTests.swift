import Foundation
import NIOCore
import Platform
import Testing
import WAL
import Wire

// The frames protocol version 2 adds or extends (docs/protocol.md, sections 5.1, 5.2, 5.10):
// HELLO and HELLO_OK with extensions, and BATCH_COMPRESSED, in both directions.

private let allocator = ByteBufferAllocator()

/// The body of a whole frame of `type`, checking its length field.
private func body(of frame: ByteBuffer, _ type: NativeFrameType, sourceLocation: SourceLocation = #_sourceLocation) -> ByteBuffer {
    var f = frame
    let length = f.readInteger(endianness: .big, as: UInt32.self)
    #expect(length.map(Int.init) == f.readableBytes, "length field \(String(describing: length)) vs \(f.readableBytes) bytes", sourceLocation: sourceLocation)
    let read = f.readInteger(as: UInt8.self)
    #expect(read == type.rawValue, "type \(String(describing: read)), expected \(type)", sourceLocation: sourceLocation)
    return f
}

/// Every strict prefix of `body` and `body` plus one byte must fail to decode.
private func expectTruncationAndTrailingBytesRejected(
    _ body: ByteBuffer, _ decode: (inout ByteBuffer) throws(NativeMalformed) -> Void, sourceLocation: SourceLocation = #_sourceLocation
) {
    for n in 0 ..< body.readableBytes {
        var short = body.getSlice(at: body.readerIndex, length: n)!
        #expect(throws: NativeMalformed.self, "body cut to \(n) of \(body.readableBytes) bytes", sourceLocation: sourceLocation) {
            try decode(&short)
        }
    }
    var long = body
    long.writeInteger(UInt8(0))
    #expect(throws: NativeMalformed.self, "one trailing byte", sourceLocation: sourceLocation) { try decode(&long) }
}

private let incarnation = DaemonIncarnation(hex: "5f3a9c2e7b1d4086")!

@Suite struct NativeVersionTwoFramesTests {
    static var helloV2: NativeHello {
        var hello = NativeHello(
            version: 2, daemonID: "web1-agent", region: "eu-west", labels: ["env": "prod"], token: "s3cret", agentVersion: "hyphad/0.2.0",
            extensions: ["future_key": "ignored"])
        hello.compression = [.lz4, .zstd]
        hello.incarnation = incarnation
        return hello
    }

    // MARK: docs/protocol.md, section 15

    /// The three version 2 examples of the protocol document are what these encoders (and
    /// liblz4, for BATCH_COMPRESSED) produce, and decode back to what the document says.
    @Test func protocolDocumentHexExamplesMatchTheEncoders() throws {
        let doc = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("docs/protocol.md")
        let text = try String(contentsOf: doc, encoding: .utf8)

        var hello = NativeHello(version: 2, daemonID: "web1-agent", region: "eu-west", labels: ["env": "prod"], token: "s3cret", agentVersion: "hyphad/0.2.0")
        hello.compression = [.lz4, .zstd]
        hello.incarnation = incarnation
        var welcome = NativeWelcome(version: 2, maxFrameSize: 8 << 20, heartbeatIntervalMilliseconds: 5000, nodeID: "node-a")
        welcome.compression = .lz4
        welcome.maxBatchBytes = 16 << 20
        let record = Record.log(LogRecord(
            timestamp: 1_700_000_000_000_000_000, severity: 6, facility: 1, host: "web1", app: "nginx", message: "GET /", fields: [("status", "200")]))
        var payload: [UInt8] = []
        RecordEncoder.append(record, to: &payload)
        let compressed = try NodeFrames.compressedBatch(
            NativeBatchHeader(producerID: 1, producerSequence: 1, recordCount: 1), payload: payload, codec: .lz4, context: CodecContext(),
            allocator: allocator)

        let examples = [
            ("HELLO (version 2)", hello.frame(allocator: allocator)), ("HELLO_OK (version 2)", welcome.frame(allocator: allocator)),
            ("BATCH_COMPRESSED", compressed),
        ]
        for (title, frame) in examples {
            #expect(text.contains("### \(title) (\(frame.readableBytes) bytes on the wire)"), "\(title): \(frame.readableBytes) bytes")
            #expect(text.contains(frame.hexDump), "\(title) dump:\n\(frame.hexDump)")
        }
        var helloBody = body(of: examples[0].1, .hello)
        #expect(try NativeHello.decode(&helloBody) == hello)
        var welcomeBody = body(of: examples[1].1, .helloOK)
        #expect(try NodeFrames.welcome(&welcomeBody) == welcome)
        var batchBody = body(of: compressed, .batchCompressed)
        let batch = try NativeCompressedBatch.decode(&batchBody)
        #expect(try batch.decompress(batchBody, context: CodecContext()) == payload, "the payload is the 41 bytes of the record")
    }

    // MARK: Incarnations

    @Test func incarnationsAreSixteenLowercaseHexDigitsAndNeverZero() throws {
        #expect(incarnation.value == 0x5F3A_9C2E_7B1D_4086)
        #expect(DaemonIncarnation(1)?.description == "0000000000000001", "padded to 16 digits")
        for bad in ["", "0000000000000000", "5F3A9C2E7B1D4086", "5f3a9c2e7b1d408", "5f3a9c2e7b1d40860", "+f3a9c2e7b1d4086", "5f3a9c2e7b1d408g", "0x3a9c2e7b1d4086"] {
            #expect(DaemonIncarnation(hex: bad) == nil, "'\(bad)' is refused")
        }
        #expect(DaemonIncarnation(0) == nil)
        let fresh = DaemonIncarnation.random()
        #expect(DaemonIncarnation(hex: fresh.description) == fresh, "\(fresh) parses back")
        let json = try JSONEncoder().encode([incarnation])
        #expect(String(decoding: json, as: UTF8.self) == #"["5f3a9c2e7b1d4086"]"#)
        #expect(try JSONDecoder().decode([DaemonIncarnation].self, from: json) == [incarnation])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([DaemonIncarnation].self, from: Data(#"["00"]"#.utf8)) }
    }

    // MARK: HELLO

    @Test func helloVersionTwoRoundTripsWithItsExtensions() throws {
        let hello = Self.helloV2
        let whole = body(of: hello.frame(allocator: allocator), .hello)
        var copy = whole
        let decoded = try NativeHello.decode(&copy)
        #expect(decoded == hello, "decoded \(decoded), sent \(hello)")
        #expect(decoded.extensions == ["compression": "lz4,zstd", "incarnation": "5f3a9c2e7b1d4086", "future_key": "ignored"])
        #expect(decoded.compression == [.lz4, .zstd] && decoded.incarnation == incarnation)
        expectTruncationAndTrailingBytesRejected(whole) { (b: inout ByteBuffer) throws(NativeMalformed) in _ = try NativeHello.decode(&b) }
    }

    /// Version 1 is byte for byte what it was: the HELLO of docs/protocol.md section 15, and
    /// extensions set on a version 1 HELLO are not sent.
    @Test func helloVersionOneIsUnchanged() throws {
        var hello = NativeHello(version: 1, daemonID: "web1-agent", region: "eu-west", labels: ["env": "prod"], token: "s3cret", agentVersion: "hyphad/0.1.0")
        hello.incarnation = incarnation
        let bytes = Array(hello.frame(allocator: allocator).readableBytesView)
        let expected = """
            00 00 00 3b 01 00 01 00 0a 77 65 62 31 2d 61 67
            65 6e 74 00 07 65 75 2d 77 65 73 74 00 01 00 03
            65 6e 76 00 04 70 72 6f 64 00 06 73 33 63 72 65
            74 00 0c 68 79 70 68 61 64 2f 30 2e 31 2e 30
            """.hexBytes
        #expect(bytes == expected, "v1 HELLO: \(bytes.hex), expected \(expected.hex)")
        var whole = body(of: hello.frame(allocator: allocator), .hello)
        let decoded = try NativeHello.decode(&whole)
        #expect(decoded.extensions.isEmpty && decoded.incarnation == nil, "a v1 HELLO has no extensions: \(decoded.extensions)")
    }

    @Test func helloCompressionListSkipsUnknownAndRepeatedCodecs() {
        var hello = NativeHello(version: 2, daemonID: "d", extensions: ["compression": "snappy,zstd,,lz4,zstd,none"])
        #expect(hello.compression == [.zstd, .lz4], "\(hello.compression)")
        hello.compression = [.none]
        #expect(hello.extensions["compression"] == nil, "none is not a compression codec")
        hello.compression = [.zstd]
        #expect(hello.extensions["compression"] == "zstd")
        hello.incarnation = nil
        #expect(hello.extensions["incarnation"] == nil)
    }

    @Test func helloWithABadIncarnationOrAnUnknownVersionIsMalformed() {
        for bad in ["", "0000000000000000", "5F3A9C2E7B1D4086", "xyz"] {
            var hello = body(of: NativeHello(version: 2, daemonID: "d", extensions: ["incarnation": bad]).frame(allocator: allocator), .hello)
            #expect(throws: NativeMalformed.self, "incarnation '\(bad)'") { _ = try NativeHello.decode(&hello) }
        }
        var v3 = body(of: NativeHello(version: 3, daemonID: "d").frame(allocator: allocator), .hello)
        #expect(throws: NativeMalformed.self, "version 3") { _ = try NativeHello.decode(&v3) }
    }

    // MARK: HELLO_OK

    @Test func welcomeVersionTwoRoundTripsWithItsExtensions() throws {
        var welcome = NativeWelcome(version: 2, maxFrameSize: 8 << 20, heartbeatIntervalMilliseconds: 5000, nodeID: "node-a")
        welcome.compression = .lz4
        welcome.maxBatchBytes = 64 << 20
        #expect(welcome.extensions == ["compression": "lz4", "max_batch_bytes": "67108864"])
        let whole = body(of: welcome.frame(allocator: allocator), .helloOK)
        var copy = whole
        let decoded = try NodeFrames.welcome(&copy)
        #expect(decoded == welcome, "decoded \(decoded), sent \(welcome)")
        #expect(decoded.compression == .lz4 && decoded.maxBatchBytes == 64 << 20)
        expectTruncationAndTrailingBytesRejected(whole) { (b: inout ByteBuffer) throws(NativeMalformed) in _ = try NodeFrames.welcome(&b) }

        var plain = NativeWelcome(version: 2, maxFrameSize: 65_536, heartbeatIntervalMilliseconds: 1, nodeID: "n")
        plain.compression = nil
        var plainBody = body(of: plain.frame(allocator: allocator), .helloOK)
        #expect(try NodeFrames.welcome(&plainBody).compression == nil, "no compression extension: plain batches only")
    }

    @Test func welcomeVersionOneIsUnchanged() throws {
        let welcome = NativeWelcome(version: 1, maxFrameSize: 8 << 20, heartbeatIntervalMilliseconds: 5000, nodeID: "node-a", extensions: ["compression": "lz4"])
        let bytes = Array(welcome.frame(allocator: allocator).readableBytesView)
        let expected = "00 00 00 13 02 00 01 00 80 00 00 00 00 13 88 00 06 6e 6f 64 65 2d 61".hexBytes
        #expect(bytes == expected, "v1 HELLO_OK: \(bytes.hex), expected \(expected.hex)")
        var whole = body(of: welcome.frame(allocator: allocator), .helloOK)
        #expect(try NodeFrames.welcome(&whole).extensions.isEmpty)
        expectTruncationAndTrailingBytesRejected(body(of: welcome.frame(allocator: allocator), .helloOK)) {
            (b: inout ByteBuffer) throws(NativeMalformed) in _ = try NodeFrames.welcome(&b)
        }
    }

    @Test(arguments: [["compression": "snappy"], ["compression": "none"], ["max_batch_bytes": "0"], ["max_batch_bytes": "-5"], ["max_batch_bytes": "1e6"], ["max_batch_bytes": "+7"]])
    func welcomeWithABadKnownExtensionIsMalformed(_ extensions: [String: String]) {
        let welcome = NativeWelcome(version: 2, maxFrameSize: 65_536, heartbeatIntervalMilliseconds: 1, nodeID: "n", extensions: extensions)
        var frame = body(of: welcome.frame(allocator: allocator), .helloOK)
        #expect(throws: NativeMalformed.self, "\(extensions)") { _ = try NodeFrames.welcome(&frame) }
    }

    // MARK: BATCH_COMPRESSED

    static let records: [Record] = (0 ..< 50).map { (i: Int) -> Record in
        let timestamp: Int64 = 1_700_000_000_000_000_000 + Int64(i)
        return i % 5 == 4
            ? .metric(MetricSample(timestamp: timestamp, name: "cpu.load", value: Double(i), labels: [("host", "web1")]))
            : .log(LogRecord(
                timestamp: timestamp, severity: 6, facility: 1, host: "web1", app: "nginx",
                message: "GET /index.html \(i) ü", fields: [("status", "200")]))
    }

    static var payload: [UInt8] {
        var bytes: [UInt8] = []
        for r in records { RecordEncoder.append(r, to: &bytes) }
        return bytes
    }

    /// The record bodies `forEachRecord` hands out, as copies.
    static func walk(_ batch: NativeCompressedBatch, _ payload: [UInt8]) throws(NativeMalformed) -> [[UInt8]] {
        var bodies: [[UInt8]] = []
        try batch.forEachRecord(in: payload) { index, body in
            #expect(Int(index) == bodies.count)
            bodies.append(body.bytes)
        }
        return bodies
    }

    @Test(arguments: [WALCodec.lz4, .zstd])
    func compressedBatchRoundTrips(_ codec: WALCodec) throws {
        let context = CodecContext()
        let header = NativeBatchHeader(producerID: 0x8000_0000_0700_0003, producerSequence: 9, recordCount: UInt32(Self.records.count))
        let frame = try NodeFrames.compressedBatch(header, payload: Self.payload, codec: codec, context: context, allocator: allocator)
        var data = body(of: frame, .batchCompressed)
        let batch = try NativeCompressedBatch.decode(&data)
        #expect(batch == NativeCompressedBatch(header: header, codec: codec, uncompressedLength: UInt32(Self.payload.count)), "\(batch)")
        #expect(data.readableBytes < Self.payload.count, "\(codec) shrinks \(Self.payload.count) bytes, got \(data.readableBytes)")
        let payload = try batch.decompress(data, context: context)
        #expect(payload == Self.payload, "decompressed \(payload.count) bytes, sent \(Self.payload.count)")

        var expected: [[UInt8]] = []
        var cursor = RecordCursor(Self.payload, count: Self.payload.count)
        while let range = try cursor.nextBody() { expected.append(Array(Self.payload[range])) }
        #expect(try Self.walk(batch, payload) == expected, "the walk yields every record body in order")

        // Bytes compressed earlier (a spool) give the very same frame.
        let stored = try context.compress(Self.payload, codec: codec)
        let again = NodeFrames.compressedBatch(header, codec: codec, uncompressedLength: Self.payload.count, compressed: stored, allocator: allocator)
        #expect(again == frame, "precompressed and compressed-here frames are equal")
    }

    /// The plain fallback of a client holding encoded payloads: the same frame as a BATCH
    /// built from the records, and a payload that does not match its count is refused.
    @Test func plainBatchFromAnEncodedPayloadMatchesTheRecordsBatch() throws {
        let header = NativeBatchHeader(producerID: 0x42, producerSequence: 7, recordCount: UInt32(Self.records.count))
        let frame = try NodeFrames.batch(header, payload: Self.payload, allocator: allocator)
        let expected = NodeFrames.batch(producerID: 0x42, sequence: 7, records: Self.records, allocator: allocator)
        #expect(frame == expected, "from the payload: \(frame.readableBytes) bytes, from the records: \(expected.readableBytes)")

        func attempt(_ count: UInt32, _ payload: [UInt8]) throws(NativeMalformed) {
            _ = try NodeFrames.batch(NativeBatchHeader(producerID: 1, producerSequence: 1, recordCount: count), payload: payload, allocator: allocator)
        }
        let count = UInt32(Self.records.count)
        #expect(throws: NativeMalformed.self, "one record more announced than sent") { try attempt(count + 1, Self.payload) }
        #expect(throws: NativeMalformed.self, "one record fewer announced than sent") { try attempt(count - 1, Self.payload) }
        #expect(throws: NativeMalformed.self, "a trailing byte") { try attempt(count, Self.payload + [0x07]) }
        #expect(throws: NativeMalformed.self, "the last record cut") { try attempt(count, Array(Self.payload.dropLast())) }
        #expect(throws: NativeMalformed.self, "an empty body") { try attempt(2, [0, 1, 0x2A]) }
    }

    @Test func compressedBatchFixedFieldsAreCheckedAndTruncationIsMalformed() throws {
        let header = NativeBatchHeader(producerID: 1, producerSequence: 1, recordCount: 1)
        let frame = NodeFrames.compressedBatch(header, codec: .lz4, uncompressedLength: 3, compressed: [0x30, 0x01, 0x02, 0x03], allocator: allocator)
        let whole = body(of: frame, .batchCompressed)
        for n in 0 ..< NativeCompressedBatch.fixedSize {
            var short = whole.getSlice(at: whole.readerIndex, length: n)!
            #expect(throws: NativeMalformed.self, "fixed fields cut to \(n) bytes") { _ = try NativeCompressedBatch.decode(&short) }
        }
        func patched(_ offset: Int, _ bytes: [UInt8]) -> ByteBuffer {
            var b = whole
            b.setBytes(bytes, at: b.readerIndex + offset)
            return b
        }
        let faults: [(String, ByteBuffer)] = [
            ("producer_id 0", patched(0, [UInt8](repeating: 0, count: 8))),
            ("producer_sequence 0", patched(8, [UInt8](repeating: 0, count: 8))),
            ("record_count 0", patched(16, [0, 0, 0, 0])),
            ("record_count 65536", patched(16, [0, 1, 0, 0])),
            ("codec 0 (none)", patched(20, [0])),
            ("codec 3", patched(20, [3])),
            ("codec 255", patched(20, [255])),
        ]
        for (what, fault) in faults {
            var b = fault
            #expect(throws: NativeMalformed.self, "\(what)") { _ = try NativeCompressedBatch.decode(&b) }
        }
        var exact = whole
        let batch = try NativeCompressedBatch.decode(&exact)
        #expect(exact.readableBytes == 4, "data is the rest of the frame: \(exact.readableBytes) bytes")
        #expect(batch.codec == .lz4 && batch.uncompressedLength == 3)
    }

    @Test(arguments: [WALCodec.lz4, .zstd])
    func corruptOrMislabelledDataDoesNotDecompress(_ codec: WALCodec) throws {
        let context = CodecContext()
        let compressed = try context.compress(Self.payload, codec: codec)
        let header = NativeBatchHeader(producerID: 1, producerSequence: 1, recordCount: UInt32(Self.records.count))
        func attempt(_ data: [UInt8], length: Int) throws(NativeMalformed) -> [UInt8] {
            var buffer = body(of: NodeFrames.compressedBatch(header, codec: codec, uncompressedLength: length, compressed: data, allocator: allocator), .batchCompressed)
            return try NativeCompressedBatch.decode(&buffer).decompress(buffer, context: context)
        }
        #expect(try attempt(compressed, length: Self.payload.count) == Self.payload)
        var garbage = compressed
        for i in stride(from: 0, to: garbage.count, by: 3) { garbage[i] ^= 0xA5 }
        let cases: [(String, [UInt8], Int)] = [
            ("one byte short of the announced length", compressed, Self.payload.count + 1),
            ("one byte more than the announced length", compressed, Self.payload.count - 1),
            ("garbage", garbage, Self.payload.count),
            ("cut in half", Array(compressed.prefix(compressed.count / 2)), Self.payload.count),
            ("no data", [], Self.payload.count),
        ]
        for (what, data, length) in cases {
            #expect(throws: NativeMalformed.self, "\(codec): \(what)") { _ = try attempt(data, length: length) }
        }
    }

    @Test func recordWalkMustMatchTheCountExactly() throws {
        let payload = Self.payload
        let count = UInt32(Self.records.count)
        func batch(_ n: UInt32) -> NativeCompressedBatch {
            NativeCompressedBatch(header: NativeBatchHeader(producerID: 1, producerSequence: 1, recordCount: n), codec: .lz4, uncompressedLength: 0)
        }
        #expect(try Self.walk(batch(count), payload).count == Int(count))
        #expect(throws: NativeMalformed.self, "one record more announced than sent") { _ = try Self.walk(batch(count + 1), payload) }
        #expect(throws: NativeMalformed.self, "one record fewer announced than sent") { _ = try Self.walk(batch(count - 1), payload) }
        #expect(throws: NativeMalformed.self, "a trailing byte") { _ = try Self.walk(batch(count), payload + [0x07]) }
        #expect(throws: NativeMalformed.self, "the last record cut") { _ = try Self.walk(batch(count), Array(payload.dropLast())) }
        #expect(throws: NativeMalformed.self, "a length of more than 10 bytes") { _ = try Self.walk(batch(1), [UInt8](repeating: 0x80, count: 11) + [0]) }
        // An empty body is framing, not a fault: the caller rejects it as a record.
        #expect(try Self.walk(batch(2), [0, 1, 0x2A]) == [[], [0x2A]])
    }
}

extension String {
    /// The bytes of a hex string; spaces are skipped.
    fileprivate var hexBytes: [UInt8] {
        let digits = Array(filter { !$0.isWhitespace })
        return stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0 ... $0 + 1]), radix: 16)! }
    }
}

extension ByteBuffer {
    /// The readable bytes as docs/protocol.md dumps them: 16 per line after a hex offset.
    fileprivate var hexDump: String {
        let bytes = Array(readableBytesView)
        return stride(from: 0, to: bytes.count, by: 16).map { off in
            String(format: "%04x: ", off) + bytes[off ..< min(off + 16, bytes.count)].map { String(format: "%02x", $0) }.joined(separator: " ")
        }.joined(separator: "\n")
    }
}

extension [UInt8] {
    fileprivate var hex: String { map { String(format: "%02x", $0) }.joined(separator: " ") }
}
