/// A reader as the agent drives it, whatever its kind: the readers of `Inputs` behind one
/// face, with their checkpoints in the task's string-map form.
protocol InputReader: AnyObject {
    /// Reads what is available now into `sink`, within `budget` (see the readers' `poll`).
    func poll(into sink: inout InputBatcher, budget: ReadBudget, now: ReadTime) throws(InputError) -> InputPoll
    /// Ends the reader's child processes and open files. Called once, on the input's thread.
    func stop()
}

/// What one poll did, in the agent's terms.
struct InputPoll {
    /// Records emitted.
    var records: Int
    /// Where the reader stands after them.
    var checkpoint: [String: String]
    /// Poll again at once.
    var isMoreWaiting: Bool
}
