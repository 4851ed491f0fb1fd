import NIOCore
import SwitchyardCore

/// Ties upstream work to the client's connection: a client that hangs up stops the upstream
/// request at once, also while the provider is silent, instead of the gateway waiting for an
/// answer nobody will read (and paying for its tokens).
enum ClientPresence {
    /// Runs `operation` in a task (on the connection's event loop) that the close of `channel` cancels. A cancelled
    /// operation ends in a 499 `client_closed_request` error for the log and metrics (the client
    /// is gone and never sees it).
    static func cancelOnClose<T: Sendable>(
        _ channel: any Channel, _ operation: @escaping @Sendable () async throws(GatewayError) -> T
    ) async throws(GatewayError) -> T {
        let task = Task(executorPreference: EventLoopExecutor.of(channel.eventLoop)) { () async throws -> T in
            try await operation()
        }
        let token = ClientWatch.shared.watch(channel) { task.cancel() }
        defer { ClientWatch.shared.release(channel, token: token) }
        do {
            return try await withTaskCancellationHandler {
                try await task.value
            } onCancel: {
                task.cancel()
            }
        } catch {
            if task.isCancelled { throw clientClosed }
            // The operation throws only GatewayError.
            throw error as? GatewayError ?? .badGateway("\(error)")
        }
    }

    /// The error a request ends with when its client went away first (nginx's 499).
    static var clientClosed: GatewayError {
        GatewayError(
            status: 499, type: "invalid_request_error",
            message: "The client closed the connection before the answer was ready.", code: "client_closed_request")
    }
}
