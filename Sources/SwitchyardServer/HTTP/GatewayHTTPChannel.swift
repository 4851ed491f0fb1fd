import NIOCore
import NIOHTTP1
import NIOSSL
import SwitchyardCore

/// HTTP/1.1 (with TLS when configured) on each client connection, each request run by
/// `RequestDispatcher` on the connection's event loop, with no async-sequence bridge between the
/// channel and the request. In front of it: NIO's decoder with hard limits (400 and close beyond
/// them) and `HTTP1ServerCodec`: the conversion to HTTPTypes, the answers' encoding, the answer to
/// malformed requests and the connection guard (listener limits, the idle timeout, and finishing
/// in-flight answers on graceful shutdown). Pipelined requests are queued by the dispatcher, not NIO's pipelining
/// handler, which stops reading during every answer.
struct GatewayHTTPChannel: Sendable {
    /// What runs each request.
    let lifecycle: RequestLifecycle
    /// The listener limits and idle timeout.
    let limits: ListenerSettings
    /// Bodies beyond this many bytes are answered 413.
    let bodyLimit: Int
    /// Open connections per client address, shared by the listener's connections.
    let registry: ConnectionRegistry
    /// The TLS context, when the listener serves TLS.
    let tls: NIOSSLContext?

    /// Builds the pipeline of a newly accepted `channel`.
    func setup(channel: any Channel) -> EventLoopFuture<Void> {
        channel.eventLoop.makeCompletedFuture {
            let pipeline = channel.pipeline.syncOperations
            try channel.syncOptions?.setOption(.recvAllocator, value: ReceiveBuffers.allocator)
            if let tls { try pipeline.addHandler(NIOSSLServerHandler(context: tls)) }
            var decoderLimits = NIOHTTPDecoderLimitConfiguration()
            let decoderLimit = 2 * (limits.maxHeaderBytes + limits.maxRequestLineBytes)
            decoderLimits.maxHeaderFieldSize = decoderLimit
            decoderLimits.maxHeaderListSize = decoderLimit
            decoderLimits.maxHeaderFieldCount = 2 * limits.maxHeaderCount
            try pipeline.addHandler(
                ByteToMessageHandler(
                    HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: decoderLimits)))
            try pipeline.addHandler(HTTP1ServerCodec(secure: tls != nil, limits: limits, registry: registry))
            try pipeline.addHandler(
                RequestDispatcher(lifecycle: lifecycle, bodyLimit: bodyLimit, discardBound: limits.maxDiscardBytes))
        }
    }
}
