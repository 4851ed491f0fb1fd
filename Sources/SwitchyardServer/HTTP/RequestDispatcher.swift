import HTTPTypes
import NIOCore
import SwitchyardTaskRoom

/// The last handler on a client connection: collects each request's head and body (up to the body
/// limit; beyond it only counts, so the lifecycle can answer 413; a client that expects it is told
/// to continue first), then runs the request's lifecycle in a task on the connection's event loop.
///
/// One request runs at a time. The connection keeps reading while a request is answered, so a
/// client that leaves is noticed at once and the socket's read interest never changes on the
/// common path; a pipelined request that arrives meanwhile is queued, and reading stops until
/// the answer before it is out. The task is this handler's: a client that hangs up or stops
/// sending cancels it at once, also while the provider is silent, instead of the gateway waiting
/// for an answer nobody will read (and paying for its tokens).
final class RequestDispatcher: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ClientRequestPart
    typealias OutboundIn = AnswerPart
    typealias OutboundOut = AnswerPart

    /// What arrived while a request was being answered, to be handled in order after it.
    private enum Queued {
        case part(ClientRequestPart)
        case inputClosed
    }

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
    /// Parts of pipelined requests that arrived during an answer. Room for one at first: few
    /// clients pipeline, and every open connection holds this buffer.
    private var queued = CircularBuffer<Queued>(initialCapacity: 1)
    /// Whether NIO asked to read while requests were queued; the read is made once they are done.
    private var readHeld = false

    /// The bytes a request's task reserves for its frames at its start: what a stream's frames
    /// take at their deepest. Swift's task allocator gives every frame larger than its default
    /// slab a slab of its own and the small frames after it a new, mostly empty one, and keeps
    /// them all until the task ends, which for a stream is its whole life. Frames laid out one
    /// after another in the reserved slab take less memory, in one allocation.
    static let frameRoom = 8192

    /// A dispatcher running `lifecycle`, keeping at most `bodyLimit` bytes of a body.
    init(lifecycle: RequestLifecycle, bodyLimit: Int, discardBound: Int) {
        self.lifecycle = lifecycle
        self.bodyLimit = bodyLimit
        self.discardBound = discardBound
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        guard answering == nil, queued.isEmpty else { return queued.append(.part(part)) }
        handle(part, context: context)
    }

    /// Reads are held while pipelined requests wait, so a client cannot queue without bound.
    func read(context: ChannelHandlerContext) {
        if queued.isEmpty { context.read() } else { readHeld = true }
    }

    /// One part of the request being read.
    private func handle(_ part: ClientRequestPart, context: ChannelHandlerContext) {
        switch part {
        case .head(let request, let refusal):
            head = (request, refusal)
            if request.headerFields.value(of: .expect)?.lowercased() == "100-continue" {
                // The client waits for this before it sends the body (curl does for large bodies).
                context.writeAndFlush(NIOAny(AnswerPart.head(HTTPResponse(status: .continue))), promise: nil)
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
            // Requests sent before it are answered first.
            if queued.isEmpty { inputClosed(context) } else { queued.append(.inputClosed) }
        }
        context.fireUserInboundEventTriggered(event)
    }

    /// The client sends no more requests: close now, or once the current answer is out.
    private func inputClosed(_ context: ChannelHandlerContext) {
        clientLeft = true
        if let answering { answering.cancel() } else { context.close(promise: nil) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        answering?.cancel()
        context.fireChannelInactive()
    }

    /// A malformed request (the codec has answered 400 already) or a broken connection:
    /// nothing more can be read from it.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    /// Runs on the loop when the lifecycle of request `number` has ended.
    private func answered(_ context: ChannelHandlerContext, number: Int) {
        guard number == answerNumber else { return }
        answering = nil
        if clientLeft, context.channel.isActive { return context.close(promise: nil) }
        while answering == nil, let next = queued.popFirst() {
            switch next {
            case .part(let part): handle(part, context: context)
            case .inputClosed: inputClosed(context)
            }
        }
        if queued.isEmpty, readHeld {
            readHeld = false
            context.read()
        }
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
            switchyard_task_reserve(RequestDispatcher.frameRoom)
            await lifecycle.run(request, on: channel)
            channel.eventLoop.execute { done.value.0.answered(done.value.1, number: number) }
        }
        answering = task
        if clientLeft || !channel.isActive { task.cancel() }
    }
}
