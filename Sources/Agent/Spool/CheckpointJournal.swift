import Glibc
import Platform

/// The checkpoints of one input (one producer id), each kept with the producer sequence of the
/// batch that ends with its records, in `<spool>/checkpoints/<producer>`.
///
/// An input writes the entry just before it spools the batch: "everything read up to this
/// checkpoint is in batch `sequence`". After a restart the input resumes from the newest entry
/// whose batch the spool holds (sequence at or below the spool's mark for the producer): a
/// crash between the two writes reads that batch again rather than losing or doubling it. The
/// task reports the newest entry the node has acknowledged.
///
/// Lines are `sequence<TAB>key=value&key=value` with `%`-escapes, appended without fsync: a
/// process crash loses nothing (the page cache keeps it); a power loss may lose the newest lines,
/// and then the input reads again what those batches held (at least once, never lost). The
/// first line may be `acknowledged<TAB>sequence`. ``compact()`` rewrites the file (synced)
/// from the newest acknowledged entry on, so it stays small. Not thread-safe: one owner.
final class CheckpointJournal {
    struct Entry: Equatable {
        var sequence: UInt64
        var checkpoint: [String: String]
    }

    let path: String
    /// Oldest first.
    private(set) var entries: [Entry]
    /// The highest producer sequence the node acknowledged.
    private(set) var acknowledged: UInt64 = 0
    private var descriptor: Int32 = -1

    /// Opens the journal at `path`, keeping the entries whose batch the spool holds (sequence at
    /// or below `spooled`, the spool's mark for the producer); a damaged or torn line ends the
    /// reading.
    init(path: String, spooled: UInt64) throws(SystemError) {
        self.path = path
        entries = []
        if let bytes = try FileSystem.read(path) {
            for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
                if line.starts(with: Self.acknowledgedTag), let value = UInt64(String(decoding: line.dropFirst(Self.acknowledgedTag.count), as: UTF8.self)) {
                    acknowledged = min(value, spooled)
                    continue
                }
                guard let entry = Self.parse(line), entry.sequence <= spooled else { break }
                entries.append(entry)
            }
        }
        try rewrite()
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    /// The checkpoint to resume reading from: the newest entry.
    var latest: [String: String]? { entries.last?.checkpoint }

    /// The newest checkpoint whose records are all acknowledged.
    var acknowledgedCheckpoint: [String: String]? { entries.last { $0.sequence <= acknowledged }?.checkpoint }

    /// The node acknowledged batch `sequence` (and, batches being sent in order, those before).
    func acknowledge(_ sequence: UInt64) { acknowledged = max(acknowledged, sequence) }

    /// Appends an entry; sequences never go backwards.
    func append(sequence: UInt64, checkpoint: [String: String]) throws(SystemError) {
        let entry = Entry(sequence: sequence, checkpoint: checkpoint)
        if let last = entries.last, last == entry { return }
        entries.append(entry)
        try write(Self.line(entry))
    }

    /// Drops the entries the newest acknowledged one supersedes and rewrites the file, synced.
    func compact() throws(SystemError) {
        guard let keep = entries.lastIndex(where: { $0.sequence <= acknowledged }), keep > 0 else { return }
        entries.removeFirst(keep)
        try rewrite()
    }

    private static let acknowledgedTag = Array("acknowledged\t".utf8)

    private func rewrite() throws(SystemError) {
        try FileSystem.writeAtomically(path, Self.acknowledgedTag + Array("\(acknowledged)\n".utf8) + entries.flatMap(Self.line))
        if descriptor >= 0 { close(descriptor) }
        descriptor = unsafe open(path, O_WRONLY | O_APPEND | O_CLOEXEC)
        guard descriptor >= 0 else { throw .lastError("cannot open the checkpoint journal", path: path) }
    }

    private func write(_ bytes: [UInt8]) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let n = unsafe bytes.withUnsafeBytes { unsafe Glibc.write(descriptor, $0.baseAddress! + done, $0.count - done) }
            if n < 0 {
                if errno == EINTR { continue }
                throw .lastError("cannot write the checkpoint journal", path: path)
            }
            done += n
        }
    }

    static func line(_ entry: Entry) -> [UInt8] {
        let pairs = entry.checkpoint.sorted { $0.key < $1.key }.map { escape($0.key) + "=" + escape($0.value) }
        return Array("\(entry.sequence)\t\(pairs.joined(separator: "&"))\n".utf8)
    }

    static func parse(_ line: ArraySlice<UInt8>) -> Entry? {
        let text = String(decoding: line, as: UTF8.self)
        let parts = text.split(separator: "\t", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let sequence = UInt64(parts[0]) else { return nil }
        var checkpoint: [String: String] = [:]
        for pair in parts[1].split(separator: "&") {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2, let key = unescape(kv[0]), let value = unescape(kv[1]) else { return nil }
            checkpoint[key] = value
        }
        return Entry(sequence: sequence, checkpoint: checkpoint)
    }

    private static let special: Set<UInt8> = [UInt8(ascii: "%"), UInt8(ascii: "="), UInt8(ascii: "&"), 9, 10, 13]

    static func escape(_ text: String) -> String {
        var bytes: [UInt8] = []
        for byte in text.utf8 {
            if special.contains(byte) {
                bytes += Array(("%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)).utf8)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func unescape(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8).makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard let high = iterator.next(), let low = iterator.next(),
                  let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
            else { return nil }
            bytes.append(value)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
