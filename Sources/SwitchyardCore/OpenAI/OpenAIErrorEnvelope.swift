/// OpenAI's error body, `{"error":{"message","type","param","code"}}`, encoded with explicit nulls.
public struct OpenAIErrorEnvelope: Codable, Sendable, Equatable {
    /// The error object inside the envelope.
    public struct Body: Codable, Sendable, Equatable {
        /// Human-readable message.
        public var message: String
        /// OpenAI error type.
        public var type: String?
        /// The request parameter at fault, if any.
        public var param: String?
        /// Machine-readable code, if any.
        public var code: String?

        /// Creates an error body.
        public init(message: String, type: String?, param: String?, code: String?) {
            self.message = message
            self.type = type
            self.param = param
            self.code = code
        }

        enum CodingKeys: String, CodingKey { case message, type, param, code }

        /// Decodes leniently: `code` may be a number or a string upstream.
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            message = try c.decodeIfPresent(String.self, forKey: .message) ?? ""
            type = try? c.decodeIfPresent(String.self, forKey: .type)
            param = try? c.decodeIfPresent(String.self, forKey: .param)
            if let s = try? c.decodeIfPresent(String.self, forKey: .code) {
                code = s
            } else if let i = try? c.decodeIfPresent(Int.self, forKey: .code) {
                code = String(i)
            } else {
                code = nil
            }
        }

        /// Encodes every key, with `null` for absent values, as OpenAI does.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(message, forKey: .message)
            try c.encode(type, forKey: .type)
            try c.encode(param, forKey: .param)
            try c.encode(code, forKey: .code)
        }
    }

    /// The error.
    public var error: Body

    /// Wraps an error body.
    public init(error: Body) { self.error = error }
}
