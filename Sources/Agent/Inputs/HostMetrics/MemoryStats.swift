import Ingest
import Platform

/// /proc/meminfo → one gauge per line, named as node_exporter names them:
/// `node_memory_<Key>_bytes` for lines in kB (the value × 1024), `node_memory_<Key>` for the
/// others (`HugePages_Total`). In keys, `(x)` becomes `_x`: `Active(anon)` →
/// `node_memory_Active_anon_bytes`.
enum MemoryStats {
    static func emit(_ meminfo: ByteView, writer: inout MetricWriter, into sink: inout some RecordSink) {
        var words = Words()
        var name: [UInt8] = []
        forEachLine(meminfo) { line in
            words.split(line)
            guard words.count >= 2, let colon = line.firstIndex(of: UInt8(ascii: ":")), var value = line[words.ranges[1]].unsignedNumber else { return }
            let inKiB = words.count >= 3 && line[words.ranges[2]].equals("kB")
            if inKiB { value *= 1024 }
            name.removeAll(keepingCapacity: true)
            name.append(contentsOf: "node_memory_".utf8)
            for i in 0 ..< colon {
                switch line[i] {
                case UInt8(ascii: "("): name.append(UInt8(ascii: "_"))
                case UInt8(ascii: ")"): continue
                default: name.append(line[i])
                }
            }
            if inKiB { name.append(contentsOf: "_bytes".utf8) }
            ByteView.with(name) { writer.emit($0, value, into: &sink) }
        }
    }
}
