import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import SwitchyardCore

/// The handler of a client connection after NIO's HTTP/1 decoder and encoder. It converts the
/// parts to HTTPTypes and back, as NIOHTTPTypesHTTP1's `HTTP1ToHTTPServerCodec` does, applies the
/// connection's guard (`ConnectionGuard`: listener limits, idle timeout, graceful shutdown), answers
/// a request the decoder cannot parse with a 400, as NIO's `HTTPServerProtocolErrorHandler` does,
/// and keeps HTTP/1.x's rules on the connection's persistence, which the conversion loses (the
/// version):
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
/// The three are one handler because each handler on the path casts every request and answer part
/// out of `NIOAny` and back.
final class HTTP1ServerCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = ClientRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let secure: Bool
    private let connectionGuard: ConnectionGuard
    /// The requests read and not yet answered, oldest first (a pipelining client sends the next
    /// before the answer to the last): each one's version, and whether it keeps the connection
    /// alive. Answers go out in order, so the first is the one being answered.
    private var requests = CircularBuffer<(http10: Bool, keepAlive: Bool)>(initialCapacity: 2)
    /// The request being answered.
    private var current: (http10: Bool, keepAlive: Bool) { requests.first ?? (false, true) }
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
            requests.append((head.version == .http1_0, head.isKeepAlive))
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
            let head = HTTPResponseHead(
                version: .http1_1, status: .badRequest, headers: ["connection": "close", "content-length": "0"])
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        context.fireErrorCaught(error)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            var head = HTTPResponseHead(response)
            if head.status.code < 200 {
                // An interim answer (`100 Continue`), before the real one; HTTP/1.0 has none.
                if current.http10 {
                    promise?.succeed(())
                } else {
                    context.write(wrapOutboundOut(.head(head)), promise: promise)
                }
                return
            }
            answerOpen = true
            let unframed = current.http10 && !head.headers.contains(name: "content-length")
            closeAfterEnd = !current.keepAlive || unframed || head.headers.first(name: "connection") == "close"
            if current.http10 {
                head.version = .http1_0
                head.headers.replaceOrAdd(name: "connection", value: closeAfterEnd ? "close" : "keep-alive")
            } else if closeAfterEnd {
                head.headers.replaceOrAdd(name: "connection", value: "close")
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body(let body):
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: promise)
        case .end(let trailers):
            _ = requests.popFirst()
            answerOpen = false
            connectionGuard.answered(context: context) { writeEnd(trailers, context: context, promise: promise) }
        }
    }

    /// Writes an answer's end; when the connection does not persist, its output closes once the end
    /// is written.
    private func writeEnd(_ trailers: HTTPFields?, context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        let end = wrapOutboundOut(.end(trailers.map(HTTPHeaders.init)))
        guard closeAfterEnd else { return context.write(end, promise: promise) }
        closeAfterEnd = false
        let written = promise ?? context.eventLoop.makePromise()
        context.write(end, promise: written)
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
