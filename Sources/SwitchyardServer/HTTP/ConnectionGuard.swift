import HTTPTypes
import NIOCore
import NIOHTTPTypes
import SwitchyardCore
import Synchronization

/// Open connections per client address, shared by every connection of the listener.
final class ConnectionRegistry: Sendable {
    private let counts = Mutex<[String: Int]>([:])

    /// Counts a new connection from `address`; returns how many are open from it now.
    func open(_ address: String) -> Int {
        counts.withLock { counts in
            counts[address, default: 0] += 1
            return counts[address]!
        }
    }

    /// Forgets a closed connection from `address`.
    func close(_ address: String) {
        counts.withLock { counts in
            let left = (counts[address] ?? 1) - 1
            counts[address] = left > 0 ? left : nil
        }
    }

    /// Open connections from `address`.
    func count(_ address: String) -> Int { counts.withLock { $0[address] ?? 0 } }
}

/// Why a request was refused before routing.
enum ListenerRefusal: String, Sendable {
    case connections
    case requestLine = "request-line"
    case headers

    /// The client-facing error.
    func error(_ limits: ListenerSettings) -> GatewayError {
        var error: GatewayError
        switch self {
        case .connections:
            error = GatewayError(
                status: 429, type: "requests",
                message:
                    "Too many concurrent connections from your address (limit \(limits.maxConnectionsPerAddress)); reuse connections or try again shortly.",
                code: "too_many_connections", headers: ["retry-after": "1"])
        case .requestLine:
            error = GatewayError(
                status: 414, type: "invalid_request_error",
                message: "The request line is longer than \(limits.maxRequestLineBytes) bytes.",
                code: "request_line_too_long")
        case .headers:
            error = GatewayError(
                status: 431, type: "invalid_request_error",
                message:
                    "The request headers exceed \(limits.maxHeaderCount) fields or \(limits.maxHeaderBytes) bytes.",
                code: "request_headers_too_large")
        }
        error.headers["connection"] = "close"
        return error
    }
}

/// A request part as the connection guard passes it on: a head comes with the listener's refusal
/// of it, if any.
enum ClientRequestPart {
    /// A request head; a refused one keeps only its method (nothing of what the client sent is
    /// held).
    case head(HTTPRequest, refusal: ListenerRefusal?)
    case body(ByteBuffer)
    case end
}

/// Sits after HTTP decoding on every client connection: counts connections per address, checks
/// each request head against the listener limits, and closes the connection when
/// `ConnectionLifetime` says so (the idle timeout, graceful shutdown). A request over a limit is
/// passed on with its refusal, answered by the request lifecycle in OpenAI's error shape, and the
/// connection is closed after the answer. The HTTP decoder itself stops at twice the limits
/// (answering 400 and closing), so what a client can make the gateway hold stays bounded.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = ClientRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let limits: ListenerSettings
    private let registry: ConnectionRegistry
    private var address: String?
    private var overLimit = false
    private var lifetime: ConnectionLifetime
    private var idleTimer: Scheduled<Void>?

    init(limits: ListenerSettings, registry: ConnectionRegistry) {
        self.limits = limits
        self.registry = registry
        lifetime = ConnectionLifetime(timeout: .nanoseconds(Int64(limits.idleTimeoutSeconds * 1_000_000_000)))
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { perform(lifetime.activated(now: context.eventLoop.now), context: context) }
        guard limits.maxConnectionsPerAddress > 0 else { return }
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        self.address = address
        overLimit = registry.open(address) > limits.maxConnectionsPerAddress
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let address { registry.close(address) }
        address = nil
        idleTimer?.cancel()
        idleTimer = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        perform(lifetime.activated(now: context.eventLoop.now), context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        lifetime.deactivated()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            lifetime.read(head: true, end: false, now: context.eventLoop.now)
            if let refusal = refusal(head) {
                let stripped = HTTPRequest(method: head.method, scheme: nil, authority: nil, path: "/")
                context.fireChannelRead(wrapInboundOut(.head(stripped, refusal: refusal)))
            } else {
                context.fireChannelRead(wrapInboundOut(.head(head, refusal: nil)))
            }
        case .body(let body):
            lifetime.read(head: false, end: false, now: context.eventLoop.now)
            context.fireChannelRead(wrapInboundOut(.body(body)))
        case .end:
            lifetime.read(head: false, end: true, now: context.eventLoop.now)
            context.fireChannelRead(wrapInboundOut(.end))
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        let action = lifetime.answered(now: context.eventLoop.now)
        if action == .close {
            context.writeAndFlush(data, promise: promise)
        } else {
            context.write(data, promise: promise)
        }
        perform(action, context: context)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is ChannelShouldQuiesceEvent else { return context.fireUserInboundEventTriggered(event) }
        perform(lifetime.quiesce(), context: context)
    }

    /// Carries out what the connection's lifetime asks for.
    private func perform(_ action: ConnectionLifetime.Action, context: ChannelHandlerContext) {
        switch action {
        case .none: break
        case .close: context.close(promise: nil)
        case .arm(let deadline):
            guard idleTimer == nil else { return }
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            idleTimer = context.eventLoop.scheduleTask(deadline: deadline) {
                let (handler, context) = loopBound.value
                handler.idleTimer = nil
                handler.perform(handler.lifetime.timerFired(now: context.eventLoop.now), context: context)
            }
        }
    }

    private func refusal(_ head: HTTPRequest) -> ListenerRefusal? {
        if overLimit { return .connections }
        if head.method.rawValue.utf8.count + (head.path?.utf8.count ?? 0) > limits.maxRequestLineBytes {
            return .requestLine
        }
        var bytes = 0
        for field in head.headerFields { bytes += field.name.rawName.utf8.count + field.value.utf8.count }
        return head.headerFields.count > limits.maxHeaderCount || bytes > limits.maxHeaderBytes ? .headers : nil
    }
}
