import Ingest
import Platform
import WAL
import Wire
import Testing
import Workload

@Suite struct CRC32CTests {
    @Test func knownAnswers() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.portableChecksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([]) == 0)
        // RFC 3720 B.4 test vectors.
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum(Array(0 ..< 32)) == 0x46DD_794E)
    }

    @Test func hardwareAndPortablePathsAgree() {
        var rng = SplitMix64(seed: 7)
        for length in [0, 1, 7, 8, 9, 63, 64, 65, 1000, 4096, 65_537] {
            for misalign in 0 ..< 3 {
                let bytes = (0 ..< length + misalign).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                let slice = Array(bytes[misalign...])
                #expect(CRC32C.checksum(slice) == CRC32C.portableChecksum(slice), "length \(length) misalign \(misalign)")
            }
        }
        // Chaining: crc(a + b) == crc(b, seed: crc(a)).
        let a = Array("hello ".utf8), b = Array("world".utf8)
        #expect(CRC32C.checksum(b, seed: CRC32C.checksum(a)) == CRC32C.checksum(a + b))
    }
}

@Suite struct CodecTests {
    static let inputs: [(String, [UInt8])] = {
        var rng = SplitMix64(seed: 3)
        var corpus = SyslogCorpus(seed: 9)
        return [
            ("empty", []),
            ("one byte", [42]),
            ("incompressible", (0 ..< 70_000).map { _ in UInt8(truncatingIfNeeded: rng.next()) }),
            ("syslog", corpus.nextBatch(targetBytes: 65_536).payload),
            ("zeros", [UInt8](repeating: 0, count: 1 << 20)),
        ]
    }()

    @Test(arguments: WALCodec.allCases, 0 ..< inputs.count)
    func roundTrip(codec: WALCodec, index: Int) throws {
        let (name, input) = Self.inputs[index]
        let context = CodecContext()
        let compressed = try context.compress(input, codec: codec)
        let output = try context.decompress(compressed, codec: codec, originalLength: input.count)
        #expect(output == input, "\(codec) round trip of \(name): \(output.count) bytes back for \(input.count)")
        if name == "syslog" && codec != .none {
            #expect(compressed.count * 2 < input.count, "\(codec) compresses syslog text to \(compressed.count) of \(input.count)")
        }
    }

    @Test(arguments: [WALCodec.lz4, .zstd])
    func corruptInputIsAnErrorNotACrash(codec: WALCodec) throws {
        let context = CodecContext()
        let input = Self.inputs[3].1
        var compressed = try context.compress(input, codec: codec)
        for i in stride(from: 0, to: compressed.count, by: 97) { compressed[i] ^= 0x5A }
        #expect(throws: WALError.self) { _ = try context.decompress(compressed, codec: codec, originalLength: input.count) }
    }
}

@Suite struct BatchHeaderTests {
    @Test func encodeDecodeRoundTrip() throws {
        let header = BatchHeader(
            codec: .zstd, shard: 7, recordCount: 1234, baseSequence: 0x0102_0304_0506_0708,
            minTimestamp: -5, maxTimestamp: 1_800_000_000_123_456_789, producerID: 0xDEAD_BEEF,
            producerSequence: 99, uncompressedLength: 65536, storedLength: 12_000, payloadCRC: 0xCAFE_F00D)
        let bytes = header.encoded()
        #expect(bytes.count == 72)
        #expect(Array(bytes[0 ..< 4]) == Array("HYB2".utf8), "magic")
        #expect(bytes[4] == 2 && bytes[5] == 0, "version 2 little-endian")
        #expect(bytes[6] == 2, "codec zstd")
        var expected = header
        expected.headerCRC = CRC32C.checksum(Array(bytes[0 ..< 68]))
        #expect(try BatchHeader.decode(bytes).get() == expected)
    }

    @Test func everySingleBitFlipIsDetected() {
        let bytes = BatchHeader(codec: .lz4, shard: 1, recordCount: 3, baseSequence: 10, uncompressedLength: 100, storedLength: 50).encoded()
        for bit in 0 ..< bytes.count * 8 {
            var flipped = bytes
            flipped[bit / 8] ^= 1 << UInt8(bit % 8)
            guard case .failure = BatchHeader.decode(flipped) else {
                Issue.record("flip of bit \(bit) went undetected")
                continue
            }
        }
    }
}
