import Control
import Hummingbird

extension ControlCoordinator {
    /// ``ControlCoordinator/perform(_:)`` for a request of the HTTP API: a `TaskError` or
    /// `ConfigError` that `body` throws becomes the ``APIError`` docs/api.md answers it with
    /// (400, 404, 409 or 429). Whatever `body` changed before it threw is committed, as with
    /// `perform`: bodies check before they change.
    func performRequest<T: Sendable>(_ body: @escaping @Sendable (inout ControlState) throws -> T) async throws -> T {
        do {
            return try await perform(body)
        } catch let error as TaskError {
            throw APIError(error)
        } catch let error as ConfigError {
            throw APIError(refused: error.kind, error.message)
        }
    }
}
