import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Converts a client connection's HTTP/1 parts to HTTPTypes and back, as NIOHTTPTypesHTTP1's
/// `HTTP1ToHTTPServerCodec` does, and keeps HTTP/1.x's rules on the connection's persistence,
/// which the conversion loses (the version):
/// - a request target in origin form (`/path?query`, what clients send) is taken as it is; the
///   library parses every target as a URL (`URLComponents`) only to return such a target unchanged;
/// - the connection closes once an answer's end is written when the request does not keep it
///   alive (`connection: close`, or HTTP/1.0 without `keep-alive`) or the answer says
///   `connection: close` (a refusal, a body left unread), so a client reading to the end is not
///   left waiting; the output closes first, so the answer is not cut by a reset;
/// - an HTTP/1.0 request is answered in HTTP/1.0, which has no chunked encoding and no interim
///   answers: an answer without a known length (a stream) is sent as it is and ends when the
///   connection closes, and a `100 Continue` is not sent.
final class HTTP1ServerCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let secure: Bool
    /// The requests read and not yet answered, oldest first (a pipelining client sends the next
    /// before the answer to the last): each one's version, and whether it keeps the connection
    /// alive. Answers go out in order, so the first is the one being answered.
    private var requests = CircularBuffer<(http10: Bool, keepAlive: Bool)>(initialCapacity: 2)
    /// The request being answered.
    private var current: (http10: Bool, keepAlive: Bool) { requests.first ?? (false, true) }
    /// Whether the connection closes once the answer's end is written.
    private var closeAfterEnd = false

    /// A codec for a connection with TLS (`https` requests) or without.
    init(secure: Bool) { self.secure = secure }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            requests.append((head.version == .http1_0, head.isKeepAlive))
            do {
                context.fireChannelRead(wrapInboundOut(.head(try request(head))))
            } catch {
                context.fireErrorCaught(error)
            }
        case .body(let body):
            context.fireChannelRead(wrapInboundOut(.body(body)))
        case .end(let trailers):
            context.fireChannelRead(wrapInboundOut(.end(trailers.map { HTTPFields($0, splitCookie: false) })))
        }
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
