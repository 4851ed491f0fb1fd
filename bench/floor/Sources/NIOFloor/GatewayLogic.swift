import NIOCore
import NIOHTTP1
import SwitchyardCore

/// Switchyard's own per-request work without its HTTP server, tasks or I/O, called synchronously
/// on the event loop: the request parsed and validated, routed and adapted; the answer checked,
/// converted and its usage read. `NIOFloor --core` runs it, so `bench/run` can tell what that work
/// costs in the floor's shape from what the server and the task machinery around it cost.
struct GatewayLogic: Sendable {
    /// One request as it goes upstream, and how its answer comes back.
    struct Exchange {
        var head: HTTPRequestHead
        var body: ByteBuffer?
        /// Converts the whole answer; nil relays it as it arrives.
        var answer: (@Sendable (ByteBuffer) throws(GatewayError) -> ByteBuffer)?
    }

    private let router: ModelRouter

    /// Routes every provider to the mock on `upstreamPort` over plain HTTP, as `bench/run`
    /// configures the gateway itself.
    init(upstreamPort: Int) throws {
        var environment: [String: String] = ["GEMINI_API_KEY": "bench-key"]
        for provider in ["OPENAI", "GEMINI"] {
            environment["\(provider)_DOMAIN"] = "127.0.0.1"
            environment["\(provider)_PORT"] = String(upstreamPort)
            environment["\(provider)_TLS"] = "false"
        }
        router = try ConfigLoader(environment: environment).load().router
    }

    /// The upstream request for a client's chat completion request.
    func exchange(_ clientHead: HTTPRequestHead, body: ByteBuffer) throws(GatewayError) -> Exchange {
        let chat = try ChatRequestEnvelope.parse(body.readableBytesView)
        let target = try router.plan(chat.model, pick: 0.5) { _ in true }[0]
        guard let adapter = AdapterRegistry.standard.adapter(for: target.endpoint.kind) else {
            throw .badGateway("No adapter for \(target.endpoint.kind).")
        }
        let client = ClientContext(authorization: clientHead.headers.first(name: "authorization"), requestID: "bench")
        let request = try adapter.chatRequest(chat, body: body, target: target, client: client)
        guard let upstream = UpstreamTarget(request.url) else {
            throw .badGateway("The upstream URL is not http(s)://host[:port]/path.")
        }
        var head = HTTPRequestHead(version: .http1_1, method: .POST, uri: upstream.path)
        for header in request.headers { head.headers.add(name: header.name, value: header.value) }
        head.headers.replaceOrAdd(name: "host", value: upstream.hostHeader)
        head.headers.replaceOrAdd(name: "content-length", value: String(request.body?.readableBytes ?? 0))
        return Exchange(head: head, body: request.body) { raw throws(GatewayError) in
            try adapter.chatResponse(raw, chat: chat).body
        }
    }
}
