import Hummingbird
import NIOCore
import SwitchyardCore

/// Reads a request body up to the configured limit.
enum RequestBodyReader {
    /// The body `RequestDispatcher` collected, or 413 when it was over `limit` (also when a body
    /// arrives in parts beyond it).
    static func read(_ request: Request, context: GatewayRequestContext, limit: Int) async throws -> ByteBuffer {
        if context.bodyOverLimit { throw GatewayError.bodyTooLarge(limit: limit) }
        do {
            return try await request.body.collect(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw GatewayError.bodyTooLarge(limit: limit)
        }
    }
}
