import Control
import ServiceLifecycle

/// The control coordinator as a service: its loop runs from construction; on graceful
/// shutdown it commits what is pending and stops.
struct CoordinatorService: Service {
    let coordinator: ControlCoordinator

    func run() async throws {
        try? await gracefulShutdown()
        coordinator.stop()
    }
}
