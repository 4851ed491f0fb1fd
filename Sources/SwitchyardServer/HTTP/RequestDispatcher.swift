import HTTPTypes
import Hummingbird
import NIOCore
import NIOHTTPTypes

/// The last handler on a client connection: collects each request's head and body (up to the body
/// limit; beyond it only counts, so the pipeline can answer 413; a client that expects it is told
/// to continue first), then answers it in a task on the
/// connection's event loop and writes the answer straight to the channel. NIO's pipelining handler
/// holds the next request back until this answer's end is written, so one request runs at a time.
final class RequestDispatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart

    /// What answers a request (`ClientResponder`); errors are answers too.
    typealias Responder = @Sendable (Request, GatewayRequestContext) async -> Response

    private let responder: Responder
    private let bodyLimit: Int
    /// How much of an oversized body is read and thrown away so the client still receives the 413
    /// instead of a reset connection; past it the request is answered at once and the connection
    /// closed.
    private let discardBound: Int
    private var head: HTTPRequest?
    private var body = ByteBuffer()
    private var received = 0
    /// Whether an answer is being made or written; the next request waits for it (NIO's
    /// pipelining handler holds it back).
    private var answering = false
    /// Whether the connection closes once the current answer is out (the client closed its side).
    private var closeAfterAnswer = false

    /// A dispatcher answering through `responder`, keeping at most `bodyLimit` bytes of a body.
    init(responder: @escaping Responder, bodyLimit: Int, discardBound: Int) {
        self.responder = responder
        self.bodyLimit = bodyLimit
        self.discardBound = discardBound
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            if head.headerFields[.expect]?.lowercased() == "100-continue" {
                // The client waits for this before it sends the body (curl does for large bodies).
                context.writeAndFlush(NIOAny(HTTPResponsePart.head(HTTPResponse(status: .continue))), promise: nil)
            }
            body = ByteBuffer()
            received = 0
        case .body(let chunk):
            received += chunk.readableBytes
            if received <= bodyLimit {
                if body.readableBytes == 0 { body = chunk } else { body.writeImmutableBuffer(chunk) }
            } else if received > bodyLimit + discardBound {
                dispatch(context, closing: true)  // once: `dispatch` answers a request only once
            }
        case .end:
            dispatch(context, closing: false)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            // The client sends no more requests: close now, or once the current answer is out.
            if answering { closeAfterAnswer = true } else { context.close(promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// A malformed request (NIO's error handler has answered 400 already) or a broken connection:
    /// nothing more can be read from it.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Runs on the loop when an answer has been handed to the channel.
    private func answered(_ context: ChannelHandlerContext) {
        answering = false
        if closeAfterAnswer, context.channel.isActive { context.close(promise: nil) }
    }

    /// Answers the request read so far (once); `closing` (a body left unread) marks the answer
    /// `connection: close`, so the codec closes the connection after it.
    private func dispatch(_ context: ChannelHandlerContext, closing: Bool) {
        guard let head else { return }
        self.head = nil
        let channel = context.channel
        let request = Request(head: head, body: RequestBody(buffer: body))
        var requestContext = GatewayRequestContext(channel: channel)
        requestContext.bodyOverLimit = received > bodyLimit
        body = ByteBuffer()
        answering = true
        let responder = self.responder
        let done = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        Task(executorPreference: EventLoopExecutor.of(channel.eventLoop)) {
            var response = await responder(request, requestContext)
            response.headers[.date] = HTTPDate.now
            response.headers[.server] = "switchyard"
            if closing { response.headers[.connection] = "close" }
            await ChannelResponseWriter.write(response, to: channel)
            channel.eventLoop.execute { done.value.0.answered(done.value.1) }
        }
    }
}
