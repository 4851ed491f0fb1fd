import NIOCore
import NIOHTTP1
import NIOPosix

// The least a Swift proxy on the decided stack can cost: SwiftNIO's HTTP/1.1 server and client
// codecs, one keep-alive upstream connection pool per event loop (the client and its upstream
// connection always share a thread), no tasks, no JSON, no routing, no metrics. `bench/run`
// measures it beside nginx and Switchyard so the report shows how much of the gap to nginx is the
// stack's own. Benchmark only: it trusts its upstream and closes a client connection on any error.
//
// With `--core` it also runs Switchyard's own per-request logic on the event loop (`GatewayLogic`).
//
// Usage: NIOFloor LISTEN-PORT UPSTREAM-PORT [EVENT-LOOPS] [--core]

/// Relays an upstream connection's response parts to whichever client exchange holds it.
final class UpstreamRelay: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPClientResponsePart

    /// The current exchange's sinks: each response part, the end of each socket read, and the
    /// connection closing before the answer ended.
    var onPart: ((HTTPClientResponsePart) -> Void)?
    var onReadComplete: (() -> Void)?
    var onClose: (() -> Void)?

    /// Ends the current exchange's hold on this connection.
    func detach() {
        onPart = nil
        onReadComplete = nil
        onClose = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        onPart?(unwrapInboundIn(data))
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        onReadComplete?()
    }

    func channelInactive(context: ChannelHandlerContext) {
        onClose?()
        detach()
        context.fireChannelInactive()
    }
}

/// Keep-alive connections to the upstream that belong to one event loop; used only on that loop.
final class UpstreamPool: @unchecked Sendable {
    let loop: any EventLoop
    let port: Int
    private var idle: [(channel: any Channel, relay: UpstreamRelay)] = []

    init(loop: any EventLoop, port: Int) {
        self.loop = loop
        self.port = port
    }

    /// An idle connection, or a new one on this pool's loop.
    func take() -> EventLoopFuture<(channel: any Channel, relay: UpstreamRelay)> {
        while let pooled = idle.popLast() {
            if pooled.channel.isActive { return loop.makeSucceededFuture(pooled) }
        }
        let relay = UpstreamRelay()
        return ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(relay)
                }
            }
            .connect(host: "127.0.0.1", port: port)
            .map { (channel: $0, relay: relay) }
    }

    /// Returns a connection whose response has ended.
    func put(_ channel: any Channel, _ relay: UpstreamRelay) {
        idle.append((channel, relay))
    }
}

/// One client connection: reads a whole request, sends it upstream, relays the answer as it comes
/// (or, with the gateway's logic, adapts the request and converts the whole answer).
final class ProxyHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let pool: UpstreamPool
    private let logic: GatewayLogic?
    private var head: HTTPRequestHead?
    private var body: ByteBuffer?

    init(pool: UpstreamPool, logic: GatewayLogic?) {
        self.pool = pool
        self.logic = logic
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
            body = nil
        case .body(var chunk):
            if body == nil { body = chunk } else { body!.writeBuffer(&chunk) }
        case .end:
            guard let head else { return context.close(promise: nil) }
            guard let logic else { return forward(Self.relayed(head, body), context: context) }
            do {
                try forward(logic.exchange(head, body: body ?? ByteBuffer()), context: context)
            } catch {
                context.close(promise: nil)
            }
        }
    }

    /// The client's request as it goes upstream unchanged, its answer relayed as it arrives.
    private static func relayed(_ clientHead: HTTPRequestHead, _ body: ByteBuffer?) -> GatewayLogic.Exchange {
        var head = HTTPRequestHead(version: .http1_1, method: clientHead.method, uri: clientHead.uri)
        head.headers.add(name: "host", value: "127.0.0.1")
        head.headers.add(
            name: "content-type", value: clientHead.headers.first(name: "content-type") ?? "application/json")
        head.headers.add(name: "content-length", value: String(body?.readableBytes ?? 0))
        return GatewayLogic.Exchange(head: head, body: body, answer: nil)
    }

    private func forward(_ exchange: GatewayLogic.Exchange, context: ChannelHandlerContext) {
        let client = NIOLoopBound(context, eventLoop: context.eventLoop)
        let (head, body, convert) = (exchange.head, exchange.body, exchange.answer)
        pool.take().whenComplete { [pool] result in
            let context = client.value
            guard case .success(let upstream) = result else { return context.close(promise: nil) }
            var status = HTTPResponseStatus.ok
            var collected = ByteBuffer()
            upstream.relay.onReadComplete = { context.flush() }
            upstream.relay.onClose = { context.close(promise: nil) }
            upstream.relay.onPart = { part in
                switch part {
                case .head(let answer) where convert == nil:
                    var out = HTTPResponseHead(version: .http1_1, status: answer.status)
                    for name in ["content-type", "content-length", "transfer-encoding"] {
                        if let value = answer.headers.first(name: name) { out.headers.add(name: name, value: value) }
                    }
                    context.write(NIOAny(HTTPServerResponsePart.head(out)), promise: nil)
                case .head(let answer):
                    status = answer.status
                case .body(let chunk) where convert == nil:
                    context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(chunk))), promise: nil)
                case .body(var chunk):
                    collected.writeBuffer(&chunk)
                case .end:
                    upstream.relay.detach()
                    pool.put(upstream.channel, upstream.relay)
                    if let convert {
                        guard let converted = try? convert(collected) else { return context.close(promise: nil) }
                        var out = HTTPResponseHead(version: .http1_1, status: status)
                        out.headers.add(name: "content-type", value: "application/json")
                        out.headers.add(name: "content-length", value: String(converted.readableBytes))
                        context.write(NIOAny(HTTPServerResponsePart.head(out)), promise: nil)
                        context.write(NIOAny(HTTPServerResponsePart.body(.byteBuffer(converted))), promise: nil)
                    }
                    context.writeAndFlush(NIOAny(HTTPServerResponsePart.end(nil)), promise: nil)
                }
            }
            upstream.channel.write(HTTPClientRequestPart.head(head), promise: nil)
            if let body { upstream.channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
            upstream.channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        }
    }
}

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
guard arguments.count >= 2 else { fatalError("usage: NIOFloor LISTEN-PORT UPSTREAM-PORT [EVENT-LOOPS] [--core]") }
let logic = CommandLine.arguments.contains("--core") ? try GatewayLogic(upstreamPort: arguments[1]) : nil
let group = MultiThreadedEventLoopGroup(numberOfThreads: arguments.count > 2 ? arguments[2] : System.coreCount)
let pools = Dictionary(
    uniqueKeysWithValues: group.makeIterator().map {
        (ObjectIdentifier($0), UpstreamPool(loop: $0, port: arguments[1]))
    })
let server = try ServerBootstrap(group: group)
    .serverChannelOption(.backlog, value: 1024)
    .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
    .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
    .childChannelInitializer { channel in
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                withPipeliningAssistance: false, withErrorHandling: false)
            try channel.pipeline.syncOperations.addHandler(
                ProxyHandler(pool: pools[ObjectIdentifier(channel.eventLoop)]!, logic: logic))
        }
    }
    .bind(host: "127.0.0.1", port: arguments[0])
    .wait()
try server.closeFuture.wait()
