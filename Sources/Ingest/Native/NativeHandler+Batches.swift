import NIOCore
import Platform
import WAL
import Wire

// BATCH and BATCH_COMPRESSED (docs/protocol.md, sections 5.3, 5.10 and 7): each goes through
// its frame checks, fencing, the record checks of NativeBatchIntake, de-duplication and the
// WAL, and is answered once durable, in the order of its frame.

extension NativeHandler {
    func handleBatch(_ frame: inout ByteBuffer, wireBytes: Int, context: ChannelHandlerContext) throws(NativeMalformed) {
        let header = try NativeBatchHeader.decode(&frame)
        countBatch(.plain, wireBytes: wireBytes)
        guard admits(header, context: context) else { return }
        var payload: [UInt8] = []
        payload.reserveCapacity(frame.readableBytes + Int(header.recordCount) * 2)
        var intake = NativeBatchIntake()
        for index in 0 ..< header.recordCount {
            guard let length = frame.readInteger(endianness: .big, as: UInt32.self), Int(length) <= frame.readableBytes else {
                throw NativeMalformed(what: "record \(index) runs past the end of the frame")
            }
            unsafe frame.withUnsafeReadableBytes { raw in
                let body = unsafe ByteView(raw)[0 ..< Int(length)]
                if intake.check(index, body, reject: { reject($0, sample: $1) }) { payload.appendLengthPrefixed(body) }
            }
            frame.moveReaderIndex(forwardBy: Int(length))
        }
        guard frame.readableBytes == 0 else { throw NativeMalformed(what: "BATCH has \(frame.readableBytes) trailing bytes") }
        write(header, payload: payload, intake: intake, context: context)
    }

    /// BATCH_COMPRESSED: decompressed on the event loop with the loop's reusable codec context
    /// into one buffer of at most `max_batch_bytes`, which becomes the WAL payload as it is
    /// when every record is valid.
    func handleCompressedBatch(_ frame: inout ByteBuffer, wireBytes: Int, context: ChannelHandlerContext) throws(NativeMalformed) {
        guard let accepted = codec else {
            return fail(.protocolViolation, "BATCH_COMPRESSED needs a codec accepted by a version 2 HELLO_OK; this session accepted none", context: context)
        }
        let batch = try NativeCompressedBatch.decode(&frame)
        guard batch.codec == accepted else {
            return fail(.protocolViolation, "BATCH_COMPRESSED in \(batch.codec); HELLO_OK accepted \(accepted)", context: context)
        }
        let limit = ingest.limits.maxBatchBytes
        guard Int(batch.uncompressedLength) <= limit else {
            throw NativeMalformed(what: "uncompressed_length \(batch.uncompressedLength) exceeds max_batch_bytes \(limit)")
        }
        countBatch(NativeBatchEncoding(batch.codec), wireBytes: wireBytes)
        guard admits(batch.header, context: context) else { return }
        let payload = try batch.decompress(frame, context: batcher.codecContext)
        var intake = NativeBatchIntake()
        try batch.forEachRecord(in: payload) { index, body in _ = intake.check(index, body, reject: { reject($0, sample: $1) }) }
        let valid = intake.rejected.isEmpty ? payload : Self.records(of: batch, in: payload, without: intake.rejected)
        write(batch.header, payload: valid, intake: intake, context: context)
    }

    /// The WAL's producer id for (daemon id, incarnation, client producer id): de-duplication
    /// is per daemon and incarnation. Incarnation 0 (none) gives the keys of protocol version 1.
    static func producerKey(daemonHash: UInt64, producerID: UInt64, incarnation: UInt64) -> UInt64 {
        let key = daemonHash ^ (producerID &* 0x9E37_79B9_7F4A_7C15) ^ mix(incarnation)
        return key == 0 ? 1 : key
    }

    /// splitmix64's finalizer: a bijection of 64-bit values that maps 0 to 0.
    private static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    // MARK: Steps

    private func countBatch(_ encoding: NativeBatchEncoding, wireBytes: Int) {
        batcher.withSink { $0.countNativeBatch(encoding, wireBytes: wireBytes) }
    }

    /// The fence of task producer ids (docs/protocol.md 5.9.6); a refused batch gets its NACK here.
    private func admits(_ header: NativeBatchHeader, context: ChannelHandlerContext) -> Bool {
        guard header.producerID & TaskProducerID.taskBit != 0, let hello else { return true }
        let verdict = ingest.control?.admitsTaskData(daemonID: hello.daemonID, producerID: header.producerID)
            ?? .refused("this node assigns no tasks")
        guard case .refused(let why) = verdict else { return true }
        // Fenced: the whole batch is refused, and nothing of it is written.
        let rejected = (0 ..< header.recordCount).map { ($0, NativeRejectCode.fenced, why) }
        respond(NativeFrames.nack(
            producerID: header.producerID, sequence: header.producerSequence, accepted: 0, rejected: rejected,
            allocator: context.channel.allocator))
        return false
    }

    private func reject(_ reason: StaticString, sample: ByteView) {
        let peer = peerBytes
        batcher.withSink { sink in
            sink.listener = .native
            sink.peer = peer
            sink.reject(reason, sample: sample)
        }
    }

    /// The valid records of a payload in which `rejected` (in index order) are not.
    private static func records(
        of batch: NativeCompressedBatch, in payload: [UInt8], without rejected: [(UInt32, NativeRejectCode, String)]
    ) -> [UInt8] {
        var kept: [UInt8] = []
        kept.reserveCapacity(payload.count)
        var next = 0
        // The payload was walked once already: the walk cannot fail now.
        try? batch.forEachRecord(in: payload) { index, body in
            if next < rejected.count, rejected[next].0 == index {
                next += 1
            } else {
                kept.appendLengthPrefixed(body)
            }
        }
        return kept
    }

    /// De-duplicates and writes the valid records as one WAL batch, and answers once durable.
    private func write(_ header: NativeBatchHeader, payload: [UInt8], intake: NativeBatchIntake, context: ChannelHandlerContext) {
        let slot = takeSlot()
        let allocator = context.channel.allocator
        let (producerID, sequence) = (header.producerID, header.producerSequence)
        let rejections = intake.rejected
        guard intake.accepted > 0 else {
            complete(slot, NativeFrames.nack(producerID: producerID, sequence: sequence, accepted: 0, rejected: rejections, allocator: allocator))
            return
        }
        let payloadBytes = payload.count
        batcher.withSink { sink in
            sink.listener = .native
            sink.countRecords(intake.accepted, bytes: payloadBytes)
        }
        let draft = BatchDraft(
            payload: payload, recordCount: intake.accepted, minTimestamp: intake.minTimestamp, maxTimestamp: intake.maxTimestamp,
            producerID: Self.producerKey(daemonHash: daemonHash, producerID: producerID, incarnation: incarnation),
            producerSequence: sequence, codec: ingest.limits.codec)
        ingest.gate.reserve(bytes: payloadBytes, shard: shard)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let shard = self.shard
        let acceptedCount = UInt32(intake.accepted)
        ingest.writers[shard].submit(draft) { result in
            loop.execute {
                let frame: ByteBuffer
                switch result {
                case .written(_, let first, _):
                    frame = rejections.isEmpty
                        ? NativeFrames.ack(producerID: producerID, sequence: sequence, accepted: acceptedCount, duplicate: false, shard: shard, firstSequence: first, allocator: allocator)
                        : NativeFrames.nack(producerID: producerID, sequence: sequence, accepted: acceptedCount, rejected: rejections, allocator: allocator)
                case .duplicate:
                    bound.value.countDuplicate()
                    frame = NativeFrames.ack(producerID: producerID, sequence: sequence, accepted: acceptedCount, duplicate: true, shard: shard, firstSequence: 0, allocator: allocator)
                case .failed(let message):
                    // ERROR 8, then the connection closes (docs/protocol.md 5.8): the daemon
                    // keeps every unanswered batch and resends it once the node writes again.
                    bound.value.failAfterEarlierAnswers(slot, NativeFrames.error(.internalError, "write failed: \(message)", allocator: allocator))
                    return
                }
                bound.value.complete(slot, frame)
            }
        }
    }

    private func countDuplicate() {
        batcher.withSink { $0.countDuplicateBatch() }
        if let hello { ingest.observer?.daemonSentDuplicate(id: hello.daemonID) }
    }
}
