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

    /// The box the fields are shared in; a change makes a new one.
    private final class Box: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    /// This endpoint's fields.
    private var box: Box

    /// The fields, read from the box; setting one boxes a changed copy.
    private var fields: Fields {
        get { box.fields }
        set { box = Box(newValue) }
    }

    /// The provider's name, used by routes and in metrics.
    public var id: ProviderID {
        get { box.fields.id }
        set { fields.id = newValue }
    }
    /// The protocol it speaks.
    public var kind: ProviderKind {
        get { box.fields.kind }
        set { fields.kind = newValue }
    }
    /// Where it lives.
    public var baseURL: UpstreamBaseURL {
        get { box.fields.baseURL }
        set { fields.baseURL = newValue }
    }
    /// The server-side API key, if one is configured; when nil the client's credentials pass through.
    public var apiKey: Secret? {
        get { box.fields.apiKey }
        set { fields.apiKey = newValue }
    }
    /// Where the key came from (an environment variable name), for `check-config`; never the key.
    public var apiKeySource: String? {
        get { box.fields.apiKeySource }
        set { fields.apiKeySource = newValue }
    }
    /// How long each phase of an exchange may take.
    public var timeouts: UpstreamTimeouts {
        get { box.fields.timeouts }
        set { fields.timeouts = newValue }
    }
    /// Whether it serves OpenAI's Responses API (`/responses` beside `/chat/completions`), so
    /// Responses requests go through unchanged instead of translated.
    public var servesResponses: Bool {
        get { box.fields.servesResponses }
        set { fields.servesResponses = newValue }
    }
    /// How a cloud provider (Azure, Bedrock, Vertex) is reached beyond its address.
    public var cloud: CloudAccess? {
        get { box.fields.cloud }
        set { fields.cloud = newValue }
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
        box = Box(
            Fields(
                id: id, kind: kind, baseURL: baseURL, apiKey: apiKey, apiKeySource: apiKeySource, timeouts: timeouts,
                servesResponses: servesResponses, cloud: nil))
    }

    /// Equal fields, whether shared or not.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.box === rhs.box || lhs.box.fields == rhs.box.fields
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
