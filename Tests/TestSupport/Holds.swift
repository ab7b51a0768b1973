import Foundation

// Negative checks: "nothing happens". Where a test must show that something does not happen
// (no second notification, no report after a revoke, no timer after a kill), waiting is the
// thing under test. These helpers check the condition all through the wait instead of once
// after a fixed sleep: they fail as soon as it breaks, and say what the window was.

/// Checks `condition` every `interval` for the whole `window`; false as soon as it fails.
public func holds(
    for window: Duration, every interval: Duration = .milliseconds(20), _ condition: () throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + window
    while ContinuousClock.now < deadline {
        guard try condition() else { return false }
        try? await Task.sleep(for: interval)
    }
    return try condition()
}

/// The blocking form of ``holds(for:every:_:)``, for synchronous tests.
public func holdsBlocking(
    for window: Duration, every interval: Duration = .milliseconds(20), _ condition: () throws -> Bool
) rethrows -> Bool {
    let deadline = ContinuousClock.now + window
    while ContinuousClock.now < deadline {
        guard try condition() else { return false }
        Thread.sleep(forTimeInterval: interval.timeInterval)
    }
    return try condition()
}

/// Checks `invariant` every `interval` until `done` holds: true when the invariant held at
/// every check up to and including the one where `done` held; false as soon as it fails, or
/// when `done` did not come within `timeout`.
///
/// The window ends on something the system under test does (evaluation rounds run, a
/// period passed on its own clock) rather than on wall-clock time, so a loaded machine makes
/// the check longer, never weaker.
public func holds(
    _ invariant: () throws -> Bool, until done: () throws -> Bool, timeout: Duration = .seconds(30),
    every interval: Duration = .milliseconds(20)
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        guard try invariant() else { return false }
        if try done() { return try invariant() }
        guard ContinuousClock.now < deadline else { return false }
        try? await Task.sleep(for: interval)
    }
}

/// The blocking form of ``holds(_:until:timeout:every:)``, for synchronous tests.
public func holdsBlocking(
    _ invariant: () throws -> Bool, until done: () throws -> Bool, timeout: Duration = .seconds(30),
    every interval: Duration = .milliseconds(50)
) rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while true {
        guard try invariant() else { return false }
        if try done() { return try invariant() }
        guard ContinuousClock.now < deadline else { return false }
        Thread.sleep(forTimeInterval: interval.timeInterval)
    }
}
