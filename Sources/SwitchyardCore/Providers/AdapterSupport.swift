import Foundation
import NIOCore

/// Helpers shared by the translating adapters.
enum AdapterSupport {
    /// Encodes a native request body.
    static func body(_ value: JSONValue) -> ByteBuffer {
        ByteBuffer(bytes: JSONWriter.bytes(value))
    }

    /// The headers of every upstream request: a JSON body, the request id, then `credential` (the
    /// provider's own header with the server-side key or the client's), then `extra`.
    static func headers(
        _ client: ClientContext, credential: (name: String, value: String)?,
        extra: [(name: String, value: String)] = []
    ) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = [
            ("content-type", "application/json"), ("x-request-id", client.requestID),
        ]
        if let credential { headers.append(credential) }
        return headers + extra
    }

    /// The client-facing error for a provider's error answer: `map` applied to the error envelope
    /// `E` when the body is one, else the body reshaped as it is.
    static func upstreamError<E: Decodable>(
        _ envelope: E.Type, status: Int, body: ByteBuffer, provider: String, map: (E) -> GatewayError
    ) -> GatewayError {
        guard let decoded = try? JSONDecoder().decode(E.self, from: Data(buffer: body)) else {
            return UpstreamErrorReshaper.reshape(status: status, body: body, provider: provider)
        }
        return map(decoded)
    }

    /// Decodes a provider's answer, or throws a 502 naming the provider.
    static func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer, provider: String) throws(GatewayError) -> T
    {
        do {
            return try JSONTreeDecoder.decode(T.self, from: body.readableBytesView)
        } catch {
            throw .badGateway("\(provider) answered with a body Switchyard cannot read (\(error)).")
        }
    }

    /// Parses a tool call's JSON-text arguments into an object, as Gemini and Ollama want.
    static func argumentsObject(_ arguments: String, index: Int) throws(GatewayError) -> JSONValue {
        let text = arguments.trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty { return .object([:]) }
        guard let value = try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)), value.objectValue != nil
        else {
            throw .invalidRequest(
                "Tool call arguments must be a JSON object for this provider.", param: "messages[\(index)].tool_calls")
        }
        return value
    }

    /// JSON text of a value (tool arguments going back to OpenAI clients).
    static func jsonText(_ value: JSONValue?) -> String {
        value.map(JSONWriter.text) ?? "{}"
    }

    /// Function names of earlier assistant tool calls, by call id, for `tool` messages that
    /// only carry the id.
    static func toolNames(in messages: [ChatCompletionRequest.Message]) -> [String: String] {
        var names: [String: String] = [:]
        for message in messages {
            for call in message.toolCalls ?? [] { names[call.id] = call.function.name }
        }
        return names
    }

    /// Rejects `n` > 1 for providers that return one choice.
    static func requireSingleChoice(_ request: ChatCompletionRequest, provider: String) throws(GatewayError) {
        if let n = request.n, n != 1 {
            throw .invalidRequest("\(provider) returns one choice per request; `n` must be 1.", param: "n")
        }
    }

    /// A fresh tool call id.
    static func newCallID() -> String {
        RandomID.make("call_", length: 24)
    }

    /// The image of a content part as inline data, or a 400 for remote URLs the provider cannot fetch.
    static func inlineImage(
        _ part: ChatCompletionRequest.Part, provider: String, index: Int
    ) throws(GatewayError) -> DataURL {
        guard let url = part.imageURL?.url, let data = DataURL(url) else {
            throw .invalidRequest(
                "\(provider) accepts images only as base64 data URLs (data:image/png;base64,…); remote image URLs "
                    + "cannot be fetched for it.",
                param: "messages[\(index)].content")
        }
        return data
    }

    /// A user message's parts as `{"text": …}` pieces and `image(…)` pieces (inline images only),
    /// or a 400 naming `provider` for a part it cannot take.
    static func userParts(
        _ message: ChatCompletionRequest.Message, index: Int, provider: String, image: (DataURL) -> JSONValue
    ) throws(GatewayError) -> [JSONValue] {
        var parts: [JSONValue] = []
        for part in message.content?.parts ?? [] {
            switch part.type {
            case "text": if let t = part.text, !t.isEmpty { parts.append(["text": .string(t)]) }
            case "image_url": parts.append(image(try inlineImage(part, provider: provider, index: index)))
            default:
                throw .invalidRequest(
                    "\(provider) cannot take `\(part.type)` content parts.", param: "messages[\(index)].content")
            }
        }
        return parts
    }

    /// A string that `JSONValue` carries as JSON (for optional numbers).
    static func number(_ value: Double?) -> JSONValue? { value.map(JSONValue.number) }
    static func number(_ value: Int?) -> JSONValue? { value.map { .number(Double($0)) } }
}

extension JSONObject {
    /// Sets `key` only when `value` is present.
    mutating func set(_ key: String, _ value: JSONValue?) {
        if let value { self[key] = value }
    }
}
