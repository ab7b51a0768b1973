/// Where a reader with no checkpoint starts (the `from` task parameter).
public enum ReadStart: String, Sendable {
    /// At the beginning of what there is: a file's first byte, the journal's oldest entry.
    case start
    /// After what there is now: only what is written from now on.
    case end
}
