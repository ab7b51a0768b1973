import ArgumentParser
import Foundation
import Platform
import Query
import WAL

struct QueryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "query",
        abstract: "Search log records, count them by value, draw their histogram, or evaluate PromQL over metric samples.",
        discussion: """
            Reads a data directory (--data, also while a node writes it) or asks a node (--server). \
            EXPR is the filter language of docs/query.md, for example:

              host:web-01 severity>=warning "connection reset"
              (app:nginx or app:haproxy) field.status:5* not host:canary-*
              ~"timeout after \\d+ms"

            Adjacent terms are joined by 'and'; 'not' binds tightest, then 'and', then 'or'. A bare \
            word or "quoted phrase" is a case-sensitive substring of the message. severity>=warning \
            means warning or worse (lower numbers are more severe). Values take * wildcards; ~"re" is \
            a POSIX extended regular expression (with \\d, \\w, \\s).

            Times (--from, --to): RFC 3339 (2026-12-02T07:55:31Z, with an offset or a fraction), a \
            date, now, now-2h or -15m (units s, m, h, d). logs, top and histogram search log records             only; metrics evaluates PromQL (docs/promql.md) over metric samples only.
            """,
        subcommands: [QueryLogs.self, QueryTop.self, QueryHistogram.self, QueryMetrics.self]
    )
}

/// Where a query reads and which time range it covers.
struct QuerySource: ParsableArguments {
    @Option(name: .customLong("data"), help: "Read this data directory's WAL (default hypha-data when --server is not given).")
    var directory: String?
    @Option(help: ArgumentHelp("Ask the node at this HTTP address instead (http://host:7401).", valueName: "url"))
    var server: String?
    @Option(help: ArgumentHelp("Earliest record time (default: the beginning).", valueName: "time"))
    var from: String?
    @Option(help: ArgumentHelp("Latest record time (default: now).", valueName: "time"))
    var to: String?

    func validate() throws {
        if directory != nil, server != nil { throw ValidationError("give either --data or --server, not both") }
        let now = WallClock.nanoseconds()
        for case let text? in [from, to] {
            do { _ = try QueryTime.parse(text, now: now) } catch { throw ValidationError("\(error)") }
        }
    }

    /// The query for `expression` over the range, times resolved against now.
    func query(_ expression: String) throws -> LogQuery {
        let filter: LogFilter
        do { filter = try LogFilter(expression) } catch {
            throw ValidationError("EXPR \(error)\n  \(expression)\n  \(String(repeating: " ", count: max(0, error.column - 1)))^")
        }
        let now = WallClock.nanoseconds()
        return LogQuery(
            filter: filter, from: try from.map { try QueryTime.parse($0, now: now) } ?? .min,
            to: try to.map { try QueryTime.parse($0, now: now) } ?? now)
    }

    var scanner: LogScanner { LogScanner(dataDirectory: directory ?? "hypha-data") }

    /// The query parameters for the node's API.
    func parameters(_ expression: String) -> [(String, String)] {
        var out = [("query", expression)]
        if let from { out.append(("from", from)) }
        if let to { out.append(("to", to)) }
        return out
    }
}

enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case text
    case json
}

struct QueryLogs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logs",
        abstract: "Print the log records matching EXPR, newest first.",
        discussion: """
            Text output, one line per record: TIME HOST APP[SEVERITY]: MESSAGE key=value …, the time \
            in UTC to the millisecond (2026-12-02T07:55:31.123Z web-01 nginx[warning]: GET /api 503 \
            status=503). JSON output: one object per line, as hypha wal dump prints them. Records are \
            merged across shards by timestamp.
            """
    )
    @OptionGroup var source: QuerySource
    @Option(help: "Print at most this many records.") var limit = 100
    @Option(help: "text or json.") var format: OutputFormat = .text
    @Flag(help: "Oldest first.") var reverse = false
    @Flag(help: "Print what the scan read and skipped, and its speed, on standard error (--data only).")
    var statistics = false
    @Argument(help: "The filter (default: every log record).") var expression: String = ""

    func validate() throws {
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more") }
    }

    func run() async throws {
        let matches: [LogMatch]
        if let server = source.server {
            var parameters = source.parameters(expression) + [("limit", "\(limit)")]
            if reverse { parameters.append(("reverse", "true")) }
            matches = try await RemoteQuery(server: server).logs(parameters)
        } else {
            let query = try source.query(expression)
            let started = MonotonicClock.nanoseconds()
            let result = try await source.scanner.search(query, order: reverse ? .oldestFirst : .newestFirst, limit: limit)
            matches = result.records
            if statistics { Self.report(result.statistics, seconds: Double(MonotonicClock.nanoseconds() - started) / 1e9) }
        }
        var output = OutputBuffer()
        for match in matches {
            output.write(format == .json
                ? RecordJSON.line(shard: match.shard, sequence: match.sequence, record: .log(match.record))
                : RecordText.line(match.record))
        }
        output.flush()
    }
}

extension QueryLogs {
    /// `--statistics`: counts and speed on standard error.
    static func report(_ s: ScanStatistics, seconds: Double) {
        let line = "shards \(s.shards) batches read \(s.batchesRead) skipped \(s.batchesSkipped) ruled out \(s.batchesRuledOut) records scanned \(s.recordsScanned) "
            + "matched \(s.recordsMatched) bytes \(s.bytesScanned) in " + String(format: "%.3f s (%.0f MB/s uncompressed)\n", seconds, Double(s.bytesScanned) / max(seconds, 1e-9) / 1e6)
        FileHandle.standardError.write(Data(line.utf8))
    }
}

struct QueryTop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "top",
        abstract: "Count the log records matching EXPR per value of a field, most frequent first.",
        discussion: """
            Prints each value with its count, its share of the matching records and its rate per \
            second over the window (--from to --to; without --from, from the earliest match). \
            Records without the field count as (none).
            """
    )
    @OptionGroup var source: QuerySource
    @Option(help: ArgumentHelp("host, app, severity or field.NAME.", valueName: "field")) var by: String
    @Option(help: "Print at most this many values.") var limit = 10
    @Option(help: "text or json.") var format: OutputFormat = .text
    @Argument(help: "The filter (default: every log record).") var expression: String = ""

    func validate() throws {
        guard TopField(by) != nil else { throw ValidationError("--by must be host, app, severity or field.NAME, not '\(by)'") }
        guard limit >= 0 else { throw ValidationError("--limit must be 0 or more") }
    }

    func run() async throws {
        let top: TopResult
        if let server = source.server {
            top = try await RemoteQuery(server: server).top(source.parameters(expression) + [("by", by), ("limit", "\(limit)")])
        } else {
            top = try await source.scanner.top(try source.query(expression), by: TopField(by)!, limit: limit)
        }
        if format == .json {
            print(QueryJSON.top(top, by: by))
            return
        }
        let width = max(5, top.rows.map(\.value.count).max() ?? 0)
        print(pad("VALUE", width) + "  " + left("COUNT", 10) + "  " + left("SHARE", 7) + "  " + left("PER SEC", 10))
        for row in top.rows {
            print(pad(row.value, width) + "  " + left("\(row.count)", 10) + "  "
                + left(String(format: "%.1f%%", row.share * 100), 7) + "  " + left(String(format: "%.3f", row.perSecond), 10))
        }
        print("\(top.total) matching records, \(top.distinct) distinct values, over \(String(format: "%.0f", top.windowSeconds)) s")
    }
}

struct QueryHistogram: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "histogram",
        abstract: "Count the log records matching EXPR per time bucket, as a bar chart.",
        discussion: """
            --bucket gives a width (30s, 1m, 1h, 1d; buckets start at whole multiples of it in UTC); \
            --buckets a count spread over the range (default 30). Empty buckets are shown.
            """
    )
    @OptionGroup var source: QuerySource
    @Option(help: ArgumentHelp("Bucket width: a number and s, m, h or d.", valueName: "width")) var bucket: String?
    @Option(help: "Number of buckets over the range (when --bucket is not given).") var buckets = 30
    @Option(help: "text or json.") var format: OutputFormat = .text
    @Argument(help: "The filter (default: every log record).") var expression: String = ""

    func validate() throws {
        if let bucket, (try? QueryTime.parse("-" + bucket, now: 0)).map({ $0 < 0 }) != true {
            throw ValidationError("--bucket must be a number and s, m, h or d (30s, 1m), not '\(bucket)'")
        }
        guard (1 ... 10_000).contains(buckets) else { throw ValidationError("--buckets must be between 1 and 10000") }
    }

    func run() async throws {
        let result: HistogramResult
        if let server = source.server {
            let split = bucket.map { [("bucket", $0)] } ?? [("buckets", "\(buckets)")]
            result = try await RemoteQuery(server: server).histogram(source.parameters(expression) + split)
        } else {
            let division: HistogramBuckets = try bucket.map { .width(-(try QueryTime.parse("-" + $0, now: 0))) } ?? .count(buckets)
            result = try await source.scanner.histogram(try source.query(expression), buckets: division)
        }
        if format == .json {
            print(QueryJSON.histogram(result))
            return
        }
        let most = max(1, result.buckets.map(\.count).max() ?? 1)
        let digits = "\(most)".count
        for b in result.buckets {
            let bar = String(repeating: "█", count: Int((Double(b.count) / Double(most) * 50).rounded(.up)))
            print(RecordText.time(b.start) + "  " + left("\(b.count)", digits) + " " + bar)
        }
        print("\(result.total) matching records in \(result.buckets.count) buckets of \(RecordText.duration(result.width))")
    }
}

private func pad(_ s: String, _ width: Int) -> String { s + String(repeating: " ", count: max(0, width - s.count)) }
private func left(_ s: String, _ width: Int) -> String { String(repeating: " ", count: max(0, width - s.count)) + s }
