import NIOCore

/// A front door's stream machine reads every Chat chunk the same way: an error object fails the
/// stream, usage is noted, text and refusals are appended, tool calls are shown one at a time (each
/// a block or item of its own, through `ToolCallAssembly`), and a finish reason ends the output.
/// Conformers give the moves; the shared steps below decide when each is made.
protocol ChatChunkDispatch {
    /// The calls of the stream.
    var calls: ToolCallAssembly { get set }
    /// The finish reason, once the provider gave it.
    var finish: String? { get set }
    /// Notes the provider's `usage` object.
    mutating func noteUsage(_ usage: JSONValue)
    /// Appends answer text (or refusal text) to the open text block or item, opening one first.
    mutating func appendText(_ piece: String, into out: inout ByteBuffer)
    /// Starts showing call `index`, with its arguments so far.
    mutating func openTool(_ index: Int, into out: inout ByteBuffer)
    /// The open call `index` has `piece` more arguments.
    mutating func appendArguments(_ piece: String, of index: Int, into out: inout ByteBuffer)
    /// Closes whatever block or item is open.
    mutating func close(into out: inout ByteBuffer)
}

extension ChatChunkDispatch {
    /// Reads one `chat.completion.chunk` object.
    mutating func dispatch(_ chunk: JSONObject, into out: inout ByteBuffer) throws(GatewayError) {
        if let error = chunk["error"], error != .null {
            throw .badGateway(error["message"]?.stringValue ?? "The provider reported an error mid-stream.")
        }
        if let usage = chunk["usage"], usage != .null { noteUsage(usage) }
        guard let choice = chunk["choices"]?.arrayValue?.first else { return }
        for key in ["content", "refusal"] {
            if let piece = choice["delta"]?[key]?.stringValue, !piece.isEmpty { appendText(piece, into: &out) }
        }
        take(toolCalls: choice["delta"]?["tool_calls"]?.arrayValue ?? [], into: &out)
        if let reason = choice["finish_reason"]?.stringValue {
            finishToolCalls(into: &out)
            finish = reason
        }
    }

    /// Takes a chunk's `delta.tool_calls`.
    mutating func take(toolCalls fragments: [JSONValue], into out: inout ByteBuffer) {
        for fragment in fragments {
            switch calls.take(fragment) {
            case .wait: break
            case .show(let index): openTool(index, into: &out)
            case .append(let index, let piece): if !piece.isEmpty { appendArguments(piece, of: index, into: &out) }
            }
        }
    }

    /// The answer has finished: closes what is open and shows, whole, the calls that waited.
    mutating func finishToolCalls(into out: inout ByteBuffer) {
        close(into: &out)
        for index in calls.waiting {
            openTool(index, into: &out)
            close(into: &out)
        }
    }
}

extension ChatChunkMachine where Self: ChatChunkDispatch {
    /// Reads one chunk: the stream's opening events first, then the chunk's parts.
    mutating func read(chunk: JSONObject, into out: inout ByteBuffer) throws(GatewayError) {
        start(into: &out)
        try dispatch(chunk, into: &out)
    }

    /// Before the closing events: the stream is started, and what is open is closed. The
    /// provider's stream ended cleanly (its transcoder checked that), so an answer without a
    /// finish reason simply stopped. Returns the finish reason.
    mutating func concluding(into out: inout ByteBuffer) -> String {
        start(into: &out)
        if finish == nil { finishToolCalls(into: &out) }
        return finish ?? "stop"
    }
}
