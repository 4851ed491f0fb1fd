/// One configured provider: its kind, address, credentials and timeouts. Its fields sit in one
/// shared box: an endpoint is copied into every request's plan, targets and async frames, and a
/// reference is 8 bytes (and one retain) where the fields are some 250 bytes and a dozen.
public struct ProviderEndpoint: Sendable, Equatable {
    /// The fields themselves.
    private struct Fields: Sendable, Equatable {
        var id: ProviderID
        var kind: ProviderKind
        var baseURL: UpstreamBaseURL
        var apiKey: Secret?
        var apiKeySource: String?
        var timeouts: UpstreamTimeouts
        var servesResponses: Bool
        var cloud: CloudAccess?
    }

    /// This endpoint's fields, in one shared box.
    private var fields: SharedBox<Fields>

    /// The provider's name, used by routes and in metrics.
    public var id: ProviderID {
        get { fields.value.id }
        set { fields.value.id = newValue }
    }
    /// The protocol it speaks.
    public var kind: ProviderKind {
        get { fields.value.kind }
        set { fields.value.kind = newValue }
    }
    /// Where it lives.
    public var baseURL: UpstreamBaseURL {
        get { fields.value.baseURL }
        set { fields.value.baseURL = newValue }
    }
    /// The server-side API key, if one is configured; when nil the client's credentials pass through.
    public var apiKey: Secret? {
        get { fields.value.apiKey }
        set { fields.value.apiKey = newValue }
    }
    /// Where the key came from (an environment variable name), for `check-config`; never the key.
    public var apiKeySource: String? {
        get { fields.value.apiKeySource }
        set { fields.value.apiKeySource = newValue }
    }
    /// How long each phase of an exchange may take.
    public var timeouts: UpstreamTimeouts {
        get { fields.value.timeouts }
        set { fields.value.timeouts = newValue }
    }
    /// Whether it serves OpenAI's Responses API (`/responses` beside `/chat/completions`), so
    /// Responses requests go through unchanged instead of translated.
    public var servesResponses: Bool {
        get { fields.value.servesResponses }
        set { fields.value.servesResponses = newValue }
    }
    /// How a cloud provider (Azure, Bedrock, Vertex) is reached beyond its address.
    public var cloud: CloudAccess? {
        get { fields.value.cloud }
        set { fields.value.cloud = newValue }
    }

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
        fields = SharedBox(
            Fields(
                id: id, kind: kind, baseURL: baseURL, apiKey: apiKey, apiKeySource: apiKeySource, timeouts: timeouts,
                servesResponses: servesResponses, cloud: nil))
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
