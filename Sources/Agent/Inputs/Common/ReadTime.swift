import Platform

/// The two clocks a reader needs, read once per poll by the reader's owner.
///
/// Readers never read a clock themselves: the owner passes the time in, so tests drive
/// timeouts and intervals by hand.
public struct ReadTime: Sendable, Equatable {
    /// Nanoseconds since the Unix epoch: the timestamp of records that carry none of their own,
    /// and the run times kept in checkpoints (they survive a restart or a move to another host).
    public var wall: Int64
    /// Nanoseconds on the monotonic clock: timeouts, waits and back-offs.
    public var monotonic: Int64

    public init(wall: Int64, monotonic: Int64) {
        self.wall = wall
        self.monotonic = monotonic
    }

    /// Both clocks now.
    public static func now() -> ReadTime {
        ReadTime(wall: WallClock.nanoseconds(), monotonic: MonotonicClock.nanoseconds())
    }

    /// This time moved on by `duration` on both clocks.
    public func advanced(by duration: Duration) -> ReadTime {
        let nanoseconds = duration.clampedNanoseconds
        return ReadTime(wall: wall &+ nanoseconds, monotonic: monotonic &+ nanoseconds)
    }
}
