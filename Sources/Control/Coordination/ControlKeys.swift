import Platform
import Foundation

/// Where the control plane keeps each kind of state in a ``ControlStore``, and how values are
/// encoded: JSON for records that change rarely, a compact binary form for task checkpoints,
/// which change with every report.
enum ControlKeys {
    static let tasks = "tasks/"
    /// Short on purpose: "ckpt/t-123456" fits a small (inline) String, so the 10,000 checkpoint
    /// keys committed every second allocate nothing.
    static let checkpoints = "ckpt/"
    static let configs = "configs/"
    static let rollouts = "rollouts/"
    /// The next task serial, so a restart never reuses the serial of a task dropped by retention.
    static let nextTaskSerial = "meta/next-task-serial"

    static func task(_ id: String) -> String { tasks + id }
    static func checkpoint(_ id: String) -> String { checkpoints + id }
    static func config(_ name: String, _ version: UInt64) -> String { "\(configs)\(name)/\(version)" }
    static func rollout(_ id: String) -> String { rollouts + id }
}

/// Checkpoints as bytes: for each pair sorted by key, `u32` key length, key, `u32` value length,
/// value (little-endian, with the store's own byte helpers). Cheaper than JSON at thousands of
/// reports per second.
enum CheckpointCodec {
    static func encode(_ pairs: [String: String]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(pairs.reduce(0) { $0 + 8 + $1.key.utf8.count + $1.value.utf8.count })
        for (key, value) in pairs.sorted(by: { $0.key < $1.key }) {
            append(key, to: &out)
            append(value, to: &out)
        }
        return out
    }

    static func decode(_ bytes: [UInt8]) -> [String: String]? {
        ByteView.with(bytes) { view in
            var pairs: [String: String] = [:]
            var reader = ByteReader(view)
            while !reader.isAtEnd {
                guard let key = reader.controlString(limit: bytes.count), let value = reader.controlString(limit: bytes.count) else {
                    return nil
                }
                pairs[key] = value
            }
            return pairs
        }
    }

    private static func append(_ s: String, to out: inout [UInt8]) { out.appendControlField(s.utf8) }
}
