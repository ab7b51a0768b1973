@testable import Ingest
import Logging
import Platform
import Testing

/// The source bounds (`max_sources`, `source_expiry_s`) hold in the ingest path: in each event
/// loop's table and in the statistics.
@Suite struct SourceBoundsTests {
    private static let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Gives the sources `first ..< first + count` a slot in `table`; returns the slots.
    private func admit(_ count: Int, from first: Int = 1, into table: inout SourceTable) -> [Int] {
        (first ..< first + count).map { i in
            ByteView.with("host-\(i)") { table.slot(hash: UInt64(i), name: $0, listener: .json) }
        }
    }

    @Test func aLoopTableKeepsAtMostItsLimitAndMakesRoomAfterADrain() {
        var table = SourceTable(limit: 3)
        let slots = admit(10, into: &table)
        #expect(table.count == 3, "sources with a slot: \(table.count), expected the limit 3")
        #expect(slots == [1, 2, 3, 0, 0, 0, 0, 0, 0, 0], "past the limit, sources share the overflow slot 0: \(slots)")
        for slot in slots { table.count(slot, records: 1, bytes: 10, at: 1) }
        let drained = table.drain()
        #expect(drained.count == 4 && drained[0]?.records == 7, "three sources and the overflow with 7 records: \(drained.mapValues(\.records))")
        let later = admit(2, from: 20, into: &table)
        #expect(later == [1, 2], "a full table is cleared at a drain, so new sources get slots: \(later)")
    }

    @Test func eachLoopsTableFollowsTheStatisticsBound() {
        let stats = IngestStats(shardCount: 1, maxSources: 3, sourceExpirySeconds: 2)
        var sink = BatchingSink(
            writers: [], gate: InFlightGate(shardCount: 0, maxTotalBytes: 1, maxShardBytes: 1), stats: stats, limits: IngestLimits(),
            pool: PayloadPool(limit: 1, capacity: 64), logger: Self.logger)
        #expect(sink.sources.limit == 3, "the loop's table limit is \(sink.sources.limit), expected max_sources 3")
        for i in 0 ..< 10 {
            sink.peer = Array("peer-\(i)".utf8)
            ByteView.with("bad input") { sink.reject("test", sample: $0) }
        }
        #expect(sink.sources.count == 3, "the loop tracks \(sink.sources.count) sources, expected 3")
        sink.publish()
        let published = stats.snapshot.sources.values.map(\.name).sorted()
        #expect(published == ["peer-0", "peer-1", "peer-2"], "the statistics keep the three named sources, not the overflow: \(published)")
    }

    @Test func theStatisticsKeepAtMostMaxSourcesAndForgetSilentOnes() {
        let stats = IngestStats(shardCount: 1, maxSources: 3, sourceExpirySeconds: 2)
        let second: Int64 = 1_000_000_000
        var sources: [UInt64: SourceStats] = [:]
        for i in 1 ... 10 {
            var source = SourceStats(name: "host-\(i)", listener: .json)
            source.records = 1
            source.lastSeen = 100 * second
            sources[UInt64(i)] = source
        }
        stats.publish(listeners: [], sources: sources)
        #expect(stats.snapshot.sources.count == 3, "kept \(stats.snapshot.sources.count) sources, expected max_sources 3")
        stats.tick(shardTotals: [(0, 0)], now: 102 * second, seconds: 1)
        #expect(stats.snapshot.sources.count == 3, "silent exactly the expiry (2 s): kept, \(stats.snapshot.sources.count)")
        stats.tick(shardTotals: [(0, 0)], now: 103 * second, seconds: 1)
        #expect(stats.snapshot.sources.isEmpty, "silent past source_expiry_s: forgotten, \(stats.snapshot.sources.count) left")
    }
}
