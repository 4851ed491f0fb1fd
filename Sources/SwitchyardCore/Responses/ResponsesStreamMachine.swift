import NIOCore

/// Turns a canonical Chat stream, chunk by chunk, into the Responses API's event sequence:
/// `response.created` and `response.in_progress`, then items strictly one after another (added,
/// their deltas, done; output indexes handed out in order), then one terminal event
/// (`response.completed`, `response.incomplete`, or `response.failed` when the upstream breaks)
/// carrying the whole response. One response id throughout, and `sequence_number`s without gaps.
public struct ResponsesStreamMachine: ChatChunkMachine, ChatChunkDispatch {
    /// A call's item once it was added.
    struct CallItem: Sendable {
        var itemID: String
        var outputIndex: Int
        var custom: Bool
    }

    /// The item being streamed.
    enum Open: Sendable, Equatable {
        case none
        case text(outputIndex: Int, itemID: String)
        case tool(call: Int)
    }

    private let response: ResponseObject
    private let inputEstimate: Int
    private var sequence = 0
    private var started = false
    private var items: [JSONValue] = []
    private var open = Open.none
    private var text = ""
    var calls = ToolCallAssembly()
    private var callItems: [Int: CallItem] = [:]
    var finish: String?
    private var usageObject: JSONValue?
    /// The provider's usage, once the stream reported it.
    public private(set) var usage: TokenUsage?
    /// The terminal `response` object, once sent.
    public private(set) var document: JSONValue?

    /// A machine for one answer to `request`; `inputEstimate` is the gateway's count of the prompt,
    /// the usage reported when the provider reports none.
    public init(request: ResponsesRequest, inputEstimate: Int) {
        self.response = ResponseObject(request: request)
        self.inputEstimate = inputEstimate
    }

    public mutating func start(into out: inout ByteBuffer) {
        guard !started else { return }
        started = true
        let object = response.json(status: "in_progress", output: [])
        emit("response.created", ["response": object], into: &out)
        emit("response.in_progress", ["response": object], into: &out)
    }

    public mutating func handle(chunk: JSONObject, into out: inout ByteBuffer) throws(GatewayError) {
        try read(chunk: chunk, into: &out)
    }

    public mutating func complete(outputEstimate: Int, into out: inout ByteBuffer) throws(GatewayError) {
        let finish = concluding(into: &out)
        let (status, incomplete) = ResponseObject.status(finish)
        if items.isEmpty {
            // No text and no call: one empty message, so `output[0]` readers keep working.
            appendText("", into: &out, force: true)
            close(into: &out)
        }
        let object = response.json(
            status: status, output: items,
            usage: ResponseObject.usage(
                usageObject, fallback: TokenUsage(promptTokens: inputEstimate, completionTokens: outputEstimate)),
            incomplete: incomplete)
        document = object
        emit(status == "completed" ? "response.completed" : "response.incomplete", ["response": object], into: &out)
    }

    public mutating func fail(_ error: GatewayError, into out: inout ByteBuffer) {
        start(into: &out)
        close(into: &out, status: "incomplete")
        let code = error.status == 429 ? "rate_limit_exceeded" : "server_error"
        let object = response.json(
            status: "failed", output: items,
            usage: usageObject.map {
                ResponseObject.usage($0, fallback: TokenUsage(promptTokens: 0, completionTokens: 0))
            }
                ?? .null,
            error: ["code": .string(code), "message": .string(error.message)])
        emit("response.failed", ["response": object], into: &out)
    }

    mutating func appendText(_ piece: String, into out: inout ByteBuffer) {
        appendText(piece, into: &out, force: false)
    }

    /// Appends `piece` to the open message item, opening one first; `force` opens one for an
    /// empty piece.
    private mutating func appendText(_ piece: String, into out: inout ByteBuffer, force: Bool) {
        if case .text = open {
        } else {
            close(into: &out)
            let itemID = RandomID.make("msg_", length: 24)
            let index = items.count
            items.append(.null)  // reserved: the item is added now and finished on close
            open = .text(outputIndex: index, itemID: itemID)
            text = ""
            emit(
                "response.output_item.added",
                [
                    "output_index": .number(Double(index)),
                    "item": [
                        "type": "message", "id": .string(itemID), "status": "in_progress", "role": "assistant",
                        "content": [],
                    ],
                ], into: &out)
            emit(
                "response.content_part.added",
                [
                    "item_id": .string(itemID), "output_index": .number(Double(index)), "content_index": .number(0),
                    "part": Self.textPart(""),
                ], into: &out)
        }
        guard case .text(let index, let itemID) = open, !piece.isEmpty || force else { return }
        text += piece
        if piece.isEmpty { return }
        emit(
            "response.output_text.delta",
            [
                "item_id": .string(itemID), "output_index": .number(Double(index)), "content_index": .number(0),
                "delta": .string(piece), "logprobs": [],
            ], into: &out)
    }

    mutating func noteUsage(_ usage: JSONValue) {
        guard let reported = TokenUsage(json: usage) else { return }
        self.usage = reported
        usageObject = usage
    }

    mutating func appendArguments(_ piece: String, of index: Int, into out: inout ByteBuffer) {
        guard let item = callItems[index], !item.custom else { return }
        emit(
            "response.function_call_arguments.delta",
            [
                "item_id": .string(item.itemID), "output_index": .number(Double(item.outputIndex)),
                "delta": .string(piece),
            ], into: &out)
    }

    /// Adds the item of call `index`; its arguments so far go out as one delta.
    mutating func openTool(_ index: Int, into out: inout ByteBuffer) {
        guard let call = calls.calls[index] else { return }
        close(into: &out)
        let custom = call.name.map(response.request.customTools.contains) ?? false
        let item = CallItem(
            itemID: RandomID.make(custom ? "ctc_" : "fc_", length: 24), outputIndex: items.count, custom: custom)
        items.append(.null)  // reserved: the item is finished on close
        callItems[index] = item
        calls.shown(index)
        open = .tool(call: index)
        let added: JSONValue = [
            "type": custom ? "custom_tool_call" : "function_call", "id": .string(item.itemID),
            "call_id": .string(call.id), "name": .string(call.name ?? ""), custom ? "input" : "arguments": "",
            "status": "in_progress",
        ]
        emit(
            "response.output_item.added", ["output_index": .number(Double(item.outputIndex)), "item": added], into: &out
        )
        if !call.arguments.isEmpty { appendArguments(call.arguments, of: index, into: &out) }
    }

    mutating func close(into out: inout ByteBuffer) { close(into: &out, status: "completed") }

    /// Closes the open item with `status`.
    private mutating func close(into out: inout ByteBuffer, status: String) {
        switch open {
        case .none: return
        case .text(let index, let itemID):
            let location: JSONObject = [
                "item_id": .string(itemID), "output_index": .number(Double(index)), "content_index": .number(0),
            ]
            emit(
                "response.output_text.done", location.merging(["text": .string(text), "logprobs": []]) { $1 },
                into: &out)
            emit("response.content_part.done", location.merging(["part": Self.textPart(text)]) { $1 }, into: &out)
            let item = ResponseObject.message(id: itemID, text: text, status: status)
            items[index] = item
            emit("response.output_item.done", ["output_index": .number(Double(index)), "item": item], into: &out)
        case .tool(let index):
            guard let call = calls.calls[index], let callItem = callItems[index] else { break }
            let outputIndex = callItem.outputIndex
            let arguments = call.arguments.isEmpty ? "{}" : call.arguments
            let item = ResponseObject.call(
                id: callItem.itemID, callID: call.id, name: call.name ?? "", arguments: arguments,
                custom: callItem.custom, status: status)
            let location: JSONObject = [
                "item_id": .string(callItem.itemID), "output_index": .number(Double(outputIndex)),
            ]
            if callItem.custom {
                let input = item["input"] ?? ""
                emit("response.custom_tool_call_input.delta", location.merging(["delta": input]) { $1 }, into: &out)
                emit("response.custom_tool_call_input.done", location.merging(["input": input]) { $1 }, into: &out)
            } else {
                if call.arguments.isEmpty {
                    emit("response.function_call_arguments.delta", location.merging(["delta": "{}"]) { $1 }, into: &out)
                }
                emit(
                    "response.function_call_arguments.done",
                    location.merging(["name": .string(call.name ?? ""), "arguments": .string(arguments)]) { $1 },
                    into: &out)
            }
            items[outputIndex] = item
            emit("response.output_item.done", ["output_index": .number(Double(outputIndex)), "item": item], into: &out)
            calls.closed()
        }
        open = .none
    }

    private static func textPart(_ text: String) -> JSONValue {
        ["type": "output_text", "text": .string(text), "annotations": [], "logprobs": []]
    }

    /// `event: <name>`, `data: <json with type = name and the next sequence number>`, blank line.
    private mutating func emit(_ name: String, _ fields: JSONObject, into out: inout ByteBuffer) {
        var object = fields
        object["type"] = .string(name)
        object["sequence_number"] = .number(Double(sequence))
        sequence += 1
        out.writeString("event: \(name)\ndata: ")
        out.writeBytes(JSONWriter.bytes(.object(object)))
        out.writeString("\n\n")
    }
}
