import Platform
import WAL
import Wire

/// The record checks of one native batch, BATCH or BATCH_COMPRESSED alike (docs/protocol.md,
/// section 6.2), and what they came to: the valid records' count and time range, and the
/// NACK entries of the others.
///
/// A value on the event loop, one per batch; it copies no record.
struct NativeBatchIntake {
    /// The largest record a batch may carry (docs/protocol.md, reason 4).
    static let maxRecordBytes = 1 << 20

    private(set) var accepted = 0
    private(set) var rejected: [(UInt32, NativeRejectCode, String)] = []
    private(set) var minTimestamp = Int64.max
    private(set) var maxTimestamp = Int64.min

    /// Checks record `index`; a valid one counts, an invalid one is listed for the NACK and
    /// handed to `reject` (the loop's sink counts and samples it).
    /// - Returns: whether the record is valid.
    mutating func check(_ index: UInt32, _ body: ByteView, reject: (StaticString, ByteView) -> Void) -> Bool {
        let problem = body.count > Self.maxRecordBytes ? (.tooLarge, "record exceeds 1 MiB") : RecordValidator.check(body)
        if let (code, reason) = problem {
            reject(reason, body)
            rejected.append((index, code, reason.description))
            return false
        }
        accepted += 1
        let timestamp = body.loadLittleEndian(Int64.self, at: 1)
        minTimestamp = min(minTimestamp, timestamp)
        maxTimestamp = max(maxTimestamp, timestamp)
        return true
    }
}
