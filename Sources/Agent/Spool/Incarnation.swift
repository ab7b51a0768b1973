import Platform
import Wire

/// The spool's incarnation (docs/protocol.md, 10.2): the identity of its de-duplication state,
/// named in every HELLO. Kept in `<spool>/incarnation` as long as the spool lives, so a restart
/// that keeps the spool carries its producer sequences on; a new spool gets a new random one,
/// and the node then gives its tasks a new epoch instead of taking its fresh sequences for
/// duplicates.
enum Incarnation {
    /// Reads the incarnation of the spool in `directory`; a new one when `fresh` (the spool was
    /// just created) or when there is none.
    static func load(directory: String, fresh: Bool) throws(SystemError) -> DaemonIncarnation {
        let path = directory + "/incarnation"
        if !fresh, let bytes = try FileSystem.read(path),
            let kept = DaemonIncarnation(hex: String(decoding: bytes, as: UTF8.self).filter { !$0.isWhitespace })
        {
            return kept
        }
        let value = DaemonIncarnation.random()
        try FileSystem.writeAtomically(path, Array("\(value)\n".utf8))
        return value
    }
}
