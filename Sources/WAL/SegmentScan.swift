import Platform
/// One step of a segment scan.
enum ScanItem {
    case batch(offset: Int, header: BatchHeader)
    /// Bytes `[offset, offset + length)` hold no valid batch; a valid one follows.
    case damage(offset: Int, length: Int, reason: BatchDamage)
}

/// How a segment scan ended.
struct ScanEnd {
    /// Offset just past the last valid batch (where a writer would continue).
    var dataEnd: Int
    /// Set when the data ends in damage that no valid batch follows.
    var tail: (offset: Int, reason: BatchDamage)?
}

extension SegmentFile {
    /// Walks the batches after the segment header, checking both CRCs when `verifyPayload`,
    /// skipping damaged ranges by resynchronising on the next magic with a valid header CRC.
    ///
    /// Memory stays flat: pages already scanned are released every 8 MiB.
    /// - Complexity: O(bytes scanned).
    func scanBatches(verifyPayload: Bool, _ visit: (ScanItem) throws -> Void) rethrows -> ScanEnd {
        var offset = SegmentHeader.size
        var released = 0
        let releaseStep = 8 << 20
        defer { release(offset: 0, length: offset) }
        while true {
            if offset - released >= releaseStep {
                release(offset: released, length: offset - released)
                released = offset & ~4095
            }
            let reason: BatchDamage
            switch checkBatch(at: offset, verifyPayload: verifyPayload) {
            case .valid(let header):
                try visit(.batch(offset: offset, header: header))
                offset += header.totalSize
                continue
            case .end:
                return ScanEnd(dataEnd: offset, tail: nil)
            case .truncated:
                reason = .truncated
            case .damaged(let damage):
                reason = damage
            }
            guard let next = resync(from: offset + 1) else {
                return ScanEnd(dataEnd: offset, tail: (offset, reason))
            }
            try visit(.damage(offset: offset, length: next - offset, reason: reason))
            offset = next
        }
    }

    /// The segment header, or `nil` when it is damaged.
    func header() -> SegmentHeader? { SegmentHeader.decode(read(at: 0, count: SegmentHeader.size)) }
}
