import NIOCore
import SwitchyardCore

/// Ties upstream work to the client's connection: a client that hangs up stops the upstream
/// request at once, also while the provider is silent, instead of the gateway waiting for an
/// answer nobody will read (and paying for its tokens).
enum ClientPresence {
    /// Runs `operation` in a task on the connection's event loop that the client's going cancels
    /// (as does cancelling the caller); returns what it returned and whether it was cancelled.
    static func watching<T: Sendable>(
        _ channel: any Channel, _ operation: @escaping @Sendable () async -> T
    ) async -> (value: T, cancelled: Bool) {
        let task = Task(executorPreference: EventLoopExecutor.of(channel.eventLoop), operation: operation)
        let token = ClientWatch.shared.watch(channel) { task.cancel() }
        defer { ClientWatch.shared.release(channel, token: token) }
        let value = await withTaskCancellationHandler {
            await task.value
        } onCancel: {
            task.cancel()
        }
        return (value, task.isCancelled)
    }

    /// Runs `operation` as `watching` does. A cancelled operation that fails ends in a 499
    /// `client_closed_request` error for the log and metrics (the client is gone and never sees it).
    static func cancelOnClose<T: Sendable>(
        _ channel: any Channel, _ operation: @escaping @Sendable () async throws(GatewayError) -> T
    ) async throws(GatewayError) -> T {
        let (result, cancelled) = await watching(channel) { () async -> Result<T, GatewayError> in
            do throws(GatewayError) {
                return .success(try await operation())
            } catch {
                return .failure(error)
            }
        }
        switch result {
        case .success(let value): return value
        case .failure(let error): throw cancelled ? clientClosed : error
        }
    }

    /// The error a request ends with when its client went away first (nginx's 499).
    static var clientClosed: GatewayError {
        GatewayError(
            status: 499, type: "invalid_request_error",
            message: "The client closed the connection before the answer was ready.", code: "client_closed_request")
    }
}
