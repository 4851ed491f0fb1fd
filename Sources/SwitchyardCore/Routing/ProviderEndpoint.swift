/// One configured provider: its kind, address, credentials and timeouts.
public struct ProviderEndpoint: Sendable, Equatable {
    /// The provider's name, used by routes and in metrics.
    public var id: ProviderID
    /// The protocol it speaks.
    public var kind: ProviderKind
    /// Where it lives.
    public var baseURL: UpstreamBaseURL
    /// The server-side API key, if one is configured; when nil the client's credentials pass through.
    public var apiKey: Secret?
    /// Where the key came from (an environment variable name), for `check-config`; never the key.
    public var apiKeySource: String?
    /// How long each phase of an exchange may take.
    public var timeouts: UpstreamTimeouts
    /// Whether it serves OpenAI's Responses API (`/responses` beside `/chat/completions`), so
    /// Responses requests go through unchanged instead of translated.
    public var servesResponses: Bool
    /// How a cloud provider (Azure, Bedrock, Vertex) is reached beyond its address.
    public var cloud: CloudAccess?

    /// Creates an endpoint.
    public init(
        id: ProviderID,
        kind: ProviderKind,
        baseURL: UpstreamBaseURL,
        apiKey: Secret? = nil,
        apiKeySource: String? = nil,
        timeouts: UpstreamTimeouts = UpstreamTimeouts(),
        servesResponses: Bool = false
    ) {
        self.id = id
        self.kind = kind
        self.baseURL = baseURL
        self.apiKey = apiKey
        self.apiKeySource = apiKeySource
        self.timeouts = timeouts
        self.servesResponses = servesResponses
    }
}

/// A secret string whose description never reveals it, so it cannot leak through logs or errors.
public struct Secret: Sendable, Equatable, CustomStringConvertible, CustomDebugStringConvertible {
    /// The secret itself; read it only where it is sent.
    public let value: String
    /// Wraps a secret.
    public init(_ value: String) { self.value = value }
    /// Always `<redacted>`.
    public var description: String { "<redacted>" }
    /// Always `<redacted>`.
    public var debugDescription: String { "<redacted>" }
}
