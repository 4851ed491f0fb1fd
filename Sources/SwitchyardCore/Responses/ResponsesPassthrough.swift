import NIOCore

/// A Responses request to an OpenAI upstream that serves `/v1/responses` goes through as the client
/// sent it: only `model` (to the route's upstream name) and the credentials change, so encrypted
/// reasoning, `previous_response_id` and built-in tools keep working, and the answer comes back
/// unchanged.
public enum ResponsesPassthrough {
    /// The upstream request: `POST /v1/responses` with the body's `model` renamed.
    public static func request(
        _ request: ResponsesRequest, body: ByteBuffer, target: ModelRouter.Target, client: ClientContext
    ) -> UpstreamRequest {
        let bytes = Array(body.readableBytesView)
        let renamed =
            TopLevelFieldRewriter.replacingString("model", with: target.upstreamModel, in: bytes)
            ?? {
                var document = request.document
                document["model"] = .string(target.upstreamModel)
                return JSONWriter.bytes(.object(document))
            }()
        let accept = request.stream ? "text/event-stream" : nil
        return UpstreamRequest(
            method: "POST", url: target.endpoint.baseURL.url("/responses"),
            headers: OpenAIAdapter().headers(endpoint: target.endpoint, client: client, accept: accept),
            body: ByteBuffer(bytes: renamed), timeouts: target.endpoint.timeouts)
    }

    /// The usage of a Responses `usage` object.
    static func usage(_ usage: JSONValue?) -> TokenUsage? {
        guard let input = usage?["input_tokens"]?.intValue, let output = usage?["output_tokens"]?.intValue else {
            return nil
        }
        return TokenUsage(promptTokens: input, completionTokens: output)
    }

    /// A whole answer as the upstream wrote it, with its usage.
    public static func answer(_ raw: ByteBuffer) -> AdaptedResponse {
        AdaptedResponse(body: raw, usage: usage((try? JSONParser.parse(raw.readableBytesView))?["usage"]))
    }
}

/// Relays a Responses stream byte for byte while learning its usage and text from its events; a
/// stream cut before its terminal event fails, so the client is told.
public struct ResponsesPassthroughTranscoder: ChatStreamTranscoder {
    private var sse = SSEDecoder()
    private var ended = false
    /// The usage the terminal event reported.
    public private(set) var usage: TokenUsage?
    /// Delta text so far.
    public private(set) var streamedText = ""

    /// Creates a transcoder.
    public init() {}

    public mutating func transcode(_ chunk: ByteBuffer) throws(GatewayError) -> ByteBuffer? {
        for event in sse.feed(chunk) { read(event) }
        return chunk
    }

    public mutating func finish() throws(GatewayError) -> ByteBuffer? {
        for event in sse.finish() { read(event) }
        guard ended else {
            throw .badGateway("The upstream stream ended before its final response event; the answer is incomplete.")
        }
        return nil
    }

    private mutating func read(_ event: SSEDecoder.Event) {
        guard let data = try? JSONParser.parse(event.data.utf8) else { return }
        switch data["type"]?.stringValue {
        case "response.output_text.delta": streamedText += data["delta"]?.stringValue ?? ""
        case "response.completed", "response.incomplete", "response.failed":
            ended = true
            usage = ResponsesPassthrough.usage(data["response"]?["usage"])
        case "error": ended = true
        default: break
        }
    }
}
