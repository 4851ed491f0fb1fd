import HTTPTypes
import NIOCore
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

/// The rules every client connection keeps, applied by its codec (`HTTP1ServerCodec`) as request
/// parts are read and answers written: counts connections per address, checks each request head
/// against the listener limits, and closes the connection when `ConnectionLifetime` says so (the
/// idle timeout, graceful shutdown). A request over a limit is passed on with its refusal,
/// answered by the request lifecycle in OpenAI's error shape, and the connection is closed after
/// the answer. The HTTP decoder itself stops at twice the limits (answering 400 and closing), so
/// what a client can make the gateway hold stays bounded. It is not a handler of its own: a
/// handler more on the path would cast every request and answer part once more.
final class ConnectionGuard {
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

    /// The codec joined the connection's pipeline: counts the connection, and starts the idle
    /// clock if the connection is open already.
    func added(context: ChannelHandlerContext) {
        if context.channel.isActive { perform(lifetime.activated(now: context.eventLoop.now), context: context) }
        guard limits.maxConnectionsPerAddress > 0 else { return }
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        self.address = address
        overLimit = registry.open(address) > limits.maxConnectionsPerAddress
    }

    /// The codec left the pipeline (the connection is gone): forgets the connection.
    func removed() {
        if let address { registry.close(address) }
        address = nil
        idleTimer?.cancel()
        idleTimer = nil
    }

    /// The connection opened: the idle clock starts.
    func activated(context: ChannelHandlerContext) {
        perform(lifetime.activated(now: context.eventLoop.now), context: context)
    }

    /// The connection closed.
    func deactivated() {
        lifetime.deactivated()
    }

    /// A request head was read; returns the listener's refusal of it, if any.
    func read(head: HTTPRequest, context: ChannelHandlerContext) -> ListenerRefusal? {
        lifetime.read(head: true, end: false, now: context.eventLoop.now)
        return refusal(head)
    }

    /// A part of a request's body (`end` false) or its end was read.
    func read(end: Bool, context: ChannelHandlerContext) {
        lifetime.read(head: false, end: end, now: context.eventLoop.now)
    }

    /// An answer ends: `writeEnd` writes its end, which is flushed first when the connection then
    /// closes (graceful shutdown), and the idle clock restarts otherwise.
    func answered(context: ChannelHandlerContext, writeEnd: () -> Void) {
        let action = lifetime.answered(now: context.eventLoop.now)
        writeEnd()
        if action == .close { context.flush() }
        perform(action, context: context)
    }

    /// Graceful shutdown began.
    func quiesce(context: ChannelHandlerContext) {
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
                let (guarding, context) = loopBound.value
                guarding.idleTimer = nil
                guarding.perform(guarding.lifetime.timerFired(now: context.eventLoop.now), context: context)
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
