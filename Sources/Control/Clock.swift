import Platform
import Synchronization

/// A source of wall-clock time for the control plane: "now" in nanoseconds since the Unix epoch.
///
/// Everything in Control that needs the time takes an `EpochClock` (or a `now:` argument), so
/// tests drive time with a ``ManualEpochClock`` and no logic reads the system clock behind
/// their back. The pure parts (``HealthEvaluator``, ``RegistryState``) never read a clock:
/// their callers pass `now`.
///
/// Named `EpochClock` rather than `Clock` so it does not shadow the standard library's
/// `Clock` protocol (which measures instants, not wall-clock time).
///
/// Implementations must be thread-safe: ``DaemonRegistry`` reads its clock on event loops.
public protocol EpochClock: Sendable {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    var now: Int64 { get }
}

/// The system's real-time clock (`CLOCK_REALTIME`), through Platform's `WallClock`.
///
/// Wall-clock time can step backwards (NTP); the control plane clamps negative ages to zero.
public struct SystemEpochClock: EpochClock {
    public init() {}

    /// Nanoseconds since the Unix epoch, read from the system on every access.
    public var now: Int64 { WallClock.nanoseconds() }
}

/// A clock that only moves when told to: for tests and simulations.
///
/// Thread-safe: `now`, ``advance(by:)`` and ``set(_:)`` may be called from any thread.
///
/// ```swift
/// let clock = ManualEpochClock(now: 1_700_000_000_000_000_000)
/// let registry = DaemonRegistry(clock: clock)
/// clock.advance(by: .seconds(30))
/// ```
public final class ManualEpochClock: EpochClock {
    private let value: Mutex<Int64>

    /// A clock standing at `now` nanoseconds since the epoch (by default 2023-11-14T22:13:20Z).
    public init(now: Int64 = 1_700_000_000_000_000_000) { value = Mutex(now) }

    /// The time the clock stands at.
    public var now: Int64 { value.withLock { $0 } }

    /// Moves the clock by `duration` (which may be negative, to simulate a clock step).
    public func advance(by duration: Duration) { value.withLock { $0 += duration.clampedNanoseconds } }

    /// Moves the clock by `nanoseconds` (which may be negative).
    public func advance(nanoseconds: Int64) { value.withLock { $0 += nanoseconds } }

    /// Puts the clock at `nanoseconds` since the epoch.
    public func set(_ nanoseconds: Int64) { value.withLock { $0 = nanoseconds } }
}
