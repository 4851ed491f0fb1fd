import Hummingbird
import NIOCore
import SwitchyardCore

/// Reads a request body up to the configured limit.
enum RequestBodyReader {
    /// The body `RequestDispatcher` collected (it keeps at most `limit` bytes), or 413 when the
    /// client sent more, in one part or many.
    static func read(_ request: Request, context: GatewayRequestContext, limit: Int) async throws -> ByteBuffer {
        if context.bodyOverLimit { throw GatewayError.bodyTooLarge(limit: limit) }
        return try await request.body.collect(upTo: limit)
    }
}
