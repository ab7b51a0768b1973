import Ingest
import Platform

/// /proc/net/dev → counters per interface (label `device`), named as node_exporter names them:
/// `node_network_receive_{bytes,packets,errs,drop,fifo,frame,compressed,multicast}_total` and
/// `node_network_transmit_{bytes,packets,errs,drop,fifo,colls,carrier,compressed}_total`.
enum NetworkStats {
    static let names: [StaticString] = [
        "node_network_receive_bytes_total", "node_network_receive_packets_total", "node_network_receive_errs_total",
        "node_network_receive_drop_total", "node_network_receive_fifo_total", "node_network_receive_frame_total",
        "node_network_receive_compressed_total", "node_network_receive_multicast_total",
        "node_network_transmit_bytes_total", "node_network_transmit_packets_total", "node_network_transmit_errs_total",
        "node_network_transmit_drop_total", "node_network_transmit_fifo_total", "node_network_transmit_colls_total",
        "node_network_transmit_carrier_total", "node_network_transmit_compressed_total",
    ]

    static func emit(_ netdev: ByteView, writer: inout MetricWriter, into sink: inout some RecordSink) {
        var words = Words()
        forEachLine(netdev) { line in
            // "  eth0: 10884961 402 0 …" (two header lines have no colon before their bars).
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")), line.firstIndex(of: UInt8(ascii: "|")) == nil else { return }
            let device = line[0 ..< colon].trimmed()
            let counters = line.suffix(from: colon + 1)
            words.split(counters)
            guard !device.isEmpty else { return }
            for (i, name) in names.enumerated() where i < words.count {
                guard let value = counters[words.ranges[i]].unsignedNumber else { continue }
                writer.emit(name, value, into: &sink) { label("device", device, &$0) }
            }
        }
    }
}
