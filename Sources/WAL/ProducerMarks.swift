import Platform

/// A producer's high-water mark: the highest producer sequence stored, and when the producer
/// was last seen (seconds since the epoch).
public struct ProducerMark: Sendable, Equatable {
    public var sequence: UInt64
    public var lastSeen: Int64

    public init(sequence: UInt64, lastSeen: Int64) {
        self.sequence = sequence
        self.lastSeen = lastSeen
    }

    /// The later of two marks of one producer.
    func merged(with other: ProducerMark) -> ProducerMark {
        ProducerMark(sequence: max(sequence, other.sequence), lastSeen: max(lastSeen, other.lastSeen))
    }
}

/// The shard's saved producer high-water marks (`shard-NNNN/producers`), so that retention
/// deleting the segments that carried a producer's batches does not let a resend of them be
/// written again (docs/wal-format.md, section 11.1; docs/protocol.md, section 10.3).
///
/// Text, one producer per line, then a checksum line:
/// ```
/// hypha-producers 1
/// <producer id, 16 hex digits> <sequence> <last seen, unix seconds>
/// crc32c <8 hex digits of the CRC32C of every byte before this line>
/// ```
/// Written whole through a temporary file, a rename and a directory sync before retention
/// deletes anything; a mark not seen for its expiry is left out then.
struct ProducerMarksFile {
    let path: String

    static let header = "hypha-producers 1"

    /// The marks saved, `[:]` when there is no file.
    /// - Throws: ``WALError/Code/corruptMetadata`` when the file is damaged (the caller reports
    ///   it and goes on with the marks the segments carry).
    func read() throws(WALError) -> [UInt64: ProducerMark] {
        guard let bytes = try io({ () throws(SystemError) in try FileSystem.read(path) }) else { return [:] }
        func damaged(_ why: String) -> WALError { WALError(.corruptMetadata, "producer marks file is damaged: \(why)", path: path) }
        // The checksum line is the last one; it covers every byte before it.
        let content = bytes.last == UInt8(ascii: "\n") ? bytes.dropLast() : bytes[...]
        let bodyEnd = (content.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
        let checksumLine = String(decoding: content[bodyEnd...], as: UTF8.self)
        guard checksumLine.hasPrefix("crc32c "), let stored = UInt32(checksumLine.dropFirst(7), radix: 16) else {
            throw damaged("no checksum line")
        }
        guard stored == CRC32C.checksum(bytes[0 ..< bodyEnd]) else { throw damaged("checksum mismatch") }
        var lines = String(decoding: bytes[0 ..< bodyEnd], as: UTF8.self).split(separator: "\n")
        guard lines.first == Substring(Self.header) else { throw damaged("unknown format") }
        lines.removeFirst()
        var marks: [UInt64: ProducerMark] = [:]
        for line in lines {
            let parts = line.split(separator: " ")
            guard parts.count == 3, let id = UInt64(parts[0], radix: 16), let sequence = UInt64(parts[1]),
                let seen = Int64(parts[2])
            else { throw damaged("line '\(line.prefix(80))'") }
            marks[id] = ProducerMark(sequence: sequence, lastSeen: seen)
        }
        return marks
    }

    /// Saves `marks` (sorted by producer id) atomically.
    func write(_ marks: [UInt64: ProducerMark]) throws(WALError) {
        var text = Self.header + "\n"
        for (id, mark) in marks.sorted(by: { $0.key < $1.key }) {
            let hex = String(id, radix: 16)
            text += String(repeating: "0", count: 16 - hex.count) + hex + " \(mark.sequence) \(mark.lastSeen)\n"
        }
        var bytes = Array(text.utf8)
        let crc = String(CRC32C.checksum(bytes), radix: 16)
        bytes += Array(("crc32c " + String(repeating: "0", count: 8 - crc.count) + crc + "\n").utf8)
        try io { () throws(SystemError) in try FileSystem.writeAtomically(path, bytes) }
    }
}
