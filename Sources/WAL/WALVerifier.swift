import Platform
/// Offline checks of a data directory (the `hypha wal verify` and `inspect` commands).
public enum WALVerifier {
    /// Scans every shard, verifying both CRCs of every batch, and changes nothing.
    ///
    /// Problems already recorded in a shard's quarantine.log by an earlier recovery come back
    /// with `known` set; ``WALScanReport/newProblems`` holds the rest.
    public static func scan(dataDirectory: String) throws(WALError) -> WALScanReport {
        let layout = WALLayout(dataDirectory: dataDirectory)
        guard let shardCount = try layout.recordedShardCount() else {
            throw WALError(.invalidArgument, "no write-ahead log here (missing \(layout.walDirectory)/meta)", path: dataDirectory)
        }
        var report = WALScanReport(shards: [], problems: [])
        for shard in 0 ..< shardCount {
            let scan = try scanShard(layout: layout, shard: shard, repair: false)
            report.shards.append(scan.segments)
            report.problems += scan.problems
        }
        return report
    }
}
