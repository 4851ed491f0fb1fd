import Hummingbird
import NIOCore
import SwitchyardCore

/// Reads a request body up to the configured limit.
enum RequestBodyReader {
    /// How much of an oversized body is read and thrown away so the client still receives the 413
    /// instead of a reset connection (as nginx's lingering close does).
    static let discardBound = 64 * 1024 * 1024

    /// Collects the body, or throws 413 after draining up to `discardBound` more bytes.
    static func read(_ body: RequestBody, limit: Int) async throws -> ByteBuffer {
        var collected = ByteBuffer()
        var total = 0
        for try await chunk in body {
            total += chunk.readableBytes
            if total > limit {
                if total > limit + discardBound { break }
                continue
            }
            collected.writeImmutableBuffer(chunk)
        }
        if total > limit { throw GatewayError.bodyTooLarge(limit: limit) }
        return collected
    }
}
