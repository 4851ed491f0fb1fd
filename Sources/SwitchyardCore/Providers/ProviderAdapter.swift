import NIOCore

/// A pure conversion between OpenAI's API and one provider's wire format. No I/O: the server
/// sends what `…Request` builds and feeds what comes back into `…Response` and the transcoder.
///
/// Adding a provider means one new type conforming to this protocol, registered in
/// `AdapterRegistry`; the request pipeline does not change.
public protocol ProviderAdapter: Sendable {
    /// The provider kind this adapter speaks.
    var kind: ProviderKind { get }

    /// Builds the upstream request for an OpenAI chat completion request.
    /// - Parameters:
    ///   - chat: the validated envelope of the request.
    ///   - body: the client's raw JSON body.
    ///   - target: the routed provider and upstream model name.
    ///   - client: the client's credentials and request id.
    func chatRequest(
        _ chat: ChatRequestEnvelope,
        body: ByteBuffer,
        target: ModelRouter.Target,
        client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest

    /// Converts a successful (2xx) non-streaming upstream body into an OpenAI chat completion body.
    func chatResponse(_ body: ByteBuffer, chat: ChatRequestEnvelope) throws(GatewayError) -> AdaptedResponse

    /// A fresh converter for one streamed response.
    func makeChatStreamTranscoder(chat: ChatRequestEnvelope) -> any ChatStreamTranscoder

    /// Builds the upstream request for an OpenAI embeddings request body.
    func embeddingsRequest(
        body: ByteBuffer,
        target: ModelRouter.Target,
        client: ClientContext
    ) throws(GatewayError) -> UpstreamRequest

    /// Converts a successful embeddings body into OpenAI's shape, with the provider's count of the
    /// input when it gave one; `request` is the client's body.
    func embeddingsResponse(_ body: ByteBuffer, request: ByteBuffer) throws(GatewayError) -> AdaptedResponse

    /// The request that lists this provider's models.
    func modelsRequest(endpoint: ProviderEndpoint, client: ClientContext) -> UpstreamRequest

    /// Parses a models listing.
    func modelsResponse(_ body: ByteBuffer, endpoint: ProviderEndpoint) throws(GatewayError) -> [ModelEntry]

    /// Reshapes an upstream error answer (status >= 400) into OpenAI's error form, keeping the
    /// upstream's status and message.
    func upstreamError(status: Int, body: ByteBuffer) -> GatewayError

    /// The adapter for `model` at a provider of this kind, when models of one provider speak
    /// different formats (Claude and Gemini on Vertex AI); itself otherwise.
    func specialized(for model: String) -> any ProviderAdapter
}

extension ProviderAdapter {
    /// One format for every model.
    public func specialized(for model: String) -> any ProviderAdapter { self }
}

/// Converts one upstream stream, chunk by chunk as bytes arrive, into OpenAI SSE bytes.
///
/// Chunks may split events at any byte; implementations buffer what they need.
public protocol ChatStreamTranscoder: Sendable {
    /// Converts the next upstream bytes; returns what to send the client now (possibly nothing).
    mutating func transcode(_ chunk: ByteBuffer) throws(GatewayError) -> ByteBuffer?
    /// Called when the upstream ends; returns the last bytes or throws when the stream was cut.
    mutating func finish() throws(GatewayError) -> ByteBuffer?
    /// The provider's usage, once the stream has reported it.
    var usage: TokenUsage? { get }
    /// The answer text streamed so far (for counting when the provider reports no usage).
    var streamedText: String { get }
    /// The events that end a stream the upstream broke with `error`, when the transcoder writes
    /// them itself; nil for the front door's plain error event.
    mutating func failure(_ error: GatewayError) -> ByteBuffer?
    /// The whole answer the stream built, for front doors that keep answers.
    var document: JSONValue? { get }
    /// Whether the stream's last event has been passed on, so a client that leaves after it had
    /// the whole answer.
    var delivered: Bool { get }
}

extension ChatStreamTranscoder {
    /// None: the front door's plain error event ends the stream.
    public mutating func failure(_ error: GatewayError) -> ByteBuffer? { nil }
    /// None: the stream is relayed, not kept.
    public var document: JSONValue? { nil }
    /// Not before the upstream ends: the last events come from `finish()`, which the relay
    /// writes as the stream's end.
    public var delivered: Bool { false }
}

/// The adapters this build knows, by provider kind.
public struct AdapterRegistry: Sendable {
    private let adapters: [ProviderKind: any ProviderAdapter]

    /// Every adapter shipped with Switchyard.
    public static let standard = AdapterRegistry([
        OpenAIAdapter(), GeminiAdapter(), AnthropicAdapter(), OllamaAdapter(), AzureAdapter(), BedrockAdapter(),
        VertexAdapter(),
    ])

    /// Creates a registry from a list of adapters.
    public init(_ adapters: [any ProviderAdapter]) {
        self.adapters = Dictionary(uniqueKeysWithValues: adapters.map { ($0.kind, $0) })
    }

    /// The adapter for `kind`, if this build has one.
    public func adapter(for kind: ProviderKind) -> (any ProviderAdapter)? {
        adapters[kind]
    }

    /// The adapter for a routed target: its kind's, specialized for its model.
    public func adapter(for target: ModelRouter.Target) -> (any ProviderAdapter)? {
        adapters[target.endpoint.kind]?.specialized(for: target.upstreamModel)
    }
}

/// A converted response body and the token usage the provider reported in it.
public struct AdaptedResponse: Sendable {
    /// The OpenAI-shaped body.
    public var body: ByteBuffer
    /// The provider's own token counts, when it gave them.
    public var usage: TokenUsage?
    /// The answer as a JSON value, when a front door keeps answers (nil otherwise).
    public var document: JSONValue?

    /// Creates a result.
    public init(body: ByteBuffer, usage: TokenUsage?, document: JSONValue? = nil) {
        self.body = body
        self.usage = usage
        self.document = document
    }
}

/// Token counts as OpenAI reports them, with the parts priced apart: cached and cache-written
/// prompt tokens (within `promptTokens`) and reasoning tokens (within `completionTokens`).
public struct TokenUsage: Codable, Sendable, Equatable {
    /// Tokens in the prompt, cached ones included.
    public var promptTokens: Int
    /// Tokens generated, reasoning included.
    public var completionTokens: Int
    /// Prompt tokens read from the provider's prompt cache.
    public var cachedTokens = 0
    /// Prompt tokens written to the provider's prompt cache.
    public var cacheWriteTokens = 0
    /// Generated tokens spent reasoning.
    public var reasoningTokens = 0

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
    }

    /// Creates usage counts.
    public init(
        promptTokens: Int, completionTokens: Int, cachedTokens: Int = 0, cacheWriteTokens: Int = 0,
        reasoningTokens: Int = 0
    ) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
        self.cacheWriteTokens = cacheWriteTokens
        self.reasoningTokens = reasoningTokens
    }

    /// The usage of an embeddings request whose provider counted `promptTokens` input tokens; nil
    /// when it gave no count (or 0, as Gemini's answers carry none).
    public static func embedding(promptTokens: Int?) -> TokenUsage? {
        guard let promptTokens, promptTokens > 0 else { return nil }
        return TokenUsage(promptTokens: promptTokens, completionTokens: 0)
    }

    /// Reads OpenAI's `usage` object (with its cached and reasoning details); nil unless both
    /// counts are whole numbers.
    public init?(json: JSONValue?) {
        guard let prompt = json?["prompt_tokens"]?.intValue, let completion = json?["completion_tokens"]?.intValue
        else { return nil }
        self.init(
            promptTokens: prompt, completionTokens: completion,
            cachedTokens: json?["prompt_tokens_details"]?["cached_tokens"]?.intValue ?? 0,
            reasoningTokens: json?["completion_tokens_details"]?["reasoning_tokens"]?.intValue ?? 0)
    }
}
