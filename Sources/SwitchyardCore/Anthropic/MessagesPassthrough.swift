import NIOCore

/// A Messages request to an Anthropic upstream goes through as the client sent it: only `model`
/// (to the route's upstream name) and the credentials change, and `anthropic-version` and
/// `anthropic-beta` are forwarded as sent. Thinking blocks and their signatures, `cache_control`,
/// server tools and documents survive, which a translation would lose.
public enum MessagesPassthrough {
    /// The upstream request: `POST /v1/messages` (or `/v1/messages/count_tokens`) with the body's
    /// `model` renamed.
    public static func request(
        _ request: MessagesRequest, body: ByteBuffer, target: ModelRouter.Target, client: ClientContext,
        version: String?, beta: String?, path: String = "/v1/messages"
    ) -> UpstreamRequest {
        let renamed = TopLevelFieldRewriter.body(body, document: request.document, model: target.upstreamModel)
        var extra: [(name: String, value: String)] = [("anthropic-version", version ?? AnthropicAdapter.version)]
        if let beta { extra.append(("anthropic-beta", beta)) }
        let credential = (target.endpoint.apiKey?.value ?? client.bearerToken).map { ("x-api-key", $0) }
        return UpstreamRequest(
            method: "POST", url: target.endpoint.baseURL.url(path),
            headers: AdapterSupport.headers(client, credential: credential, extra: extra),
            body: renamed, timeouts: target.endpoint.timeouts)
    }

    /// The usage of a whole Anthropic answer: input (cache reads and writes included) and output.
    public static func usage(_ answer: ByteBuffer) -> TokenUsage? {
        guard let reported = (try? JSONParser.parse(answer.readableBytesView))?["usage"] else { return nil }
        return usage(of: reported, output: reported["output_tokens"]?.intValue ?? 0)
    }

    /// An Anthropic `usage` object as the gateway's usage.
    static func usage(of usage: JSONValue, output: Int) -> TokenUsage? {
        guard let input = usage["input_tokens"]?.intValue else { return nil }
        let written = usage["cache_creation_input_tokens"]?.intValue ?? 0
        let read = usage["cache_read_input_tokens"]?.intValue ?? 0
        return TokenUsage(
            promptTokens: input + written + read, completionTokens: output, cachedTokens: read,
            cacheWriteTokens: written)
    }
}

/// What an Anthropic stream tells: its usage (`message_start`'s input, `message_delta`'s cumulative
/// output), its text, and its end (`message_stop`, or an `error` event that told the client).
public struct MessagesStreamObserver: StreamObserver {
    private var input: JSONValue?
    private var output = 0
    public private(set) var ended = false
    public private(set) var streamedText = ""

    /// A new observer.
    public init() {}

    public var usage: TokenUsage? { input.flatMap { MessagesPassthrough.usage(of: $0, output: output) } }

    public static var cutShort: String {
        "The upstream stream ended before its message_stop event; the answer is incomplete."
    }

    public mutating func read(_ event: SSEDecoder.Event) {
        guard let data = try? JSONParser.parse(event.data.utf8) else { return }
        switch data["type"]?.stringValue {
        case "message_start": input = data["message"]?["usage"]
        case "message_delta":
            if let usage = data["usage"] {
                output = usage["output_tokens"]?.intValue ?? output
                if usage["input_tokens"]?.intValue != nil { input = usage }
            }
        case "content_block_delta": streamedText += data["delta"]?["text"]?.stringValue ?? ""
        case "message_stop", "error": ended = true
        default: break
        }
    }
}
