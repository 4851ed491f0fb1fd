import NIOCore

/// Turns a canonical Chat stream, chunk by chunk, into the Anthropic Messages event sequence the
/// SDKs parse: `message_start`, then blocks strictly one after another (`content_block_start`,
/// its deltas, `content_block_stop`, indexed from 0), then `message_delta` with the stop reason
/// and the usage, and `message_stop`. Every event has its `event:` line. A tool call whose name
/// has not arrived yet, or that the provider interleaves with another, is held back and sent
/// whole when the answer finishes, so no delta ever refers to a block that is not open.
public struct MessagesStreamMachine: ChatChunkMachine, ChatChunkDispatch {
    /// The block being streamed.
    enum Open: Sendable, Equatable {
        case none
        case text(Int)
        case tool(Int)
    }

    private let model: String
    private let id: String
    private let inputEstimate: Int
    private let toolNames: [String: String]
    private(set) var started = false
    private var nextIndex = 0
    private var open = Open.none
    var calls = ToolCallAssembly()
    private var sawTool = false
    var finish: String?
    /// The provider's usage, once the stream reported it.
    public private(set) var usage: TokenUsage?
    /// Messages answers are relayed, not kept.
    public var document: JSONValue? { nil }

    /// A machine for one answer to a request for `model`; `inputEstimate` is the gateway's count of
    /// the prompt, reported at the start (and at the end when the provider reports no usage);
    /// `toolNames` gives shortened tool names their client names back.
    public init(model: String, inputEstimate: Int, toolNames: [String: String] = [:]) {
        self.model = model
        self.id = ChatToMessages.messageID()
        self.inputEstimate = inputEstimate
        self.toolNames = toolNames
    }

    public mutating func start(into out: inout ByteBuffer) {
        guard !started else { return }
        started = true
        Self.emit(
            "message_start",
            [
                "message": [
                    "id": .string(id), "type": "message", "role": "assistant", "model": .string(model), "content": [],
                    "stop_reason": .null, "stop_sequence": .null,
                    "usage": ChatToMessages.usageObject(TokenUsage(promptTokens: inputEstimate, completionTokens: 1)),
                ]
            ], into: &out)
    }

    public mutating func handle(chunk: JSONObject, into out: inout ByteBuffer) throws(GatewayError) {
        try read(chunk: chunk, into: &out)
    }

    /// Ends the message: `message_delta` with the stop reason and usage (`outputEstimate` when the
    /// provider reported none), then `message_stop`.
    public mutating func complete(outputEstimate: Int, into out: inout ByteBuffer) throws(GatewayError) {
        let finish = concluding(into: &out)
        let final = usage ?? TokenUsage(promptTokens: inputEstimate, completionTokens: outputEstimate)
        Self.emit(
            "message_delta",
            [
                "delta": [
                    "stop_reason": .string(ChatToMessages.stopReason(finish, sawTool: sawTool)), "stop_sequence": .null,
                ],
                "usage": ChatToMessages.usageObject(final),
            ], into: &out)
        Self.emit("message_stop", [:], into: &out)
    }

    /// Closes the open block and sends `event: error`, which the SDKs raise as an API error.
    public mutating func fail(_ error: GatewayError, into out: inout ByteBuffer) {
        start(into: &out)
        close(into: &out)
        Self.emit("error", ["error": error.anthropicError], into: &out)
    }

    mutating func appendText(_ text: String, into out: inout ByteBuffer) {
        if case .text = open {
        } else {
            close(into: &out)
            open = .text(startBlock(["type": "text", "text": ""], into: &out))
        }
        if case .text(let index) = open {
            Self.emit(
                "content_block_delta",
                ["index": .number(Double(index)), "delta": ["type": "text_delta", "text": .string(text)]], into: &out)
        }
    }

    /// Starts the block of call `index`; its arguments so far go with it.
    mutating func openTool(_ index: Int, into out: inout ByteBuffer) {
        guard let call = calls.calls[index] else { return }
        close(into: &out)
        let name = call.name.map { toolNames[$0] ?? $0 } ?? ""
        let block = startBlock(
            ["type": "tool_use", "id": .string(ToolIdentity.clientID(call.id)), "name": .string(name), "input": [:]],
            into: &out)
        sawTool = true
        calls.shown(index)
        open = .tool(block)
        argumentsDelta("", block: block, into: &out)
        if !call.arguments.isEmpty { argumentsDelta(call.arguments, block: block, into: &out) }
    }

    mutating func noteUsage(_ usage: JSONValue) {
        if let reported = TokenUsage(json: usage) { self.usage = reported }
    }

    func appendArguments(_ piece: String, of index: Int, into out: inout ByteBuffer) {
        if case .tool(let block) = open { argumentsDelta(piece, block: block, into: &out) }
    }

    private func argumentsDelta(_ fragment: String, block: Int, into out: inout ByteBuffer) {
        Self.emit(
            "content_block_delta",
            [
                "index": .number(Double(block)),
                "delta": ["type": "input_json_delta", "partial_json": .string(fragment)],
            ], into: &out)
    }

    private mutating func startBlock(_ block: JSONValue, into out: inout ByteBuffer) -> Int {
        let index = nextIndex
        nextIndex += 1
        Self.emit("content_block_start", ["index": .number(Double(index)), "content_block": block], into: &out)
        return index
    }

    mutating func close(into out: inout ByteBuffer) {
        switch open {
        case .none: return
        case .text(let index), .tool(let index):
            Self.emit("content_block_stop", ["index": .number(Double(index))], into: &out)
        }
        calls.closed()
        open = .none
    }

    /// `event: <name>`, `data: <json with type = name>`, blank line.
    static func emit(_ name: String, _ fields: JSONObject, into out: inout ByteBuffer) {
        var object = fields
        object["type"] = .string(name)
        out.writeString("event: \(name)\ndata: ")
        out.writeBytes(JSONWriter.bytes(.object(object)))
        out.writeString("\n\n")
    }
}
