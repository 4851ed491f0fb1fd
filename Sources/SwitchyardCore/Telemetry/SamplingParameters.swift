/// The sampling settings a request states, as a trace records them (`gen_ai.request.*`): read from
/// the top level of any of the three client APIs' bodies.
public struct SamplingParameters: Sendable, Equatable {
    /// `max_tokens`, `max_completion_tokens` or `max_output_tokens`.
    public var maxTokens: Int?
    /// `temperature`.
    public var temperature: Double?
    /// `top_p`.
    public var topP: Double?

    /// Parameters as given.
    public init(maxTokens: Int?, temperature: Double? = nil, topP: Double? = nil) {
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
    }

    /// The parameters of `body`; none when it is not a JSON object.
    public init(body: some Collection<UInt8>) {
        guard let object = (try? JSONParser.parse(body))?.objectValue else { return }
        for name in ["max_tokens", "max_completion_tokens", "max_output_tokens"] where maxTokens == nil {
            maxTokens = object[name]?.intValue
        }
        if case .number(let value)? = object["temperature"] { temperature = value }
        if case .number(let value)? = object["top_p"] { topP = value }
    }
}
