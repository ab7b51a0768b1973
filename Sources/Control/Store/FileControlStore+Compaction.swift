extension FileControlStore {
    /// Steps of ``compact()`` after which a test can make it stop as a crash would.
    enum CompactionStep: CaseIterable, Sendable {
        /// `snapshot-N+1.tmp` is half written.
        case partialTemporary
        /// `snapshot-N+1.tmp` is written and synced, not renamed.
        case temporaryWritten
        /// `snapshot-N+1` exists; `log-N+1` does not.
        case renamed
        /// `log-N+1` exists; the old generation is still there.
        case newLogCreated
        /// `snapshot-N` is gone, `log-N` is not.
        case oldSnapshotRemoved
    }

    /// Writes the contents to `snapshot-<generation+1>`, starts `log-<generation+1>` and removes
    /// the older generation.
    ///
    /// Called by ``commit(_:)`` when the log exceeds `max(compactAfterBytes, 2 × snapshot size)`;
    /// call it directly to compact now. Order: write `snapshot-N+1.tmp`, fsync, rename, fsync the
    /// directory, create `log-N+1`, remove `snapshot-N` and `log-N`. A crash at any point
    /// recovers to the same contents: before the rename from generation N, after it from N+1.
    /// - Throws: ``ControlStoreError/Code/io`` when the snapshot cannot be written; the store
    ///   then stays at generation N and keeps working.
    public func compact() throws(ControlStoreError) {
        if let unusable { throw unusable }
        let old = generation
        let next = old + 1
        let snapshot = ControlSnapshotCodec.encode(contents, generation: next)
        let final = path(ControlStoreLayout.snapshotName(next))
        let temporary = final + ControlStoreLayout.temporarySuffix
        if compactionCrash == .partialTemporary {
            try? ControlFiles.writeSynced(temporary, Array(snapshot.prefix(snapshot.count / 2)))
            throw simulatedCrash(.partialTemporary)
        }
        do {
            try ControlFiles.writeSynced(temporary, snapshot)
            try stop(after: .temporaryWritten)
            try ControlFiles.rename(temporary, final)
        } catch {
            if error.code != .unusable { try? ControlFiles.remove(temporary) }
            throw error
        }
        // From here on generation N+1 is the truth: log-N must never take another record.
        generation = next
        log = nil
        logBytes = 0
        snapshotBytes = snapshot.count
        compactionRetryAt = 0
        try stop(after: .renamed)
        var firstError: ControlStoreError?
        do { try ControlFiles.syncDirectory(directory) } catch { firstError = error }
        do { _ = try openLog() } catch { firstError = firstError ?? error }  // retried by the next commit
        try stop(after: .newLogCreated)
        do {
            if old > 0 { try ControlFiles.remove(path(ControlStoreLayout.snapshotName(old))) }
            try stop(after: .oldSnapshotRemoved)
            try ControlFiles.remove(path(ControlStoreLayout.logName(old)))
            try ControlFiles.syncDirectory(directory)
        } catch {
            if error.code == .unusable { throw error }
            firstError = firstError ?? error  // leftovers are removed at the next open
        }
        if let firstError { throw firstError }
    }

    /// Compacts when the log is over its threshold; a failure is kept, not thrown, because the
    /// commit that triggered it is already durable.
    func compactIfDue() {
        let threshold = max(compactAfterBytes, 2 * snapshotBytes)
        guard logBytes > threshold, logBytes >= compactionRetryAt else { return }
        do {
            try compact()
            lastCompactionError = nil
        } catch {
            lastCompactionError = error
            compactionRetryAt = logBytes + threshold
        }
    }

    private func stop(after step: CompactionStep) throws(ControlStoreError) {
        if compactionCrash == step { throw simulatedCrash(step) }
    }

    private func simulatedCrash(_ step: CompactionStep) -> ControlStoreError {
        let error = ControlStoreError(.unusable, path: directory, "simulated crash after compaction step \(step)")
        unusable = error
        log = nil
        return error
    }
}
