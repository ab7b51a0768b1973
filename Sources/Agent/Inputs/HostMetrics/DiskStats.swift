import Ingest
import Platform

/// /proc/diskstats → I/O counters per whole disk (label `device`), named and scaled as
/// node_exporter does: sectors are 512 bytes, times are milliseconds turned into seconds.
///
/// Partitions, RAM disks, loop devices and floppies are left out, as node_exporter's default
/// `^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$` does. Columns a kernel does not have
/// (discards since 4.18, flushes since 5.5) are left out.
enum DiskStats {
    /// How a column's number becomes the metric's value.
    enum Unit {
        case count
        /// 512-byte sectors → bytes.
        case sectors
        /// Milliseconds → seconds.
        case milliseconds

        func value(_ number: Double) -> Double {
            switch self {
            case .count: number
            case .sectors: number * 512
            case .milliseconds: number / 1000
            }
        }
    }

    static let columns: [(name: StaticString, unit: Unit)] = [
        ("node_disk_reads_completed_total", .count), ("node_disk_reads_merged_total", .count),
        ("node_disk_read_bytes_total", .sectors), ("node_disk_read_time_seconds_total", .milliseconds),
        ("node_disk_writes_completed_total", .count), ("node_disk_writes_merged_total", .count),
        ("node_disk_written_bytes_total", .sectors), ("node_disk_write_time_seconds_total", .milliseconds),
        ("node_disk_io_now", .count), ("node_disk_io_time_seconds_total", .milliseconds),
        ("node_disk_io_time_weighted_seconds_total", .milliseconds),
        ("node_disk_discards_completed_total", .count), ("node_disk_discards_merged_total", .count),
        ("node_disk_discarded_sectors_total", .count), ("node_disk_discard_time_seconds_total", .milliseconds),
        ("node_disk_flush_requests_total", .count), ("node_disk_flush_requests_time_seconds_total", .milliseconds),
    ]

    static func emit(_ diskstats: ByteView, writer: inout MetricWriter, into sink: inout some RecordSink) {
        var words = Words()
        forEachLine(diskstats) { line in
            words.split(line)
            guard words.count >= 4 else { return }
            let device = line[words.ranges[2]]
            guard !isExcluded(device) else { return }
            for (i, column) in columns.enumerated() where i + 3 < words.count {
                guard let value = line[words.ranges[i + 3]].unsignedNumber else { continue }
                writer.emit(column.name, column.unit.value(value), into: &sink) { label("device", device, &$0) }
            }
        }
    }

    /// Whether `device` is a partition, RAM disk, loop device or floppy.
    static func isExcluded(_ device: ByteView) -> Bool {
        for prefix: StaticString in ["ram", "zram", "loop", "fd"] where device.hasPrefix(prefix) {
            if isNumber(device.suffix(from: prefix.utf8CodeUnitCount)) { return true }
        }
        for prefix: StaticString in ["hd", "sd", "vd", "xvd"] where device.hasPrefix(prefix) {
            let letter = prefix.utf8CodeUnitCount
            if device.count > letter + 1, device[letter] &- UInt8(ascii: "a") < 26, isNumber(device.suffix(from: letter + 1)) { return true }
        }
        if device.hasPrefix("nvme") {
            // nvme<digits>n<digits>p<digits>
            var i = 4
            for separator in [UInt8(ascii: "n"), UInt8(ascii: "p")] {
                let start = i
                while i < device.count, device[i] &- UInt8(ascii: "0") < 10 { i += 1 }
                guard i > start, i < device.count, device[i] == separator else { return false }
                i += 1
            }
            return isNumber(device.suffix(from: i))
        }
        return false
    }

    private static func isNumber(_ v: ByteView) -> Bool {
        guard v.count > 0 else { return false }
        for i in 0 ..< v.count where v[i] &- UInt8(ascii: "0") >= 10 { return false }
        return true
    }
}
