import WAL

/// The JSON answers of the `/api/v1/logs/…` endpoints, which `hypha query --format json` and
/// `--server` share (docs/query.md, "HTTP API"). Records are the objects of ``RecordJSON``.
public enum QueryJSON {
    /// `{"records":[…],"truncated":false,"statistics":{…}}`.
    public static func search(_ result: LogSearchResult) -> String {
        var out = "{\"records\":["
        for (i, match) in result.records.enumerated() {
            if i > 0 { out += "," }
            out += RecordJSON.line(shard: match.shard, sequence: match.sequence, record: .log(match.record))
        }
        return out + "],\"truncated\":\(result.truncated),\"statistics\":" + statistics(result.statistics) + "}"
    }

    /// `{"by":"host","total":…,"distinct":…,"windowSeconds":…,"values":[{"value":…,"count":…,"share":…,"perSecond":…}],"statistics":{…}}`.
    public static func top(_ result: TopResult, by field: String) -> String {
        let values = result.rows.map {
            "{\"value\":\(RecordJSON.quoted($0.value)),\"count\":\($0.count),\"share\":\(RecordJSON.number($0.share)),\"perSecond\":\(RecordJSON.number($0.perSecond))}"
        }
        return "{\"by\":\(RecordJSON.quoted(field)),\"total\":\(result.total),\"distinct\":\(result.distinct),"
            + "\"windowSeconds\":\(RecordJSON.number(result.windowSeconds)),\"values\":[\(values.joined(separator: ","))],"
            + "\"statistics\":\(statistics(result.statistics))}"
    }

    /// `{"width":…,"total":…,"buckets":[{"start":…,"time":"…","count":…}],"statistics":{…}}`.
    public static func histogram(_ result: HistogramResult) -> String {
        let buckets = result.buckets.map { "{\"start\":\($0.start),\"time\":\"\(RecordJSON.rfc3339($0.start))\",\"count\":\($0.count)}" }
        return "{\"width\":\(result.width),\"total\":\(result.total),\"buckets\":[\(buckets.joined(separator: ","))],"
            + "\"statistics\":\(statistics(result.statistics))}"
    }

    static func statistics(_ s: ScanStatistics) -> String {
        "{\"shards\":\(s.shards),\"batchesRead\":\(s.batchesRead),\"batchesSkipped\":\(s.batchesSkipped),\"batchesRuledOut\":\(s.batchesRuledOut),"
            + "\"recordsScanned\":\(s.recordsScanned),\"recordsMatched\":\(s.recordsMatched),\"bytesScanned\":\(s.bytesScanned)}"
    }
}
