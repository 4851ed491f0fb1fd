import HTTPTypes
import Hummingbird
import HummingbirdCore
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
enum ListenerRefusal: String {
    case connections
    case requestLine = "request-line"
    case headers

    /// The header the guard puts on a refused request, read by `ClientResponder`.
    static let marker = HTTPField.Name("switchyard-refused")!

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

/// Sits after HTTP decoding on every client connection: reports a client that stops sending and
/// the connection's close to `ClientWatch` (which cancels the upstream work of a client that hung
/// up), counts connections per address and checks each request head against the listener limits.
/// A request over a limit keeps only its method, path and a marker header (so nothing of what it
/// sent is held), is answered by `ClientResponder` in OpenAI's error shape, and the connection is
/// closed after the answer. The HTTP decoder itself stops at twice the limits (answering 400 and
/// closing), so what a client can make the gateway hold stays bounded.
final class ConnectionGuard: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    private let limits: ListenerSettings
    private let registry: ConnectionRegistry
    private var address: String?
    private var overLimit = false

    init(limits: ListenerSettings, registry: ConnectionRegistry) {
        self.limits = limits
        self.registry = registry
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard limits.maxConnectionsPerAddress > 0 else { return }
        let address = context.channel.remoteAddress?.ipAddress ?? "unknown"
        self.address = address
        overLimit = registry.open(address) > limits.maxConnectionsPerAddress
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if let address { registry.close(address) }
        address = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        ClientWatch.shared.closed(context.channel)
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { ClientWatch.shared.clientLeft(context.channel) }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        if let refusal = refusal(head) {
            head.headerFields = [ListenerRefusal.marker: refusal.rawValue]
            if refusal == .requestLine { head.path = "/" }
        } else {
            // Only the guard may mark a request.
            head.headerFields[ListenerRefusal.marker] = nil
        }
        context.fireChannelRead(wrapInboundOut(.head(head)))
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
