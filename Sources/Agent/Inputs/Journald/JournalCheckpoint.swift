/// Where a ``JournalFollower`` stands: the cursor of the last entry emitted.
///
/// Encoded as `{"cursor": "<journal cursor>"}` (journalctl's `__CURSOR`, e.g.
/// `s=d8979dd6…;i=159;b=ba89fe24…;m=27d6dbe4f;t=661a6ab42fc5b;x=54c77ec3…`), or empty before the
/// first entry. Resuming passes it to `journalctl --after-cursor`: the entries after it, none
/// twice. A cursor belongs to one host's journal; on another host journalctl seeks to the
/// nearest entry it can match, by time when the sequence is unknown to it.
public struct JournalCheckpoint: InputCheckpoint {
    /// The last entry emitted, `nil` before the first.
    public var cursor: String?

    public init() { cursor = nil }

    public init(cursor: String?) { self.cursor = cursor }

    public init(encoded: [String: String]) throws(InputError) {
        guard let cursor = encoded["cursor"] else {
            self.init()
            return
        }
        guard !cursor.isEmpty, !cursor.utf8.contains(where: { $0 < 0x20 }) else {
            throw InputError(.invalidCheckpoint, "journald checkpoint cursor \"\(cursor)\" is not a journal cursor", subject: "cursor")
        }
        self.init(cursor: cursor)
    }

    public var encoded: [String: String] { cursor.map { ["cursor": $0] } ?? [:] }
}
