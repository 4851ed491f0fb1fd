import NIOCore
import NIOHTTP1

/// Marks a request that does not keep its connection alive by HTTP/1.x's rules (HTTP/1.0 without
/// `connection: keep-alive`, or any `connection: close`) with `connection: close`, before the
/// HTTP version is lost in the conversion to HTTPTypes, so the connection closes after its answer
/// and a client reading to the end of the connection is not left waiting.
final class HTTP1KeepAlive: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data), !head.isKeepAlive,
            head.headers.first(name: "connection")?.lowercased() != "close"
        else {
            context.fireChannelRead(data)
            return
        }
        head.headers.replaceOrAdd(name: "connection", value: "close")
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}
