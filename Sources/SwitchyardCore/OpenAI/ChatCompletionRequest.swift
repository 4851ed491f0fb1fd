import Foundation
import NIOCore
import NIOFoundationCompat

/// A full OpenAI chat completion request, for adapters that translate it to another API.
public struct ChatCompletionRequest: Decodable, Sendable, Equatable {
    /// A message of the conversation.
    public struct Message: Decodable, Sendable, Equatable {
        /// Who wrote the message.
        public var role: Role
        /// The content: text, parts, or nothing (an assistant turn that only calls tools).
        public var content: Content?
        /// Optional participant name.
        public var name: String?
        /// Tool calls made by an assistant turn.
        public var toolCalls: [ToolCall]?
        /// The call a `tool` message answers.
        public var toolCallID: String?

        enum CodingKeys: String, CodingKey {
            case role, content, name
            case toolCalls = "tool_calls"
            case toolCallID = "tool_call_id"
        }

        /// All text of the content, parts joined.
        public var text: String {
            switch content {
            case .text(let s): return s
            case .parts(let parts): return parts.compactMap(\.text).joined()
            case nil: return ""
            }
        }
    }

    /// Message content.
    public enum Content: Decodable, Sendable, Equatable {
        /// Plain text.
        case text(String)
        /// Typed parts.
        case parts([Part])

        /// Decodes a string, an array of parts or null.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) {
                self = .text(s)
            } else {
                self = .parts(try c.decode([Part].self))
            }
        }

        /// The parts, a plain string counting as one text part.
        public var parts: [Part] {
            switch self {
            case .text(let s): return [Part(type: "text", text: s, imageURL: nil)]
            case .parts(let p): return p
            }
        }
    }

    /// A content part.
    public struct Part: Decodable, Sendable, Equatable {
        /// `text`, `image_url`, …
        public var type: String
        /// Text of a text part.
        public var text: String?
        /// The image of an image part.
        public var imageURL: ImageURL?

        enum CodingKeys: String, CodingKey {
            case type, text
            case imageURL = "image_url"
        }
    }

    /// An image reference: a data URL or a remote URL.
    public struct ImageURL: Decodable, Sendable, Equatable {
        /// `data:<mime>;base64,<data>` or `http(s)://…`.
        public var url: String
        /// `low`, `high` or `auto`.
        public var detail: String?
    }

    /// A tool call made by the assistant.
    public struct ToolCall: Decodable, Sendable, Equatable {
        /// Call id.
        public var id: String
        /// Always `function`.
        public var type: String?
        /// The function and its JSON-text arguments.
        public var function: FunctionCall
    }

    /// Function name and arguments (a JSON text).
    public struct FunctionCall: Decodable, Sendable, Equatable {
        /// Function name.
        public var name: String
        /// JSON-encoded arguments.
        public var arguments: String
    }

    /// A tool the model may call.
    public struct Tool: Decodable, Sendable, Equatable {
        /// Always `function`.
        public var type: String
        /// The function definition.
        public var function: FunctionDefinition
    }

    /// A function definition with its JSON-schema parameters.
    public struct FunctionDefinition: Decodable, Sendable, Equatable {
        /// Name.
        public var name: String
        /// Description.
        public var description: String?
        /// JSON schema of the arguments.
        public var parameters: JSONValue?
    }

    /// `tool_choice`: a mode string or a named function.
    public enum ToolChoice: Decodable, Sendable, Equatable {
        /// `none`, `auto` or `required`.
        case mode(String)
        /// `{"type":"function","function":{"name":…}}`.
        case function(String)

        /// Decodes either form.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) {
                self = .mode(s)
            } else {
                let v = try c.decode(JSONValue.self)
                guard let name = v["function"]?["name"]?.stringValue else {
                    throw DecodingError.dataCorruptedError(in: c, debugDescription: "tool_choice needs function.name")
                }
                self = .function(name)
            }
        }
    }

    /// `response_format`.
    public struct ResponseFormat: Decodable, Sendable, Equatable {
        /// `text`, `json_object` or `json_schema`.
        public var type: String
        /// The schema wrapper of `json_schema`.
        public var jsonSchema: JSONSchemaFormat?

        enum CodingKeys: String, CodingKey {
            case type
            case jsonSchema = "json_schema"
        }
    }

    /// The `json_schema` member of `response_format`.
    public struct JSONSchemaFormat: Decodable, Sendable, Equatable {
        /// Schema name.
        public var name: String?
        /// The JSON schema.
        public var schema: JSONValue?
    }

    /// `stop`: one string or several.
    public struct Stop: Decodable, Sendable, Equatable {
        /// The stop sequences.
        public var sequences: [String]

        /// Decodes a string or an array of strings.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let s = try? c.decode(String.self) {
                sequences = [s]
            } else {
                sequences = try c.decode([String].self)
            }
        }
    }

    /// Model name as the client sent it.
    public var model: String
    /// The conversation.
    public var messages: [Message]
    /// Tools.
    public var tools: [Tool]?
    /// Tool choice.
    public var toolChoice: ToolChoice?
    /// Response format.
    public var responseFormat: ResponseFormat?
    /// Sampling temperature.
    public var temperature: Double?
    /// Nucleus sampling.
    public var topP: Double?
    /// Legacy output limit.
    public var maxTokens: Int?
    /// Output limit; supersedes `max_tokens`.
    public var maxCompletionTokens: Int?
    /// Stop sequences.
    public var stop: Stop?
    /// Number of choices.
    public var n: Int?
    /// Sampling seed.
    public var seed: Int?
    /// Presence penalty.
    public var presencePenalty: Double?
    /// Frequency penalty.
    public var frequencyPenalty: Double?
    /// End-user id.
    public var user: String?

    enum CodingKeys: String, CodingKey {
        case model, messages, tools, temperature, stop, n, seed, user
        case toolChoice = "tool_choice"
        case responseFormat = "response_format"
        case topP = "top_p"
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty"
    }

    /// The output limit the client asked for, `max_completion_tokens` first.
    public var outputLimit: Int? { maxCompletionTokens ?? maxTokens }

    /// Decodes a client body, turning problems into 400s naming the field.
    public static func decode(_ body: Data) throws(GatewayError) -> ChatCompletionRequest {
        try RequestDecoding.decode(body)
    }

    /// Decodes the request `chat` was parsed from, reading the tree parsed at the edge when there
    /// is one rather than parsing `body` again.
    public static func decode(
        _ chat: ChatRequestEnvelope, body: ByteBuffer
    ) throws(GatewayError)
        -> ChatCompletionRequest
    {
        try RequestDecoding.decode(Data(buffer: body), tree: chat.document.map(JSONValue.object))
    }
}

/// A decoded `data:` URL.
public struct DataURL: Sendable, Equatable {
    /// The media type, e.g. `image/png`.
    public var mimeType: String
    /// The base64 payload.
    public var base64: String

    /// Parses `data:<mime>;base64,<payload>`; nil for anything else.
    public init?(_ url: String) {
        guard url.hasPrefix("data:"), let comma = url.firstIndex(of: ","), url[..<comma].hasSuffix(";base64") else {
            return nil
        }
        let header = url[url.index(url.startIndex, offsetBy: 5)..<comma].dropLast(";base64".count)
        mimeType = header.isEmpty ? "application/octet-stream" : String(header)
        base64 = String(url[url.index(after: comma)...])
    }
}
