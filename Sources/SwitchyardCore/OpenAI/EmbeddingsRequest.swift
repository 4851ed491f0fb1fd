import Foundation
import NIOCore

/// An OpenAI embeddings request, for adapters that translate it.
public struct EmbeddingsRequest: Decodable, Sendable {
    /// Model name.
    public var model: String
    /// The texts to embed.
    public var input: [String]
    /// `float` (default) or `base64`.
    public var encodingFormat: String?
    /// Requested output size.
    public var dimensions: Int?

    enum CodingKeys: String, CodingKey {
        case model, input, dimensions
        case encodingFormat = "encoding_format"
    }

    /// Decodes; `input` may be one string or a list of strings (token-id input is not supported
    /// by the translating providers and is rejected with a 400).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decode(String.self, forKey: .model)
        if let one = try? c.decode(String.self, forKey: .input) {
            input = [one]
        } else if let many = try? c.decode([String].self, forKey: .input) {
            input = many
        } else {
            throw DecodingError.typeMismatch(
                [String].self,
                .init(codingPath: [CodingKeys.input], debugDescription: "input must be a string or a list of strings"))
        }
        encodingFormat = try c.decodeIfPresent(String.self, forKey: .encodingFormat)
        dimensions = try c.decodeIfPresent(Int.self, forKey: .dimensions)
    }

    /// Decodes a client body, turning problems into 400s.
    public static func decode(_ body: ByteBuffer) throws(GatewayError) -> EmbeddingsRequest {
        let request: EmbeddingsRequest = try RequestDecoding.decode(Data(buffer: body))
        if request.input.isEmpty { throw .invalidRequest("`input` must not be empty.", param: "input") }
        return request
    }

    /// The OpenAI `list` body for `vectors`, as floats or base64 (little-endian float32, what the
    /// official SDKs request by default).
    public func responseBody(vectors: [[Double]], promptTokens: Int) -> ByteBuffer {
        var out = #"{"object":"list","data":["#
        for (index, vector) in vectors.enumerated() {
            if index > 0 { out += "," }
            out += #"{"object":"embedding","index":\#(index),"embedding":"#
            if encodingFormat == "base64" {
                var bytes: [UInt8] = []
                bytes.reserveCapacity(vector.count * 4)
                for value in vector {
                    withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { bytes.append(contentsOf: $0) }
                }
                out += "\"" + Data(bytes).base64EncodedString() + "\""
            } else {
                out += "[" + vector.map { String(Float(value: $0)) }.joined(separator: ",") + "]"
            }
            out += "}"
        }
        out += #"],"model":"# + JSONString.quoted(model)
        out += #","usage":{"prompt_tokens":\#(promptTokens),"total_tokens":\#(promptTokens)}}"#
        return ByteBuffer(string: out)
    }
}

extension Float {
    fileprivate init(value: Double) { self = Float(value) }
}
