import NIOCore

/// Turns a canonical Chat stream, chunk by chunk, into the Anthropic Messages event sequence the
/// SDKs parse: `message_start`, then blocks strictly one after another (`content_block_start`,
/// its deltas, `content_block_stop`, indexed from 0), then `message_delta` with the stop reason
/// and the usage, and `message_stop`. Every event has its `event:` line. A tool call whose name
/// has not arrived yet, or that the provider interleaves with another, is held back and sent
/// whole when the answer finishes, so no delta ever refers to a block that is not open.
public struct MessagesStreamMachine: ChatChunkMachine {
    /// One tool call of the Chat stream (by its Chat index).
    struct Slot: Sendable {
        var id: String
        var name: String?
        var arguments = ""
        /// Its block index once its block was started.
        var block: Int?
    }

    /// The block being streamed.
    enum Open: Sendable, Equatable {
        case none
        case text(Int)
        case tool(Int, slot: Int)
    }

    private let model: String
    private let id: String
    private let inputEstimate: Int
    private let toolNames: [String: String]
    private(set) var started = false
    private var nextIndex = 0
    private var open = Open.none
    private var slots: [Int: Slot] = [:]
    private var sawTool = false
    private var finish: String?
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

    /// Handles one Chat chunk (a `chat.completion.chunk` object).
    public mutating func handle(chunk: [String: JSONValue], into out: inout ByteBuffer) throws(GatewayError) {
        start(into: &out)
        if let error = chunk["error"], error != .null {
            throw .badGateway(error["message"]?.stringValue ?? "The provider reported an error mid-stream.")
        }
        if let reported = TokenUsage(json: chunk["usage"]) { usage = reported }
        guard let choice = chunk["choices"]?.arrayValue?.first else { return }
        let delta = choice["delta"]
        for key in ["content", "refusal"] {
            if let text = delta?[key]?.stringValue, !text.isEmpty { self.text(text, into: &out) }
        }
        for call in delta?["tool_calls"]?.arrayValue ?? [] {
            toolCall(call, into: &out)
        }
        if let reason = choice["finish_reason"]?.stringValue {
            close(into: &out)
            flushHeldTools(into: &out)
            finish = reason
        }
    }

    /// Ends the message: `message_delta` with the stop reason and usage (`outputEstimate` when the
    /// provider reported none), then `message_stop`; throws when the stream ended before the
    /// provider finished its answer.
    public mutating func complete(outputEstimate: Int, into out: inout ByteBuffer) throws(GatewayError) {
        start(into: &out)
        guard let finish else {
            throw .badGateway("The upstream stream ended before completion.")
        }
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

    private mutating func text(_ text: String, into out: inout ByteBuffer) {
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

    private mutating func toolCall(_ call: JSONValue, into out: inout ByteBuffer) {
        let index = call["index"]?.intValue ?? slots.count
        let fragment = call["function"]?["arguments"]?.stringValue ?? ""
        let isNew = slots[index] == nil
        var slot = slots[index] ?? Slot(id: ToolIdentity.clientID(call["id"]?.stringValue ?? RandomID.make("toolu_")))
        if slot.name == nil, let name = call["function"]?["name"]?.stringValue, !name.isEmpty {
            slot.name = toolNames[name] ?? name
        }
        if let block = slot.block, open == .tool(block, slot: index) {
            slots[index] = slot
            return argumentsDelta(fragment, block: block, into: &out)
        }
        // Arguments of a call not open wait; a call opens once its name is known, unless the
        // provider interleaves it with the open call (then it is sent whole at the answer's end).
        slot.arguments += fragment
        slots[index] = slot
        if slot.block == nil, slot.name != nil, isNew || !isToolOpen { openTool(index, into: &out) }
    }

    private var isToolOpen: Bool {
        if case .tool = open { return true }
        return false
    }

    private mutating func openTool(_ index: Int, into out: inout ByteBuffer) {
        guard var slot = slots[index] else { return }
        close(into: &out)
        let block = startBlock(
            ["type": "tool_use", "id": .string(slot.id), "name": .string(slot.name ?? ""), "input": [:]], into: &out)
        sawTool = true
        slot.block = block
        let held = slot.arguments
        slot.arguments = ""
        slots[index] = slot
        open = .tool(block, slot: index)
        argumentsDelta("", block: block, into: &out)
        if !held.isEmpty { argumentsDelta(held, block: block, into: &out) }
    }

    private mutating func flushHeldTools(into out: inout ByteBuffer) {
        for index in slots.keys.sorted() where slots[index]?.block == nil {
            if slots[index]?.name == nil { slots[index]?.name = "" }
            openTool(index, into: &out)
            close(into: &out)
        }
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

    private mutating func close(into out: inout ByteBuffer) {
        switch open {
        case .none: return
        case .text(let index), .tool(let index, _):
            Self.emit("content_block_stop", ["index": .number(Double(index))], into: &out)
        }
        open = .none
    }

    /// `event: <name>`, `data: <json with type = name>`, blank line.
    static func emit(_ name: String, _ fields: [String: JSONValue], into out: inout ByteBuffer) {
        var object = fields
        object["type"] = .string(name)
        out.writeString("event: \(name)\ndata: ")
        out.writeBytes(JSONWriter.bytes(.object(object)))
        out.writeString("\n\n")
    }
}
