/// The wire protocol a provider speaks; each kind has one adapter.
public enum ProviderKind: String, Sendable, Codable, CaseIterable, Hashable {
    /// OpenAI's API, or any OpenAI-compatible server.
    case openai
    /// Google Gemini's native Generative Language API.
    case gemini
    /// Anthropic's Messages API.
    case anthropic
    /// Ollama's native API.
    case ollama
    /// Azure OpenAI (OpenAI's API behind deployments and an `api-version`).
    case azure
    /// AWS Bedrock's Converse API, signed with AWS Signature Version 4.
    case bedrock
    /// Google Vertex AI: Gemini and Anthropic's Claude models.
    case vertex
}

/// The name of a configured provider (`openai`, or a name declared in the config file).
public struct ProviderID: RawRepresentable, Hashable, Sendable, Codable, CustomStringConvertible,
    ExpressibleByStringLiteral
{
    /// The name.
    public var rawValue: String
    /// Wraps a name.
    public init(rawValue: String) { self.rawValue = rawValue }
    /// Wraps a literal name.
    public init(stringLiteral value: String) { self.rawValue = value }
    /// The name.
    public var description: String { rawValue }
}
