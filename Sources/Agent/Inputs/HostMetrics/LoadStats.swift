import Ingest
import Platform

/// /proc/loadavg → `node_load1`, `node_load5`, `node_load15`.
enum LoadStats {
    static func emit(_ loadavg: ByteView, writer: inout MetricWriter, into sink: inout some RecordSink) {
        let line = loadavg.trimmed()
        var words = Words()
        words.split(line)
        let names: [StaticString] = ["node_load1", "node_load5", "node_load15"]
        for (i, name) in names.enumerated() where i < words.count {
            guard let value = line[words.ranges[i]].parseDouble() else { continue }
            writer.emit(name, value, into: &sink)
        }
    }
}
