/// What one poll of a reader did.
public struct ReadProgress<Checkpoint: InputCheckpoint>: Sendable, Equatable {
    /// Records emitted by this poll.
    public var records: Int
    /// Message bytes emitted by this poll.
    public var bytes: Int
    /// Where the reader stands right after the records emitted so far: resuming from it
    /// (``InputCheckpoint``) reads what follows them and nothing before. The owner keeps it
    /// with the records and reports it once they are acknowledged; checkpoints only ever move
    /// forward.
    public var checkpoint: Checkpoint
    /// Whether more is ready than the budget allowed: poll again at once rather than after the
    /// idle cadence.
    public var isMoreWaiting: Bool

    public init(records: Int, bytes: Int, checkpoint: Checkpoint, isMoreWaiting: Bool) {
        self.records = records
        self.bytes = bytes
        self.checkpoint = checkpoint
        self.isMoreWaiting = isMoreWaiting
    }

    init(_ meter: BudgetMeter, checkpoint: Checkpoint, isMoreWaiting: Bool) {
        self.init(records: meter.records, bytes: meter.bytes, checkpoint: checkpoint, isMoreWaiting: isMoreWaiting)
    }
}
