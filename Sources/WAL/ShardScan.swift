import Platform
/// The state of one shard's log as a scan found it.
struct ShardScanResult {
    var segments: [SegmentSummary] = []
    var problems: [WALProblem] = []
    /// Producer id → highest producer sequence stored and when the producer was last seen: from
    /// the shard's saved marks (``ProducerMarksFile``) and the batches still in its segments.
    var producers: [UInt64: ProducerMark] = [:]
    /// The sequence the next batch will get.
    var nextSequence: UInt64 = 0
    /// The last segment, mapped writable, when scanning to repair and it can be continued.
    var active: SegmentFile?
}

/// Scans one shard directory. With `repair`, it also mends what it finds the way recovery
/// must: cuts a torn tail of the last segment and zeroes the rest, records damaged ranges in
/// quarantine.log, moves unreadable segments aside, removes empty segments of an interrupted
/// roll and finishes interrupted deletions. Without `repair` it changes nothing.
///
/// Memory does not grow with the log: one segment is mapped at a time and scanned pages are
/// released as the scan moves on.
func scanShard(layout: WALLayout, shard: Int, repair: Bool) throws(WALError) -> ShardScanResult {
    let directory = layout.shardDirectory(shard)
    var result = ShardScanResult()
    guard FileSystem.isDirectory(directory) else {
        if repair { try io { () throws(SystemError) in try FileSystem.makeDirectory(directory) } }
        return result
    }
    var names = try io { () throws(SystemError) in try FileSystem.list(directory) }
    if repair {
        for name in names where name.hasSuffix(".deleting") || name.hasSuffix(".tmp") {
            try io { () throws(SystemError) in try FileSystem.remove(directory + "/" + name) }
        }
        names.removeAll { $0.hasSuffix(".deleting") || $0.hasSuffix(".tmp") }
    }
    let quarantine = QuarantineLog(path: layout.quarantineLogPath(shard: shard))
    let known = try quarantine.entries()
    let bases = names.compactMap(WALLayout.baseSequence(ofSegmentNamed:)).sorted()
    // Marks found in segments, with the index of the segment that carried them: a producer was
    // last seen no later than when that segment was closed.
    var found: [UInt64: (sequence: UInt64, segment: Int)] = [:]
    func note(_ h: BatchHeader, segment: Int) {
        guard h.producerID != 0, h.producerSequence >= found[h.producerID]?.sequence ?? 0 else { return }
        found[h.producerID] = (h.producerSequence, segment)
    }

    for (index, base) in bases.enumerated() {
        let isLast = index == bases.count - 1
        let path = layout.segmentPath(shard: shard, base: base)
        let name = WALLayout.segmentName(base: base)
        result.nextSequence = max(result.nextSequence, base)
        let fileSize = FileSystem.attributes(path)?.size ?? 0
        if fileSize < SegmentHeader.size {
            // Too short to hold a header: an interrupted create, or a file cut short.
            try setAside(path: path, empty: fileSize == 0, shard: shard, layout: layout, repair: repair, into: &result)
            continue
        }
        let file = try SegmentFile.open(path: path, writable: repair && isLast)
        file.adviseSequential()

        guard let header = file.header(), header.shard == UInt32(shard), header.baseSequence == base else {
            let empty = isLast && file.isZero(from: 0)
            // Its batches may still carry sequences and producer marks: never hand those out again.
            let at = result.segments.count
            _ = file.scanBatches(verifyPayload: true) { item in
                guard case .batch(_, let h) = item else { return }
                result.nextSequence = max(result.nextSequence, h.endSequence)
                note(h, segment: at)
            }
            file.release(offset: 0, length: file.size)
            try setAside(path: path, empty: empty, shard: shard, layout: layout, repair: repair, into: &result)
            continue
        }

        var summary = SegmentSummary(path: path, baseSequence: base, createdNanoseconds: header.createdNanoseconds)
        var problems: [WALProblem] = []
        let at = result.segments.count
        let end = file.scanBatches(verifyPayload: true) { item in
            switch item {
            case .batch(_, let h):
                summary.add(h)
                note(h, segment: at)
            case .damage(let offset, let length, let reason):
                problems.append(WALProblem(
                    path: path, offset: offset, length: length, reason: reason.rawValue,
                    action: repair ? .quarantined : .found, known: known.contains(QuarantineLog.key(name, offset))))
            }
        }
        summary.dataEnd = end.dataEnd

        if let tail = end.tail {
            let length = file.size - tail.offset
            if isLast {
                problems.append(WALProblem(
                    path: path, offset: tail.offset, length: length, reason: "torn tail: \(tail.reason.rawValue)",
                    action: repair ? .truncated : .found))
                if repair { try file.zeroTail(from: tail.offset) }
            } else {
                problems.append(WALProblem(
                    path: path, offset: tail.offset, length: length, reason: tail.reason.rawValue,
                    action: repair ? .quarantined : .found,
                    known: known.contains(QuarantineLog.key(name, tail.offset))))
            }
        } else if isLast && !file.isZero(from: end.dataEnd) {
            problems.append(WALProblem(
                path: path, offset: end.dataEnd, length: file.size - end.dataEnd,
                reason: "bytes after the last batch (an interrupted write)", action: repair ? .truncated : .found))
            if repair { try file.zeroTail(from: end.dataEnd) }
        }
        file.release(offset: 0, length: file.size)
        if repair {
            for p in problems where p.action == .quarantined && !p.known {
                try quarantine.record(segment: name, offset: p.offset, length: p.length, reason: p.reason)
            }
        }
        result.problems += problems
        result.segments.append(summary)
        result.nextSequence = max(result.nextSequence, summary.endSequence)
        if repair && isLast { result.active = file }
    }
    result.producers = try savedMarks(layout: layout, shard: shard, repair: repair, into: &result)
    let now = WallClock.nanoseconds()
    for (id, mark) in found {
        // Closed when the next segment was created; the last one is still being written.
        let next = mark.segment + 1
        let closed = next < result.segments.count ? result.segments[next].createdNanoseconds : now
        let seen = ProducerMark(sequence: mark.sequence, lastSeen: closed / 1_000_000_000)
        result.producers[id] = result.producers[id].map { $0.merged(with: seen) } ?? seen
    }
    return result
}

/// The marks saved in the shard's producers file. A damaged file is reported (and, when
/// repairing, set aside as `producers.damaged`) and recovery goes on with the marks the
/// segments carry.
private func savedMarks(
    layout: WALLayout, shard: Int, repair: Bool, into result: inout ShardScanResult
) throws(WALError) -> [UInt64: ProducerMark] {
    let file = ProducerMarksFile(path: layout.producerMarksPath(shard: shard))
    do throws(WALError) {
        return try file.read()
    } catch where error.code == .corruptMetadata {
        result.problems.append(WALProblem(
            path: file.path, offset: 0, length: FileSystem.attributes(file.path)?.size ?? 0, reason: error.message,
            action: repair ? .segmentMovedAside : .found))
        if repair { try io { () throws(SystemError) in try FileSystem.rename(file.path, file.path + ".damaged") } }
        return [:]
    }
}

/// Handles a segment whose header is unreadable: an empty file left by an interrupted roll
/// is removed; anything else is moved into the shard's quarantine directory intact.
private func setAside(
    path: String, empty: Bool, shard: Int, layout: WALLayout, repair: Bool, into result: inout ShardScanResult
) throws(WALError) {
    let size = FileSystem.attributes(path)?.size ?? 0
    if empty {
        result.problems.append(WALProblem(
            path: path, offset: 0, length: size, reason: "empty segment left by an interrupted roll",
            action: repair ? .removedEmpty : .found))
        if repair { try io { () throws(SystemError) in try FileSystem.remove(path) } }
        return
    }
    result.problems.append(WALProblem(
        path: path, offset: 0, length: size, reason: "segment header is damaged, short or names another shard",
        action: repair ? .segmentMovedAside : .found))
    guard repair else { return }
    let directory = layout.quarantineDirectory(shard: shard)
    try io { () throws(SystemError) in try FileSystem.makeDirectory(directory) }
    var target = directory + "/" + FileSystem.name(of: path)
    var n = 1
    while FileSystem.exists(target) {
        target = directory + "/" + FileSystem.name(of: path) + ".\(n)"
        n += 1
    }
    try io { () throws(SystemError) in try FileSystem.rename(path, target) }
    try io { () throws(SystemError) in try FileSystem.syncDirectory(layout.shardDirectory(shard)) }
}

/// The shard's record of quarantined byte ranges: one line per range,
/// `segment=<name> offset=<n> length=<n> reason=<text>`. Readers skip these ranges by
/// resynchronising on the next valid batch; the bytes themselves are kept.
struct QuarantineLog {
    let path: String

    static func key(_ segment: String, _ offset: Int) -> String { "\(segment)@\(offset)" }

    func entries() throws(WALError) -> Set<String> {
        guard let bytes = try io({ () throws(SystemError) in try FileSystem.read(path) }) else { return [] }
        var keys: Set<String> = []
        for line in String(decoding: bytes, as: UTF8.self).split(separator: "\n") {
            var segment: Substring?
            var offset: Int?
            for part in line.split(separator: " ") {
                if part.hasPrefix("segment=") { segment = part.dropFirst(8) }
                if part.hasPrefix("offset=") { offset = Int(part.dropFirst(7)) }
            }
            if let segment, let offset { keys.insert(Self.key(String(segment), offset)) }
        }
        return keys
    }

    func record(segment: String, offset: Int, length: Int, reason: String) throws(WALError) {
        let line = "segment=\(segment) offset=\(offset) length=\(length) reason=\(reason)\n"
        try io { () throws(SystemError) in try FileSystem.append(path, Array(line.utf8)) }
    }
}
