import NIOCore

/// Per-request state: the client's channel (to notice a client that goes away mid-stream), the
/// request id and the request's place under the concurrency limit.
public struct GatewayRequestContext: Sendable {
    /// The client connection.
    public let channel: any Channel
    /// The request id, taken from `x-request-id` or generated; set by `ClientResponder`.
    public var requestID: String = ""
    /// The request's place under the concurrency limit, when one applies; set by
    /// `ClientResponder`, kept by a streamed answer until its last byte.
    var concurrencySlot: ConcurrencyLimit.Slot?
    /// Whether the request's body was larger than the limit (so only part of it was kept); set by
    /// `RequestDispatcher`, answered 413 by the pipeline.
    var bodyOverLimit = false

    /// Creates a context for a request on `channel`.
    public init(channel: any Channel) {
        self.channel = channel
    }
}
