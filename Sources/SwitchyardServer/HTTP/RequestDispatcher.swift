import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// The last handler on a client connection: collects each request's head and body (up to the body
/// limit; beyond it only counts, so the lifecycle can answer 413; a client that expects it is told
/// to continue first), then runs the request's lifecycle in a task on the connection's event loop.
/// NIO's pipelining handler holds the next request back until this answer's end is written, so
/// one request runs at a time. The task is this handler's: a client that hangs up or stops
/// sending cancels it at once, also while the provider is silent, instead of the gateway waiting
/// for an answer nobody will read (and paying for its tokens).
final class RequestDispatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ClientRequestPart

    private let lifecycle: RequestLifecycle
    private let bodyLimit: Int
    /// How much of an oversized body is read and thrown away so the client still receives the 413
    /// instead of a reset connection; past it the request is answered at once and the connection
    /// closed.
    private let discardBound: Int
    private var head: (request: HTTPRequest, refusal: ListenerRefusal?)?
    private var body = ByteBuffer()
    private var received = 0
    /// The request being answered; the next request waits for it (NIO's pipelining handler holds
    /// it back).
    private var answering: Task<Void, Never>?
    /// The number of the request being answered, so a late notice of an earlier one's end does
    /// not clear it.
    private var answerNumber = 0
    /// Whether the client has stopped sending: the request in progress is cancelled, and so is any
    /// later one (like nginx, a client that shuts its side down is taken as gone).
    private var clientLeft = false

    /// A dispatcher running `lifecycle`, keeping at most `bodyLimit` bytes of a body.
    init(lifecycle: RequestLifecycle, bodyLimit: Int, discardBound: Int) {
        self.lifecycle = lifecycle
        self.bodyLimit = bodyLimit
        self.discardBound = discardBound
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request, let refusal):
            head = (request, refusal)
            if request.headerFields[.expect]?.lowercased() == "100-continue" {
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
            clientLeft = true
            if let answering { answering.cancel() } else { context.close(promise: nil) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        answering?.cancel()
        context.fireChannelInactive()
    }

    /// A malformed request (NIO's error handler has answered 400 already) or a broken connection:
    /// nothing more can be read from it.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Runs on the loop when the lifecycle of request `number` has ended.
    private func answered(_ context: ChannelHandlerContext, number: Int) {
        guard number == answerNumber else { return }
        answering = nil
        if clientLeft, context.channel.isActive { context.close(promise: nil) }
    }

    /// Answers the request read so far (once); `closing` (a body left unread) marks the answer
    /// `connection: close`, so the codec closes the connection after it.
    private func dispatch(_ context: ChannelHandlerContext, closing: Bool) {
        guard let head else { return }
        self.head = nil
        let request = ClientRequest(
            head: head.request, body: body, bodyOverLimit: received > bodyLimit, refusal: head.refusal,
            closesConnection: closing)
        body = ByteBuffer()
        let channel = context.channel
        let lifecycle = self.lifecycle
        let done = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        answerNumber += 1
        let number = answerNumber
        let task = Task(executorPreference: EventLoopExecutor.of(channel.eventLoop)) {
            await lifecycle.run(request, on: channel)
            channel.eventLoop.execute { done.value.0.answered(done.value.1, number: number) }
        }
        answering = task
        if clientLeft || !channel.isActive { task.cancel() }
    }
}
