import NIOCore

/// Turns a canonical Chat stream, chunk by chunk, into the Responses API's event sequence:
/// `response.created` and `response.in_progress`, then items strictly one after another (added,
/// their deltas, done; output indexes handed out in order), then one terminal event
/// (`response.completed`, `response.incomplete`, or `response.failed` when the upstream breaks)
/// carrying the whole response. One response id throughout, and `sequence_number`s without gaps.
public struct ResponsesStreamMachine: ChatChunkMachine {
    /// One tool call of the Chat stream (by its Chat index).
    struct Slot: Sendable {
        var itemID: String
        var callID: String
        var name: String?
        var arguments = ""
        var custom = false
        /// Its output index once its item was added.
        var outputIndex: Int?
    }

    /// The item being streamed.
    enum Open: Sendable, Equatable {
        case none
        case text(outputIndex: Int, itemID: String)
        case tool(slot: Int)
    }

    private let response: ResponseObject
    private let inputEstimate: Int
    private var sequence = 0
    private var started = false
    private var items: [JSONValue] = []
    private var open = Open.none
    private var text = ""
    private var slots: [Int: Slot] = [:]
    private var finish: String?
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

    public mutating func handle(chunk: [String: JSONValue], into out: inout ByteBuffer) throws(GatewayError) {
        start(into: &out)
        if let error = chunk["error"], error != .null {
            throw .badGateway(error["message"]?.stringValue ?? "The provider reported an error mid-stream.")
        }
        if let reported = TokenUsage(json: chunk["usage"]) {
            usage = reported
            usageObject = chunk["usage"]
        }
        guard let choice = chunk["choices"]?.arrayValue?.first else { return }
        let delta = choice["delta"]
        for key in ["content", "refusal"] {
            if let piece = delta?[key]?.stringValue, !piece.isEmpty { appendText(piece, into: &out) }
        }
        for call in delta?["tool_calls"]?.arrayValue ?? [] { toolCall(call, into: &out) }
        if let reason = choice["finish_reason"]?.stringValue {
            close(into: &out)
            for index in slots.keys.sorted() where slots[index]?.outputIndex == nil {
                openTool(index, into: &out)
                close(into: &out)
            }
            finish = reason
        }
    }

    public mutating func complete(outputEstimate: Int, into out: inout ByteBuffer) throws(GatewayError) {
        start(into: &out)
        guard let finish else { throw .badGateway("The upstream stream ended before completion.") }
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

    private mutating func appendText(_ piece: String, into out: inout ByteBuffer, force: Bool = false) {
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

    private mutating func toolCall(_ call: JSONValue, into out: inout ByteBuffer) {
        let index = call["index"]?.intValue ?? max(0, slots.count - 1)
        let fragment = call["function"]?["arguments"]?.stringValue ?? ""
        let isNew = slots[index] == nil
        var slot =
            slots[index]
            ?? Slot(itemID: "", callID: call["id"]?.stringValue ?? RandomID.make("call_", length: 24))
        if slot.name == nil, let name = call["function"]?["name"]?.stringValue, !name.isEmpty {
            slot.name = name
            slot.custom = response.request.customTools.contains(name)
            slot.itemID = RandomID.make(slot.custom ? "ctc_" : "fc_", length: 24)
        }
        if open == .tool(slot: index) {
            slot.arguments += fragment
            slots[index] = slot
            if !slot.custom, !fragment.isEmpty, let outputIndex = slot.outputIndex {
                emit(
                    "response.function_call_arguments.delta",
                    [
                        "item_id": .string(slot.itemID), "output_index": .number(Double(outputIndex)),
                        "delta": .string(fragment),
                    ],
                    into: &out)
            }
            return
        }
        slot.arguments += fragment
        slots[index] = slot
        if slot.outputIndex == nil, slot.name != nil, isNew || !isToolOpen { openTool(index, into: &out) }
    }

    private var isToolOpen: Bool {
        if case .tool = open { return true }
        return false
    }

    /// Adds the item of call `index`; arguments that arrived before it go out as one delta.
    private mutating func openTool(_ index: Int, into out: inout ByteBuffer) {
        guard var slot = slots[index] else { return }
        close(into: &out)
        if slot.itemID.isEmpty { slot.itemID = RandomID.make("fc_", length: 24) }
        let outputIndex = items.count
        items.append(.null)
        slot.outputIndex = outputIndex
        slots[index] = slot
        open = .tool(slot: index)
        let item: JSONValue = [
            "type": slot.custom ? "custom_tool_call" : "function_call", "id": .string(slot.itemID),
            "call_id": .string(slot.callID), "name": .string(slot.name ?? ""),
            slot.custom ? "input" : "arguments": "", "status": "in_progress",
        ]
        emit("response.output_item.added", ["output_index": .number(Double(outputIndex)), "item": item], into: &out)
        if !slot.custom, !slot.arguments.isEmpty {
            emit(
                "response.function_call_arguments.delta",
                [
                    "item_id": .string(slot.itemID), "output_index": .number(Double(outputIndex)),
                    "delta": .string(slot.arguments),
                ], into: &out)
        }
    }

    private mutating func close(into out: inout ByteBuffer, status: String = "completed") {
        switch open {
        case .none: return
        case .text(let index, let itemID):
            let location: [String: JSONValue] = [
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
            guard let slot = slots[index], let outputIndex = slot.outputIndex else { break }
            let arguments = slot.arguments.isEmpty ? "{}" : slot.arguments
            let item = ResponseObject.call(
                id: slot.itemID, callID: slot.callID, name: slot.name ?? "", arguments: arguments, custom: slot.custom,
                status: status)
            let location: [String: JSONValue] = [
                "item_id": .string(slot.itemID), "output_index": .number(Double(outputIndex)),
            ]
            if slot.custom {
                let input = item["input"] ?? ""
                emit("response.custom_tool_call_input.delta", location.merging(["delta": input]) { $1 }, into: &out)
                emit("response.custom_tool_call_input.done", location.merging(["input": input]) { $1 }, into: &out)
            } else {
                if slot.arguments.isEmpty {
                    emit("response.function_call_arguments.delta", location.merging(["delta": "{}"]) { $1 }, into: &out)
                }
                emit(
                    "response.function_call_arguments.done",
                    location.merging(["name": .string(slot.name ?? ""), "arguments": .string(arguments)]) { $1 },
                    into: &out)
            }
            items[outputIndex] = item
            emit("response.output_item.done", ["output_index": .number(Double(outputIndex)), "item": item], into: &out)
        }
        open = .none
    }

    private static func textPart(_ text: String) -> JSONValue {
        ["type": "output_text", "text": .string(text), "annotations": [], "logprobs": []]
    }

    /// `event: <name>`, `data: <json with type = name and the next sequence number>`, blank line.
    private mutating func emit(_ name: String, _ fields: [String: JSONValue], into out: inout ByteBuffer) {
        var object = fields
        object["type"] = .string(name)
        object["sequence_number"] = .number(Double(sequence))
        sequence += 1
        out.writeString("event: \(name)\ndata: ")
        out.writeBytes(JSONWriter.bytes(.object(object)))
        out.writeString("\n\n")
    }
}
