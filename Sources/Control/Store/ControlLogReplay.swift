/// Replays a log file's records and tells a torn tail from damage in the middle.
///
/// Commits are appended one record at a time and synced, so a crash can only leave the *last*
/// record incomplete (or garbage after it). Recovery therefore accepts records until the first
/// one that is not whole and checksum-valid. If a valid record starts anywhere after that
/// point, the damage is in the middle of the log and dropping it would lose committed data:
/// that is an error. Otherwise everything from that point is a torn tail, to be truncated.
struct ControlLogReplay {
    /// Records (commits) applied.
    var records = 0
    /// Changes applied.
    var changes = 0
    /// Where the last valid record ends: the log's length after truncating the tail.
    var validEnd = 0
    /// Why the bytes after ``validEnd`` are not a record (`nil` when there are none).
    var tailDefect: String?

    /// Applies every valid record of `bytes` (the file `path`) to `contents`.
    /// - Throws: ``ControlStoreError/Code/corrupt`` for damage followed by a valid record, or a
    ///   checksum-valid record that does not decode.
    static func replay(_ bytes: [UInt8], path: String, into contents: inout [String: [UInt8]]) throws(ControlStoreError)
        -> ControlLogReplay
    {
        var result = ControlLogReplay()
        var offset = 0
        while offset < bytes.count {
            guard let body = ControlRecordCodec.validFrame(at: offset, in: bytes) else {
                let defect = ControlRecordCodec.defect(at: offset, in: bytes)
                if let next = firstValidFrame(after: offset, in: bytes) {
                    throw ControlStoreError(
                        .corrupt, path: path, offset: offset,
                        "\(defect), but a valid record follows at offset \(next): the log is damaged in the middle, not torn at its end")
                }
                result.tailDefect = defect
                break
            }
            guard let changes = ControlRecordCodec.decodeBody(bytes, body) else {
                throw ControlStoreError(
                    .corrupt, path: path, offset: offset, "record has a valid checksum but its changes do not decode")
            }
            contents.apply(changes)
            result.records += 1
            result.changes += changes.count
            offset = body.upperBound
            result.validEnd = offset
        }
        return result
    }

    /// The first offset after `offset` where a whole, checksum-valid record starts.
    private static func firstValidFrame(after offset: Int, in bytes: [UInt8]) -> Int? {
        var candidate = offset + 1
        while bytes.count - candidate >= ControlRecordCodec.headerBytes + ControlRecordCodec.minimumBodyBytes {
            if ControlRecordCodec.validFrame(at: candidate, in: bytes) != nil { return candidate }
            candidate += 1
        }
        return nil
    }
}
