import NIOCore

/// Translates a whole canonical Chat answer into a Responses `response` object: a message item for
/// the text (an empty one when there is neither text nor a call, so `output[0]` readers keep
/// working), one call item per tool call, the status from the finish reason, and the usage.
public enum ChatToResponses {
    /// The response for a `chat.completion` body (as the provider adapters produce it): its body,
    /// the object itself (to be kept) and the usage.
    public static func response(
        _ completion: ByteBuffer, to request: ResponsesRequest
    ) throws(GatewayError) -> (body: ByteBuffer, document: JSONValue, usage: TokenUsage?) {
        guard let answer = (try? JSONParser.parse(completion.readableBytesView))?.objectValue else {
            throw .badGateway("The provider's answer could not be read as a chat completion.")
        }
        let choice = answer["choices"]?.arrayValue?.first
        let (status, incomplete) = ResponseObject.status(choice?["finish_reason"]?.stringValue)
        let itemStatus = status == "completed" ? "completed" : "incomplete"
        var output: [JSONValue] = []
        let text = choice?["message"]?["content"]?.stringValue ?? choice?["message"]?["refusal"]?.stringValue ?? ""
        let calls = choice?["message"]?["tool_calls"]?.arrayValue ?? []
        if !text.isEmpty || calls.isEmpty {
            output.append(ResponseObject.message(id: RandomID.make("msg_", length: 24), text: text, status: itemStatus))
        }
        for call in calls {
            let name = call["function"]?["name"]?.stringValue ?? ""
            let custom = request.customTools.contains(name)
            output.append(
                ResponseObject.call(
                    id: RandomID.make(custom ? "ctc_" : "fc_", length: 24), callID: call["id"]?.stringValue ?? "",
                    name: name, arguments: call["function"]?["arguments"]?.stringValue ?? "{}", custom: custom,
                    status: itemStatus))
        }
        let usage = TokenUsage(json: answer["usage"])
        let object = ResponseObject(request: request).json(
            status: status, output: output,
            usage: ResponseObject.usage(answer["usage"], fallback: TokenUsage(promptTokens: 0, completionTokens: 0)),
            incomplete: incomplete)
        return (ByteBuffer(bytes: JSONWriter.bytes(object)), object, usage)
    }
}
