/// How much one poll of a reader may emit.
///
/// A poll stops starting records once either limit is reached; the record that crosses the
/// byte limit is still emitted whole, so every poll with data makes progress. What is left stays
/// where it is (in the file, the pipe or the journal) for the next poll: nothing is lost when
/// the owner stops polling because its spool is full.
public struct ReadBudget: Sendable, Equatable {
    /// The most records one poll emits.
    public var records: Int
    /// The most message bytes one poll emits (fields and labels are not counted).
    public var bytes: Int

    /// A budget of `records` records and `bytes` message bytes; both must be positive.
    public init(records: Int = 10_000, bytes: Int = 4 << 20) {
        precondition(records > 0 && bytes > 0, "a read budget must allow at least one record")
        self.records = records
        self.bytes = bytes
    }
}

/// What a poll has spent of its ``ReadBudget``.
struct BudgetMeter {
    let budget: ReadBudget
    private(set) var records = 0
    private(set) var bytes = 0

    init(_ budget: ReadBudget) { self.budget = budget }

    /// Whether another record may start.
    var allowsRecord: Bool { records < budget.records && bytes < budget.bytes }

    mutating func spend(bytes count: Int) {
        records += 1
        bytes += count
    }

    /// Records without a message (metric samples).
    mutating func spend(records count: Int) {
        records += count
    }

    /// How many more records may start.
    var recordsLeft: Int { allowsRecord ? budget.records - records : 0 }
}
