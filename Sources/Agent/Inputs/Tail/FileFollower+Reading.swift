import Ingest
import Logging
import Platform
import WAL

extension FileFollower {
    /// Reads `file` from its position up to the budget; whether the budget ran out first.
    func read(_ file: FollowedFile, now: ReadTime, meter: inout BudgetMeter, into sink: inout some RecordSink) throws(InputError) -> Bool {
        guard file.handle != nil || file.needsLook else { return false }
        guard meter.allowsRecord else { return true }
        guard let handle = try open(file, now: now) else { return false }
        file.needsLook = false
        let status = try handle.status()
        if status.links == 0 { detach(file, because: "was deleted", now: now) }
        let isUnchanged = status.size == file.lastSize && status.modified == file.lastModified
        if isUnchanged, file.isReadToEnd, !isFinalFlushDue(file, now: now) { return false }
        if !isUnchanged {
            file.lastSize = status.size
            file.lastModified = status.modified
            file.lastChange = now.monotonic
            if status.size < file.offset {
                restart(file, because: "was truncated (copytruncate?)")
            } else if try !fingerprintHolds(file, handle) {
                restart(file, because: "was rewritten (its first bytes changed)")
            }
        }
        let budgetRanOut = try drain(file, handle, now: now, meter: &meter, into: &sink)
        try refreshFingerprint(file, handle)
        return budgetRanOut
    }

    /// Emits the records that follow the file's position; whether the budget ran out first.
    private func drain(
        _ file: FollowedFile, _ handle: OpenFile, now: ReadTime, meter: inout BudgetMeter, into sink: inout some RecordSink
    ) throws(InputError) -> Bool {
        let capacity = buffer.count
        var filled = 0
        var cursor = 0
        var timedOut = false
        while true {
            guard meter.allowsRecord else { return true }
            if cursor == filled {
                filled = try handle.read(into: &buffer, count: capacity, at: file.offset)
                cursor = 0
                if filled > 0 { file.lastRead = now.monotonic }
            }
            // Flushes apply only when the bytes reach the file's end as it is now.
            let reachesEnd = filled < capacity
            let flush: RecordFramer.Flush =
                !reachesEnd ? .none : isFinalFlushDue(file, now: now) ? .everything : timedOut ? .completeLines : .none
            let step = ByteView.with(buffer) { bytes in
                let window = bytes[cursor ..< filled]
                let step = framer.next(window, flush: flush)
                if case .record(let message, let isPartial, _) = step {
                    emit(window[message], isPartial: isPartial, file: file, now: now, into: &sink)
                }
                return step
            }
            switch step {
            case .record(let message, _, let consumed):
                meter.spend(bytes: message.count)
                file.offset += Int64(consumed)
                cursor += consumed
                file.pendingEnd = nil
                timedOut = false
            case .skip(let consumed):
                file.offset += Int64(consumed)
                cursor += consumed
            case .needMore(let pendingRecordEnd):
                if !reachesEnd {
                    // The window was cut by the buffer: read again from the record's start.
                    guard cursor > 0 else { return false }
                    cursor = filled
                    continue
                }
                guard pendingRecordEnd > 0 else { return false }
                let end = file.offset + Int64(pendingRecordEnd)
                if file.pendingEnd != end {
                    file.pendingEnd = end
                    file.pendingSince = now.monotonic
                    return false
                }
                guard !timedOut, now.monotonic &- file.pendingSince >= multilineTimeout else { return false }
                timedOut = true
            }
        }
    }

    /// One record: the message, `path`, and `partial` on pieces of a split record.
    private func emit(_ message: ByteView, isPartial: Bool, file: FollowedFile, now: ReadTime, into sink: inout some RecordSink) {
        withValidUTF8(message) { text in
            ByteView.with(hostBytes) { host in
                ByteView.with(file.appBytes) { app in
                    sink.beginLog(timestamp: now.wall, severity: LogRecord.unknownLevel, facility: LogRecord.unknownLevel, host: host, app: app, message: text)
                }
            }
            withLiteral("path") { key in ByteView.with(file.pathBytes) { sink.field(key: key, value: $0) } }
            if isPartial { withLiteral("partial") { key in withLiteral("true") { sink.field(key: key, value: $0) } } }
            sink.finishRecord()
        }
    }

    /// The file's descriptor, opening it when needed: `nil` when it cannot be opened now (no
    /// free slot, or its name no longer leads to it).
    private func open(_ file: FollowedFile, now: ReadTime) throws(InputError) -> OpenFile? {
        if let handle = file.handle { return handle }
        if openCount >= options.maxOpenFiles, !closeIdlestFile(sparing: file) { return nil }
        guard let handle = try OpenFile(path: file.path), try handle.status().identity == file.identity else {
            // Gone under that name: a live file is looked for at the next rescan; a detached one
            // cannot be reached any more.
            if file.isDetached { file.needsLook = false }
            return nil
        }
        file.handle = handle
        openCount += 1
        if try !fingerprintHolds(file, handle) { restart(file, because: "is another file with a reused inode (its first bytes differ)") }
        return handle
    }

    /// Closes the open file idle the longest among those read to their end (not detached ones:
    /// they are closed for good once finished); whether one was closed. The closed file is
    /// looked at again when its turn comes: it may have grown since its last status, and no
    /// rescan would notice before the next interval.
    private func closeIdlestFile(sparing spared: FollowedFile) -> Bool {
        let idlest = files.filter { $0 !== spared && $0.handle != nil && !$0.isDetached && $0.isReadToEnd }.min { $0.lastRead < $1.lastRead }
        guard let idlest else { return false }
        idlest.handle = nil
        idlest.needsLook = true
        openCount -= 1
        logger.debug("closing idle followed file to stay within the open-file limit", metadata: ["agent.tail.path": "\(idlest.path)"])
        return true
    }

    /// Whether the file's first bytes still have the fingerprint its position was taken with.
    private func fingerprintHolds(_ file: FollowedFile, _ handle: OpenFile) throws(InputError) -> Bool {
        guard file.fingerprintLength > 0 else { return true }
        return try handle.fingerprint(length: file.fingerprintLength, scratch: &scratch) == file.fingerprint
    }

    /// Brings the fingerprint up to `min(offset, 1024)` bytes.
    func refreshFingerprint(_ file: FollowedFile, _ handle: OpenFile) throws(InputError) {
        let length = Int(min(file.offset, Int64(TailCheckpoint.fingerprintBytes)))
        guard length != file.fingerprintLength, let fingerprint = try handle.fingerprint(length: length, scratch: &scratch) else { return }
        file.fingerprint = fingerprint
        file.fingerprintLength = length
    }

    private func restart(_ file: FollowedFile, because reason: String) {
        logger.info("followed file \(reason); reading it from its start", metadata: ["agent.tail.path": "\(file.path)", "agent.tail.offset": "\(file.offset)"])
        file.restart()
    }
}
