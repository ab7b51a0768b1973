import Logging
import Platform

extension FileFollower {
    /// Expands the pattern and reconciles what it finds with the files known, by identity.
    func rescan(now: ReadTime) throws(InputError) {
        var seen = Set<FileIdentity>()
        for path in PathGlob.expand(options.path) {
            guard let status = FileStatus.of(path), status.isRegularFile, seen.insert(status.identity).inserted else { continue }
            if let known = byIdentity[status.identity] {
                if known.path != path {
                    logger.debug("followed file renamed", metadata: ["agent.tail.path": "\(known.path)", "agent.tail.renamed_to": "\(path)"])
                    known.rename(to: path)
                }
                known.isDetached = false
                if known.handle == nil, status.size != known.offset || status.modified != known.lastModified { known.needsLook = true }
            } else {
                try adopt(path: path, status: status, position: restored.removeValue(forKey: status.identity), now: now)
            }
        }
        var lost: [FollowedFile] = []
        for file in files where !seen.contains(file.identity) && !file.isDetached {
            if file.handle != nil {
                detach(file, because: "renamed away or deleted", now: now)
            } else {
                lost.append(file)
            }
        }
        if !lost.isEmpty || !restored.isEmpty { try relocate(lost, now: now) }
        restored = [:]
        hasLooked = true
    }

    /// Starts following a file found under `path`: from its checkpoint position, from its
    /// end (first look of a fresh task with `from: end`), or from its first byte.
    func adopt(path: String, status: FileStatus, position: TailCheckpoint.Position?, now: ReadTime, detached: Bool = false) throws(InputError) {
        let file = FollowedFile(identity: status.identity, serial: nextSerial, path: path, now: now.monotonic)
        nextSerial += 1
        file.isDetached = detached
        file.needsLook = true
        if let position {
            // Checked against the file's first bytes when it is opened.
            file.offset = position.offset
            file.fingerprint = position.fingerprint
            file.fingerprintLength = Int(min(position.offset, Int64(TailCheckpoint.fingerprintBytes)))
        } else if !hasLooked && startsFirstFilesAtEnd {
            guard let handle = try OpenFile(path: path) else { return }
            file.offset = try endOfLastLine(handle, size: status.size)
            try refreshFingerprint(file, handle)
        }
        files.append(file)
        byIdentity[file.identity] = file
        logger.debug(
            "following file", metadata: ["agent.tail.path": "\(path)", "agent.tail.file": "\(file.identity)", "agent.tail.offset": "\(file.offset)"])
    }

    /// Marks a file as no longer reachable by the pattern: it is read to its end, then dropped.
    func detach(_ file: FollowedFile, because reason: String, now: ReadTime) {
        guard !file.isDetached else { return }
        file.isDetached = true
        file.lastChange = now.monotonic
        logger.debug("followed file \(reason); reading it to its end", metadata: ["agent.tail.path": "\(file.path)", "agent.tail.file": "\(file.identity)"])
    }

    /// Looks for files that left the pattern while closed, and for checkpoint entries not found
    /// by it, among the other names in the directories the pattern covers (rotation renames a
    /// file within its directory: `app.log` → `app.log.1`). Found ones are read to their end;
    /// the others are forgotten.
    private func relocate(_ lost: [FollowedFile], now: ReadTime) throws(InputError) {
        var directories = Set([PathGlob.literalDirectory(of: options.path)])
        for file in files { directories.insert(FileSystem.directory(of: file.path)) }
        var missing = Dictionary(lost.map { ($0.identity, $0) }, uniquingKeysWith: { a, _ in a })
        for directory in directories.sorted() {
            guard !missing.isEmpty || !restored.isEmpty, let names = try? FileSystem.list(directory) else { continue }
            for name in names {
                let path = directory == "/" ? "/" + name : directory + "/" + name
                guard let status = FileStatus.of(path), status.isRegularFile else { continue }
                if let file = missing.removeValue(forKey: status.identity) {
                    file.rename(to: path)
                    file.needsLook = true
                    detach(file, because: "was renamed out of the pattern while closed", now: now)
                } else if let position = restored.removeValue(forKey: status.identity) {
                    try adopt(path: path, status: status, position: position, now: now, detached: true)
                }
            }
        }
        for file in missing.values {
            logger.info("followed file is gone; forgetting it", metadata: ["agent.tail.path": "\(file.path)", "agent.tail.file": "\(file.identity)"])
            forget(file)
        }
        for position in restored.values {
            logger.debug("checkpoint names a file that no longer exists", metadata: ["agent.tail.file": "\(position.identity)"])
        }
    }

    /// Closes and drops files that were detached, are read to their end, and have not grown for
    /// the rotate wait; and detached files that can no longer be opened.
    func retireFinishedFiles(now: ReadTime) {
        for file in files where file.isDetached {
            let isUnreachable = file.handle == nil && !file.needsLook
            guard isUnreachable || (file.handle != nil && file.isReadToEnd && isFinalFlushDue(file, now: now)) else { continue }
            logger.debug("done with followed file", metadata: ["agent.tail.path": "\(file.path)", "agent.tail.offset": "\(file.offset)"])
            forget(file)
        }
    }

    /// Whether a detached file has stopped growing for long enough to be flushed and closed.
    func isFinalFlushDue(_ file: FollowedFile, now: ReadTime) -> Bool {
        file.isDetached && now.monotonic &- file.lastChange >= rotateWait
    }

    private func forget(_ file: FollowedFile) {
        if file.handle != nil {
            file.handle = nil
            openCount -= 1
        }
        files.removeAll { $0 === file }
        byIdentity[file.identity] = nil
    }

    /// The offset after the last LF within the last window of the file (`from: end`): the line
    /// being written when the task starts is read whole once it is finished.
    private func endOfLastLine(_ handle: OpenFile, size: Int64) throws(InputError) -> Int64 {
        let length = Int(min(size, Int64(buffer.count)))
        guard length > 0 else { return 0 }
        let start = size - Int64(length)
        let read = try handle.read(into: &buffer, count: length, at: start)
        guard let lf = buffer[0 ..< read].lastIndex(of: UInt8(ascii: "\n")) else { return read == size ? 0 : size }
        return start + Int64(lf) + 1
    }
}
