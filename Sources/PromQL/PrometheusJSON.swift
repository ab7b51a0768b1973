import WAL
/// The bodies of the Prometheus HTTP API's answers, written by hand so that their shape is
/// exactly Prometheus': `{"status":"success","data":…}` and
/// `{"status":"error","errorType":"…","error":"…"}`.
public enum PrometheusJSON {
    /// The answer to `/api/v1/query` and `/api/v1/query_range`.
    public static func success(_ result: QueryResult) -> String {
        var out = #"{"status":"success","data":{"resultType":""# + result.resultType + #"","result":"#
        switch result {
        case .scalar(let t, let v):
            out += point(t, v)
        case .vector(let samples):
            out += "[" + samples.map { #"{"metric":"# + labels($0.labels) + #","value":"# + point($0.timestamp, $0.value) + "}" }
                .joined(separator: ",") + "]"
        case .matrix(let series):
            out += "[" + series.map { s in
                #"{"metric":"# + labels(s.labels) + #","values":["# + s.points.map { point($0.timestamp, $0.value) }.joined(separator: ",") + "]}"
            }.joined(separator: ",") + "]"
        }
        return out + "}}"
    }

    /// The answer to `/api/v1/series`: a list of label sets.
    public static func success(series: [Labels]) -> String {
        #"{"status":"success","data":["# + series.map(labels).joined(separator: ",") + "]}"
    }

    /// The answer to `/api/v1/labels` and `/api/v1/label/<name>/values`: a list of strings.
    public static func success(strings: [String]) -> String {
        #"{"status":"success","data":["# + strings.map(RecordJSON.quoted).joined(separator: ",") + "]}"
    }

    /// An error answer.
    public static func failure(_ error: PromQLError) -> String {
        #"{"status":"error","errorType":"# + RecordJSON.quoted(error.kind.rawValue) + #","error":"# + RecordJSON.quoted(error.message) + "}"
    }

    static func point(_ t: Int64, _ v: Double) -> String {
        "[" + PrometheusFormat.time(t) + "," + RecordJSON.quoted(PrometheusFormat.value(v)) + "]"
    }

    static func labels(_ labels: Labels) -> String {
        "{" + labels.pairs.map { RecordJSON.quoted($0.name) + ":" + RecordJSON.quoted($0.value) }.joined(separator: ",") + "}"
    }
}
