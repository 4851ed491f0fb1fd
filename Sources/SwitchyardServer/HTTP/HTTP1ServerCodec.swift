import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// Converts a client connection's HTTP/1 parts to HTTPTypes and back, as NIOHTTPTypesHTTP1's
/// `HTTP1ToHTTPServerCodec` does, with two differences:
/// - a request target in origin form (`/path?query`, what clients send) is taken as it is; the
///   library parses every target as a URL (`URLComponents`) only to return such a target unchanged;
/// - a request that does not keep its connection alive by HTTP/1.x's rules (HTTP/1.0 without
///   `connection: keep-alive`) is marked `connection: close` before its version is lost, so the
///   connection closes after its answer and a client reading to the end is not left waiting;
/// - an HTTP/1.0 request is answered in HTTP/1.0, which has no chunked encoding: an answer
///   without a known length (a stream) is sent as it is and ends when the connection closes.
final class HTTP1ServerCodec: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let secure: Bool
    /// Whether the request being answered is HTTP/1.0 (NIO's pipelining handler passes the next
    /// request on only once this one's answer is out).
    private var http10 = false
    /// Whether that HTTP/1.0 request asked to keep the connection.
    private var http10KeepAlive = false
    /// Whether the connection closes once the answer's end is written (an HTTP/1.0 stream).
    private var closeAfterEnd = false

    /// A codec for a connection with TLS (`https` requests) or without.
    init(secure: Bool) { self.secure = secure }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(var head):
            http10 = head.version == .http1_0
            http10KeepAlive = http10 && head.isKeepAlive
            if !head.isKeepAlive { head.headers.replaceOrAdd(name: "connection", value: "close") }
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
            if http10 {
                // HTTP/1.0 has no interim answers: a `100 Continue` is not sent.
                guard head.status.code >= 200 else {
                    promise?.succeed(())
                    return
                }
                head.version = .http1_0
                closeAfterEnd = !head.headers.contains(name: "content-length")
                let keepAlive = http10KeepAlive && !closeAfterEnd
                head.headers.replaceOrAdd(name: "connection", value: keepAlive ? "keep-alive" : "close")
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .body(let body):
            context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: promise)
        case .end(let trailers):
            guard closeAfterEnd else {
                return context.write(wrapOutboundOut(.end(trailers.map(HTTPHeaders.init))), promise: promise)
            }
            closeAfterEnd = false
            let written = promise ?? context.eventLoop.makePromise()
            context.write(wrapOutboundOut(.end(nil)), promise: written)
            let channel = context.channel
            written.futureResult.whenComplete { _ in channel.close(promise: nil) }
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
