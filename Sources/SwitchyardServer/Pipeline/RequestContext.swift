import HTTPTypes
import NIOCore
import SwitchyardCore

/// A client request as its connection hands it over: the head, the body (at most the body limit)
/// and what the connection already knows about it.
struct ClientRequest: Sendable {
    /// The request line and headers.
    var head: HTTPRequest
    /// The body, at most the body limit.
    var body: ByteBuffer
    /// Whether the client sent more than the body limit (only part of it was kept).
    var bodyOverLimit: Bool
    /// Why the listener refused the request before reading it, if it did.
    var refusal: ListenerRefusal?
    /// Whether the connection closes after this answer (a body left unread).
    var closesConnection: Bool
}

/// One request on its way through the lifecycle's phases: what it is, and what each phase has
/// found out so far. Phases fill it in order; the last phase reads all of it.
struct RequestContext: Sendable {
    /// What the client sent.
    let request: ClientRequest
    /// The client connection.
    let channel: any Channel
    /// The request id, taken from `x-request-id` or made; echoed on every answer.
    let requestID: String
    /// The request target's path, without its query.
    let path: String
    /// The endpoint, or nil for a method and path the gateway does not serve.
    let route: ClientRoute?
    /// Writes this request's answer to the client.
    let writer: ClientAnswerWriter
    /// The routes, prices and keys current when the request started, kept to its end.
    let live: LiveConfiguration
    /// The measurements the last phase records.
    var record: RequestRecord
    /// The gateway key that authenticated the request, when keys are configured.
    var key: GatewayKey?
    /// The budgets' name for the caller (see `RateLimiter.user`), once authenticated, when used.
    var user: String?
    /// The user header's value, once authenticated.
    var userHeader: String?
    /// Whether the request holds a concurrency slot, given back when it ends.
    var holdsSlot = false
    /// The request's reservation in the budgets, settled when it ends.
    var accounting: TokenAccounting?
    /// The request's price and usage count, once admitted.
    var meter: SpendMeter?

    /// The context of `request` on `channel`, before any phase has run.
    init(_ request: ClientRequest, channel: any Channel, gateway: Gateway) {
        self.request = request
        self.channel = channel
        self.requestID = Self.requestID(from: request.head.headerFields.value(of: .requestID))
        self.path = request.path
        self.route = request.refusal == nil ? ClientRoute(method: request.head.method, path: path) : nil
        self.writer = ClientAnswerWriter(
            channel: channel, closesConnection: request.closesConnection, requestID: requestID,
            anthropic: route?.errorShape == .anthropic)
        self.live = gateway.current
        self.record = RequestRecord(
            route: route?.label ?? "unknown", counted: route?.isRecorded ?? true, metrics: gateway.metrics,
            tracing: gateway.tracing, headers: request.head.headerFields)
    }

    /// The request's headers.
    var headers: HTTPFields { request.head.headerFields }

    /// How the request's failures are answered: its route's shape (OpenAI's for unknown routes).
    var errorShape: ErrorShape { route?.errorShape ?? .openAI }

    /// Keeps a client-sent id when it is short and printable; otherwise makes one.
    static func requestID(from header: String?) -> String {
        if let header, !header.isEmpty, header.utf8.count <= 128,
            header.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        {
            return header
        }
        return RandomID.make("req_")
    }
}

extension ClientRequest {
    /// The request target's query parameters (the last of a repeated name wins; no percent
    /// decoding beyond `+`, which the gateway's parameters do not need).
    var query: [String: String] {
        guard let target = head.path, let start = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return [:] }
        var query: [String: String] = [:]
        for pair in target[target.utf8.index(after: start)...].split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            query[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
        }
        return query
    }

    /// The request target's path, without its query.
    var path: String {
        let target = head.path ?? "/"
        guard let query = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        return String(target[..<query])
    }
}
