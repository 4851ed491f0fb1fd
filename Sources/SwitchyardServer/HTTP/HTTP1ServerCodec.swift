import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import SwitchyardCore

/// The handler of a client connection after NIO's HTTP/1 decoder. It converts the request parts
/// to HTTPTypes, as NIOHTTPTypesHTTP1's `HTTP1ToHTTPServerCodec` does, writes the answer's parts as
/// bytes, as NIO's `HTTPResponseEncoder` would (`AnswerFraming`, `ByteBuffer.writeAnswerHead`),
/// applies the connection's guard (`ConnectionGuard`: listener limits, idle timeout, graceful
/// shutdown), answers a request the decoder cannot parse with a 400, as NIO's
/// `HTTPServerProtocolErrorHandler` does, and keeps HTTP/1.x's rules on the connection's
/// persistence, which the conversion loses (the version):
/// - a request target in origin form (`/path?query`, what clients send) is taken as it is; the
///   library parses every target as a URL (`URLComponents`) only to return such a target unchanged;
/// - the connection closes once an answer's end is written when the request does not keep it
///   alive (`connection: close`, or HTTP/1.0 without `keep-alive`) or the answer says
///   `connection: close` (a refusal, a body left unread), so a client reading to the end is not
///   left waiting; the output closes first, so the answer is not cut by a reset;
/// - an HTTP/1.0 request is answered in HTTP/1.0, which has no chunked encoding and no interim
///   answers: an answer without a known length (a stream) is sent as it is and ends when the
///   connection closes, and a `100 Continue` is not sent.
///
/// They are one handler because each handler on the path casts every request and answer part out
/// of `NIOAny` and back.
final class HTTP1ServerCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = ClientRequestPart
    typealias OutboundIn = AnswerPart
    typealias OutboundOut = ByteBuffer

    private let secure: Bool
    private let connectionGuard: ConnectionGuard
    /// The requests read and not yet answered, oldest first (a pipelining client sends the next
    /// before the answer to the last): each one's method and version, and whether it keeps the
    /// connection alive. Answers go out in order, so the first is the one being answered.
    private var requests = CircularBuffer<Answered>(initialCapacity: 2)
    /// The request being answered.
    private var current: Answered { requests.first ?? Answered(method: .GET, http10: false, keepAlive: true) }
    /// The framing of the answer being written.
    private var framing = AnswerFraming()
    /// Whether the connection closes once the answer's end is written.
    private var closeAfterEnd = false
    /// Whether an answer's head has been written and its end not yet: a malformed request is then
    /// not answered (the connection closes, cutting the answer).
    private var answerOpen = false

    /// A codec for a connection with TLS (`https` requests) or without, guarded by `limits`, its
    /// address counted in `registry`.
    init(secure: Bool, limits: ListenerSettings, registry: ConnectionRegistry) {
        self.secure = secure
        connectionGuard = ConnectionGuard(limits: limits, registry: registry)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        connectionGuard.added(context: context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        connectionGuard.removed()
    }

    func channelActive(context: ChannelHandlerContext) {
        connectionGuard.activated(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectionGuard.deactivated()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else { return context.fireUserInboundEventTriggered(event) }
        connectionGuard.quiesce(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requests.append(
                Answered(method: head.method, http10: head.version == .http1_0, keepAlive: head.isKeepAlive))
            let request: HTTPRequest
            do {
                request = try self.request(head)
            } catch {
                return context.fireErrorCaught(error)
            }
            if let refusal = connectionGuard.read(head: request, context: context) {
                // Nothing of what the client sent is held, only the method the answer needs.
                let stripped = HTTPRequest(method: request.method, scheme: nil, authority: nil, path: "/")
                context.fireChannelRead(wrapInboundOut(.head(stripped, refusal: refusal)))
            } else {
                context.fireChannelRead(wrapInboundOut(.head(request, refusal: nil)))
            }
        case .body(let body):
            connectionGuard.read(end: false, context: context)
            context.fireChannelRead(wrapInboundOut(.body(body)))
        case .end:
            connectionGuard.read(end: true, context: context)
            context.fireChannelRead(wrapInboundOut(.end))
        }
    }

    /// A request the decoder could not parse is answered 400 with `connection: close` unless an
    /// answer is being written; the error goes on, and the connection closes.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if error is HTTPParserError, !answerOpen {
            var bytes = context.channel.allocator.buffer(capacity: 96)
            bytes.writeStaticString("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n")
            context.writeAndFlush(wrapOutboundOut(bytes), promise: nil)
        }
        context.fireErrorCaught(error)
    }

    /// Writes the answer's parts as bytes: the head with its framing settled (`AnswerFraming`),
    /// the body as it comes or in chunks, and the chunked body's last chunk at the end.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            let request = current
            var hasLength = false
            var connection: String?
            for field in response.headerFields {
                switch FramingHeader(field.name) {
                case .contentLength: hasLength = true
                case .connection where connection == nil: connection = field.value
                default: break
                }
            }
            // An interim answer (`100 Continue`) comes before the real one; HTTP/1.0 has none.
            // The status is parsed from the head's fields at each read: read once.
            let code = response.status.code
            let (persistence, framing): (String?, AnswerFraming)
            if code < 200 {
                if request.http10 {
                    promise?.succeed(())
                    return
                }
                (persistence, framing) = (
                    nil, AnswerFraming(status: code, hasLength: hasLength, method: request.method, http10: false)
                )
            } else {
                (persistence, framing) = open(status: code, hasLength: hasLength, closes: connection == "close")
            }
            let head = AnswerHead(response: response, connection: persistence, framing: framing, http10: request.http10)
            var bytes = context.channel.allocator.buffer(capacity: 0)
            bytes.writeAnswerHead(head)
            context.write(wrapOutboundOut(bytes), promise: promise)
        case .encodedHead(let head):
            let (persistence, framing) = open(
                status: head.status.code, hasLength: head.length != nil, closes: head.closes)
            var bytes = context.channel.allocator.buffer(capacity: 0)
            bytes.writeAnswerHead(head, connection: persistence, framing: framing, http10: current.http10)
            context.write(wrapOutboundOut(bytes), promise: promise)
        case .body(let body):
            if framing.bodiless {
                promise?.fail(AnswerBodyNotAllowed())
            } else if framing.chunked, body.readableBytes > 0 {
                writeChunk(body, context: context, promise: promise)
            } else {
                context.write(wrapOutboundOut(body), promise: promise)
            }
        case .end(let trailers):
            _ = requests.popFirst()
            answerOpen = false
            connectionGuard.answered(context: context) { writeEnd(trailers, context: context, promise: promise) }
        }
    }

    /// Opens the final answer to the current request, with `status` and a `content-length` or
    /// not, that closes the connection when `closes`: settles whether the connection closes once
    /// the answer is written and how its body is framed. Returns the `connection` value its head
    /// gets (nil for none) and the framing.
    private func open(status: Int, hasLength: Bool, closes: Bool) -> (String?, AnswerFraming) {
        let request = current
        answerOpen = true
        closeAfterEnd = !request.keepAlive || (request.http10 && !hasLength) || closes
        framing = AnswerFraming(status: status, hasLength: hasLength, method: request.method, http10: request.http10)
        // HTTP/1.1 persists unless told; HTTP/1.0 closes unless told.
        return (closeAfterEnd ? "close" : request.http10 ? "keep-alive" : nil, framing)
    }

    /// Writes one chunk of a chunked body: a small one copied behind its size line in one buffer,
    /// a larger one passed on as it is between its size line and its line end (three buffers, one
    /// `writev`), so a stream's large reads are not copied. Behind TLS every chunk is copied: each
    /// buffer written would become a TLS record of its own.
    private func writeChunk(_ body: ByteBuffer, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard !secure, body.readableBytes >= Self.copiedChunkLimit else {
            var bytes = context.channel.allocator.buffer(capacity: body.readableBytes + 16)
            bytes.writeChunk(body)
            context.write(wrapOutboundOut(bytes), promise: promise)
            return
        }
        var size = context.channel.allocator.buffer(capacity: 16)
        size.writeChunkSize(of: body)
        context.write(wrapOutboundOut(size), promise: nil)
        context.write(wrapOutboundOut(body), promise: nil)
        context.write(wrapOutboundOut(Self.lineEnd), promise: promise)
    }

    /// The body size from which a chunk is written in three buffers rather than copied into one:
    /// below it, a copy costs less than two more writes through the pipeline.
    static let copiedChunkLimit = 1024

    private static let lineEnd = ByteBuffer(staticString: "\r\n")

    /// Writes an answer's end (a chunked body's last chunk and trailers; nothing otherwise, but
    /// the promise completes in order); when the connection does not persist, its output closes
    /// once the end is written.
    private func writeEnd(_ trailers: HTTPFields?, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        var end = context.channel.allocator.buffer(capacity: 0)
        if framing.chunked { end.writeLastChunk(trailers: trailers) }
        framing = AnswerFraming()
        guard closeAfterEnd else {
            if end.readableBytes > 0 || promise != nil { context.write(wrapOutboundOut(end), promise: promise) }
            return
        }
        closeAfterEnd = false
        let written = promise ?? context.eventLoop.makePromise()
        context.write(wrapOutboundOut(end), promise: written)
        let channel = context.channel
        written.futureResult.whenComplete { _ in
            channel.close(mode: .output).whenFailure { _ in channel.close(promise: nil) }
        }
    }

    private func request(_ head: HTTPRequestHead) throws -> HTTPRequest {
        guard head.uri.utf8.first == UInt8(ascii: "/") else {
            return try HTTPRequest(head, secure: secure, splitCookie: false)
        }
        return HTTPRequest(
            method: try HTTPRequest.Method(head.method), scheme: secure ? "https" : "http",
            authority: head.headers.first(name: "host"), path: head.uri,
            headerFields: HTTPFields(head.headers, splitCookie: false))
    }
}

/// What the answer to a request depends on: its method (an answer to `HEAD` has no body), its
/// version and whether it keeps the connection alive.
struct Answered {
    /// The request's method.
    var method: HTTPMethod
    /// Whether the request was HTTP/1.0.
    var http10: Bool
    /// Whether the request keeps the connection alive.
    var keepAlive: Bool
}
