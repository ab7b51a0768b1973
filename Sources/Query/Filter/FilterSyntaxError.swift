/// A filter expression that does not parse, with the 1-based column (in Unicode scalars) of
/// the first character that is wrong and a sentence that says what was expected there.
///
/// ```swift
/// do { _ = try LogFilter("(host:web-01 or app:nginx") } catch {
///     print(error)   // column 26: expected ')' to close the '(' at column 1
/// }
/// ```
public struct FilterSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Where the problem is, counting from 1.
    public let column: Int
    /// What is wrong, without the column.
    public let message: String

    /// An error at `column` saying `message`.
    public init(column: Int, _ message: String) {
        self.column = column
        self.message = message
    }

    /// `column N: message`.
    public var description: String { "column \(column): \(message)" }
}
