/// Where a reader stands, in the task checkpoint form the node stores (a string → string map,
/// docs/control.md, "Checkpoints").
///
/// Every reader resumes exactly from any checkpoint it produced: a restart, or a move to
/// another daemon, reads on from the last acknowledged record with nothing lost and no
/// complete line read twice.
public protocol InputCheckpoint: Sendable, Equatable {
    /// The empty checkpoint: a fresh start.
    init()
    /// Reads the map a TASK_ASSIGN carries; an empty map is a fresh start.
    /// - Throws: ``InputError`` with code ``InputError/Code/invalidCheckpoint`` naming the entry
    ///   that cannot be read.
    init(encoded: [String: String]) throws(InputError)
    /// The map to report in TASK_STATUS.
    var encoded: [String: String] { get }
}
