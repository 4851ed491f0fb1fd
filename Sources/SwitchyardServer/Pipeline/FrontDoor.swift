import HTTPTypes
import NIOCore
import SwitchyardCore

/// A client API the gateway serves in front of the providers: how its requests are read, what they
/// may spend, and how the provider adapters' requests and answers are made for it. Pure
/// conversions: the request lifecycle does all the I/O, so a new front door is a conforming type
/// and a route, not a new request path.
protocol FrontDoor: Sendable {
    /// A request as this front door parsed it (once, at the edge).
    associatedtype Parsed: Sendable

    /// Parses and checks a request body, turning every problem into a 400 the client can act on;
    /// `headers` are the request's.
    func parse(_ body: ByteBuffer, headers: HTTPFields) throws(GatewayError) -> Parsed

    /// The model the request asks for: what routing, keys and budgets look at.
    func model(of request: Parsed) -> String

    /// What the request may spend, as admission reserves it; `counter` is the routed model's
    /// tokenizer (nil without the rank files), `bodySize` the body's length in bytes.
    func demand(of request: Parsed, counter: ChatTokenCounter?, bodySize: Int) -> TokenDemand

    /// The upstream request for `target`, made by its adapter.
    func upstreamRequest(
        _ request: Parsed, body: ByteBuffer, target: ModelRouter.Target, adapter: any ProviderAdapter,
        client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest

    /// Converts a whole successful upstream answer from `target` into this front door's answer.
    func answer(
        _ raw: ByteBuffer, to request: Parsed, body: ByteBuffer, adapter: any ProviderAdapter,
        target: ModelRouter.Target
    ) throws(GatewayError) -> AdaptedResponse

    /// The converter of a streamed answer from `target`, or nil when the request asked for a whole
    /// one.
    func streamTranscoder(
        for request: Parsed, adapter: any ProviderAdapter, target: ModelRouter.Target
    ) -> (any ChatStreamTranscoder)?

    /// The kept answer this request continues (`previous_response_id`) when the gateway must
    /// replay it to `target`; nil when there is none or the target keeps its own.
    func continues(_ request: Parsed, target: ModelRouter.Target) -> String?

    /// The request made ready for `target`, the first deployment of the plan: with the kept
    /// exchange it continues before it, and translated once if `target` needs a translation.
    func preparing(
        _ request: Parsed, for target: ModelRouter.Target, continuing kept: StoredResponse?
    ) throws(GatewayError) -> Parsed

    /// Whether `request` goes to `target`'s native API unchanged (rather than translated) where
    /// the provider may turn out not to serve it; then a "no such endpoint" answer makes the
    /// gateway translate instead, for this request and the provider's later ones.
    func passesThrough(_ request: Parsed, to target: ModelRouter.Target) -> Bool

    /// What to keep of the answer `document` to `request` sent to `target` (the answer object,
    /// under its id), or nil when nothing is to be kept.
    func keeping(_ request: Parsed, answer document: JSONValue, target: ModelRouter.Target) -> KeptAnswer?
}

/// An answer to keep: its id, the object, the conversation so far and the input items.
struct KeptAnswer: Sendable {
    var id: String
    var response: JSONValue
    var conversation: [JSONValue]
    var inputItems: [JSONValue]
}

extension FrontDoor {
    /// Front doors that never stream answer whole.
    func streamTranscoder(
        for request: Parsed, adapter: any ProviderAdapter, target: ModelRouter.Target
    ) -> (any ChatStreamTranscoder)? { nil }

    /// Front doors that only translate have nothing to fall back from.
    func passesThrough(_ request: Parsed, to target: ModelRouter.Target) -> Bool { false }

    /// Front doors without kept answers continue nothing.
    func continues(_ request: Parsed, target: ModelRouter.Target) -> String? { nil }
    func preparing(
        _ request: Parsed, for target: ModelRouter.Target, continuing kept: StoredResponse?
    ) throws(GatewayError) -> Parsed { request }
    func keeping(_ request: Parsed, answer document: JSONValue, target: ModelRouter.Target) -> KeptAnswer? { nil }
}

/// What a request may spend in tokens: its counted prompt and the completion it allows.
struct TokenDemand: Sendable, Equatable {
    /// The prompt's tokens, counted at admission.
    var prompt: Int
    /// The completion tokens the request allows; nil when it does not say (the configured default
    /// is reserved then).
    var completion: Int?
}
