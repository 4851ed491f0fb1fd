import Hummingbird
import NIOCore
import SwitchyardCore

/// Reads a request body up to the configured limit.
enum RequestBodyReader {
    /// The body `RequestDispatcher` collected, or 413 when it was over `limit` (also when a body
    /// arrives in parts beyond it).
    static func read(_ request: Request, context: GatewayRequestContext, limit: Int) async throws -> ByteBuffer {
        if context.bodyOverLimit { throw GatewayError.bodyTooLarge(limit: limit) }
        var collected: ByteBuffer?
        for try await chunk in request.body {
            guard var whole = collected else {
                collected = chunk
                continue
            }
            whole.writeImmutableBuffer(chunk)
            collected = whole
        }
        let body = collected ?? ByteBuffer()
        if body.readableBytes > limit { throw GatewayError.bodyTooLarge(limit: limit) }
        return body
    }
}
