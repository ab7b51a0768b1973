public import Ingest
public import Logging
import Platform

/// Follows the files that match a path pattern and emits one log record per line (or per
/// multiline record): the `tail` task's reader.
///
/// The owner calls ``poll(into:budget:now:)`` every 250 ms or so when idle, and again at once
/// while ``ReadProgress/isMoreWaiting``. Each poll:
///
/// 1. every ``TailOptions/rescanInterval``, expands the pattern again (new files are adopted; a
///    known file under a new name is the same file, by device and inode);
/// 2. reads what each file holds beyond its position, older files first (a file that was
///    renamed away is read before the file that took its name), up to the budget;
/// 3. returns the checkpoint right after the records emitted.
///
/// **Files.** Identity is the device and inode plus a fingerprint of the first bytes
/// (``TailCheckpoint``). Rename rotation: the old file is followed through its open descriptor
/// to its end, then closed once it has not grown for ``TailOptions/rotateWait``; the new file
/// under the old name is read from its first byte. Deleted but open: the same. Copytruncate
/// and truncation: a file shorter than its position, or whose first bytes changed, is read again
/// from its first byte; lines written between the follower's last read and the truncation are
/// lost (the copy holds them, but no longer under a followed name). A file replaced under the
/// same name by one with a recycled inode has another fingerprint and is read from its start.
/// At most ``TailOptions/maxOpenFiles`` descriptors are held. Identities depend on `st_dev`
/// staying the same: file systems that renumber their devices on remount (NFS, some btrfs
/// subvolumes) make every file look new after a remount.
///
/// **Records.** `host` from the options, `app` the file's name, the line as the message, the
/// wall time of the poll as timestamp, no severity, and the fields `path` (the file's current
/// name) and `partial` (`true` on every piece of a split record but the last). Lines that are not
/// UTF-8 are repaired (U+FFFD). How lines become records (empty lines, CR, multiline, the size
/// limit, unfinished last lines) is ``RecordFramer``'s discussion: in short, a last line without
/// LF is emitted only once it is finished, or when its file was rotated away or deleted and
/// stopped growing.
///
/// **Memory.** One read buffer of `max(64 KiB, 2 × maxLineBytes + 4)` bytes for all files; no
/// file is ever held in memory.
///
/// Thread: not thread-safe; call it from one thread at a time (the agent's input worker: the
/// reads block on the disk, so not from an event loop).
///
/// ```swift
/// let follower = try FileFollower(options: TailOptions(path: "/var/log/app/*.log", host: "web-1"),
///                                 checkpoint: TailCheckpoint(encoded: assignment.checkpoint), logger: logger)
/// let progress = try follower.poll(into: &sink, budget: ReadBudget(), now: .now())
/// spool.remember(progress.checkpoint.encoded)   // report it once these records are acknowledged
/// ```
public final class FileFollower {
    /// The options it was made with.
    public let options: TailOptions
    let logger: Logger
    let framer: RecordFramer
    let hostBytes: [UInt8]
    let multilineTimeout: Int64
    let rotateWait: Int64
    let rescanInterval: Int64

    /// Known files, in discovery order.
    var files: [FollowedFile] = []
    var byIdentity: [FileIdentity: FollowedFile] = [:]
    /// Checkpoint entries whose file has not been found yet (until the first rescan ends).
    var restored: [FileIdentity: TailCheckpoint.Position]
    /// Whether the pattern has been expanded once.
    var hasLooked = false
    /// Files found at the first look start at their end (a fresh task with `from: end`).
    let startsFirstFilesAtEnd: Bool
    var nextRescan = Int64.min
    var nextSerial = 0
    var openCount = 0
    /// While polls run out of budget, live files are read in turn from this index, so that a
    /// busy file cannot starve the others.
    var turn = 0
    /// Whether the last poll ran out of budget.
    var wasCutShort = false
    var buffer: [UInt8]
    var scratch: [UInt8] = []

    /// A follower that resumes from `checkpoint` (empty: a fresh start).
    /// - Throws: ``InputError/Code/invalidParameter`` when `multilineStart` is not a valid
    ///   pattern or a limit is out of range.
    public init(options: TailOptions, checkpoint: TailCheckpoint = TailCheckpoint(), logger: Logger) throws(InputError) {
        guard options.maxLineBytes > 0, options.maxOpenFiles > 0 else {
            throw InputError(.invalidParameter, "maxLineBytes and maxOpenFiles must be positive", subject: options.path)
        }
        self.options = options
        self.logger = logger
        framer = RecordFramer(maxRecordBytes: options.maxLineBytes, startPattern: try options.multilineStart.map { pattern throws(InputError) in try StartPattern(pattern) })
        hostBytes = Array(options.host.utf8)
        multilineTimeout = options.multilineTimeout.clampedNanoseconds
        rotateWait = options.rotateWait.clampedNanoseconds
        rescanInterval = options.rescanInterval.clampedNanoseconds
        restored = Dictionary(checkpoint.files.map { ($0.identity, $0) }, uniquingKeysWith: { a, _ in a })
        startsFirstFilesAtEnd = options.from == .end && checkpoint.files.isEmpty
        buffer = [UInt8](repeating: 0, count: max(64 * 1024, framer.windowBytes))
    }

    /// Reads what is new, up to `budget`, and emits it into `sink`.
    /// - Parameter now: the poll's time: record timestamps (`wall`), rescans, the multiline
    ///   flush timeout and the rotate wait (`monotonic`).
    /// - Returns: the records emitted and the checkpoint right after them.
    /// - Throws: ``InputError/Code/fileAccess`` when a matching file cannot be opened or read
    ///   (records emitted before the failure are not covered by any checkpoint: a retry reads
    ///   them again).
    public func poll(into sink: inout some RecordSink, budget: ReadBudget, now: ReadTime) throws(InputError) -> ReadProgress<TailCheckpoint> {
        if now.monotonic >= nextRescan {
            try rescan(now: now)
            nextRescan = now.monotonic &+ rescanInterval
        }
        var meter = BudgetMeter(budget)
        var isMoreWaiting = false
        for file in readingOrder() {
            if try read(file, now: now, meter: &meter, into: &sink) {
                isMoreWaiting = true
                break
            }
        }
        retireFinishedFiles(now: now)
        wasCutShort = isMoreWaiting
        return ReadProgress(meter, checkpoint: checkpoint, isMoreWaiting: isMoreWaiting)
    }

    /// Where the follower stands: every known file's position right after the last record
    /// emitted.
    public var checkpoint: TailCheckpoint {
        TailCheckpoint(files: files.map(\.position) + restored.values)
    }

    /// How many files are open now.
    public var openFileCount: Int { openCount }

    /// The names of the files it follows, in discovery order (for status pages and tests).
    public var followedPaths: [String] { files.map(\.path) }

    /// Detached files first, then the live ones, each in discovery order (the older file of a
    /// rotation first). After a poll that ran out of budget the live files start one further,
    /// so that under load each takes its turn at going first.
    private func readingOrder() -> [FollowedFile] {
        let detached = files.filter(\.isDetached)
        let live = files.filter { !$0.isDetached }
        guard !live.isEmpty else { return detached }
        turn = wasCutShort ? (turn + 1) % live.count : 0
        return detached + live[turn...] + live[..<turn]
    }
}

@available(*, unavailable)
extension FileFollower: Sendable {}
