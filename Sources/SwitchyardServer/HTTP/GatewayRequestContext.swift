import Hummingbird
import NIOCore

/// Per-request state: Hummingbird's core storage, the client's channel (to notice a client that
/// goes away mid-stream) and the request id.
public struct GatewayRequestContext: RequestContext {
    /// Hummingbird's per-request storage.
    public var coreContext: CoreRequestContextStorage
    /// The client connection.
    public let channel: any Channel
    /// The request id, taken from `x-request-id` or generated; set by `EdgeMiddleware`.
    public var requestID: String = ""
    /// The request's place under the concurrency limit, when one applies; set by
    /// `ConcurrencyLimitMiddleware`, kept by a streamed answer until its last byte.
    var concurrencySlot: ConcurrencyLimitMiddleware.Slot?
    /// Whether the request's body was larger than the limit (so only part of it was kept); set by
    /// `RequestDispatcher`, answered 413 by the pipeline.
    var bodyOverLimit = false

    /// Creates a context for a request on `source.channel`.
    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
