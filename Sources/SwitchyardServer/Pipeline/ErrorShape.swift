import HTTPTypes
import NIOCore
import NIOFoundationCompat
import SwitchyardCore

/// The error shape of a client API: how a failure is answered, before the answer (a status and a
/// body) and in the middle of a stream (an event).
enum ErrorShape: Sendable {
    /// `{"error":{"message","type","param","code"}}`; mid-stream a `data:` event.
    case openAI
    /// `{"type":"error","error":{"type","message"}}` with Anthropic's statuses (529 for overload);
    /// mid-stream an `event: error`.
    case anthropic

    /// The status and body answering `error`.
    func answer(_ error: GatewayError, requestID: String) -> (HTTPResponse.Status, ByteBuffer) {
        switch self {
        case .openAI:
            (HTTPResponse.Status(code: error.status), ByteBuffer(data: error.jsonBody()))
        case .anthropic:
            (
                HTTPResponse.Status(code: error.anthropicStatus),
                ByteBuffer(bytes: error.anthropicBody(requestID: requestID))
            )
        }
    }

    /// The event that ends a stream broken by `error`: what the official SDKs raise as an API error.
    func streamEvent(_ error: GatewayError) -> ByteBuffer {
        switch self {
        case .openAI:
            var buffer = ByteBuffer(string: "data: ")
            buffer.writeData(error.jsonBody())
            buffer.writeString("\n\n")
            return buffer
        case .anthropic:
            var buffer = ByteBuffer(string: "event: error\ndata: ")
            buffer.writeBytes(JSONWriter.bytes(["type": "error", "error": error.anthropicError]))
            buffer.writeString("\n\n")
            return buffer
        }
    }
}
