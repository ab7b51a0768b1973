import Platform
import WAL

/// Takes the matching log records of one shard's scan.
protocol RecordCollector: SendableMetatype {
    /// Whether the records of a batch with this header could change the answer; `false`
    /// skips the batch without decompressing it. Asked after the time-range check.
    func wants(_ header: BatchHeader) -> Bool
    /// Whether segments should be visited newest first (a newest-first bounded search then
    /// skips old batches once its answer is full).
    var prefersNewest: Bool { get }
    /// Takes one matching record.
    mutating func collect(shard: Int, sequence: UInt64, body: ByteView, layout: LogLayout)
}

extension RecordCollector {
    func wants(_ header: BatchHeader) -> Bool { true }
    var prefersNewest: Bool { false }
}

/// Scans one shard with one reader on the calling thread: batches outside the time range are
/// skipped from their headers, the rest decompressed once and their log records tested in
/// place by the matcher.
///
/// Segments deleted by retention while the scan runs are skipped (an open mapping stays
/// valid; a file gone before it was opened is passed over), and batches a writer has not
/// finished are not seen (``WALReader`` reads only complete batches).
struct ShardPass {
    let reader: WALReader
    let shard: Int
    let query: LogQuery
    let matcher: FilterMatcher
    let control: ScanControl
    /// ``FilterExpression/requiredPhrases`` of the query's filter.
    let requiredPhrases: [[UInt8]]

    /// Runs the scan into `collector`.
    /// - Throws: ``LogQueryError`` when the scan was stopped (time limit, another shard's
    ///   failure), or the WAL's error.
    func run<C: RecordCollector>(into collector: inout C) throws -> ScanStatistics {
        var statistics = ScanStatistics()
        statistics.shards = 1
        let segments = try reader.layout.segmentFiles(shard: shard)
        let order = collector.prefersNewest ? Array(segments.indices.reversed()) : Array(segments.indices)
        for index in order {
            let end = index + 1 < segments.count ? segments[index + 1].base : .max
            try reader.forEachBatch(shard: shard, fromSequence: segments[index].base) { batch in
                let header = batch.header
                guard header.baseSequence < end else { return false }
                try control.check()
                guard header.recordCount > 0 else { return true }
                guard header.maxTimestamp >= query.from, header.minTimestamp <= query.to, collector.wants(header) else {
                    statistics.batchesSkipped += 1
                    return true
                }
                statistics.batchesRead += 1
                statistics.bytesScanned += Int(header.uncompressedLength)
                try reader.withPayload(of: batch) { payload in
                    // One memmem over the whole payload rules out most batches of a rare phrase.
                    guard requiredPhrases.allSatisfy({ payload.firstIndex(of: $0) != nil }) else {
                        statistics.batchesRuledOut += 1
                        return
                    }
                    scan(payload, base: header.baseSequence, into: &collector, statistics: &statistics)
                }
                return true
            }
        }
        return statistics
    }

    /// Tests every record of one payload.
    private func scan<C: RecordCollector>(
        _ payload: ByteView, base: UInt64, into collector: inout C, statistics: inout ScanStatistics
    ) {
        var offset = 0
        var sequence = base
        while offset < payload.count {
            var reader = ByteReader(payload, offset: offset)
            guard let length = reader.varint(), length > 0, length <= UInt64(reader.remaining) else { return }
            let body = payload[reader.offset ..< reader.offset + Int(length)]
            offset = reader.offset + Int(length)
            defer { sequence += 1 }
            statistics.recordsScanned += 1
            guard let layout = LogLayout.parse(body), query.contains(layout.timestamp), matcher.matches(body, layout) else {
                continue
            }
            statistics.recordsMatched += 1
            collector.collect(shard: shard, sequence: sequence, body: body, layout: layout)
        }
    }
}
