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
        let renamed = TopLevelFieldRewriter.body(body, document: request.document, model: target.upstreamModel)
        let accept = request.stream ? "text/event-stream" : nil
        return UpstreamRequest(
            method: "POST", url: target.endpoint.baseURL.url("/responses"),
            headers: OpenAIAdapter().headers(endpoint: target.endpoint, client: client, accept: accept),
            body: renamed, timeouts: target.endpoint.timeouts)
    }

    /// The usage of a Responses `usage` object.
    static func usage(_ usage: JSONValue?) -> TokenUsage? {
        guard let input = usage?["input_tokens"]?.intValue, let output = usage?["output_tokens"]?.intValue else {
            return nil
        }
        return TokenUsage(
            promptTokens: input, completionTokens: output,
            cachedTokens: usage?["input_tokens_details"]?["cached_tokens"]?.intValue ?? 0,
            reasoningTokens: usage?["output_tokens_details"]?["reasoning_tokens"]?.intValue ?? 0)
    }

    /// A whole answer as the upstream wrote it, with its usage.
    public static func answer(_ raw: ByteBuffer) -> AdaptedResponse {
        AdaptedResponse(body: raw, usage: usage((try? JSONParser.parse(raw.readableBytesView))?["usage"]))
    }
}

/// What a Responses stream tells: its usage (from the terminal event), its text, and its end (a
/// terminal event, or an `error` event that told the client).
public struct ResponsesStreamObserver: StreamObserver {
    public private(set) var ended = false
    public private(set) var usage: TokenUsage?
    public private(set) var streamedText = ""

    /// A new observer.
    public init() {}

    public static var cutShort: String {
        "The upstream stream ended before its final response event; the answer is incomplete."
    }

    public mutating func read(_ event: SSEDecoder.Event) {
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
