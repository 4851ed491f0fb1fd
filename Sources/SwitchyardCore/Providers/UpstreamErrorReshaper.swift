import Foundation
import NIOCore
import NIOFoundationCompat

/// Turns an upstream error answer into a `GatewayError` with the upstream's status and message.
public enum UpstreamErrorReshaper {
    /// Reads an OpenAI-style `{"error":{…}}` body when there is one; otherwise quotes a short,
    /// printable excerpt of the body.
    public static func reshape(status: Int, body: ByteBuffer, provider: String) -> GatewayError {
        let data = Data(buffer: body)
        if let envelope = try? JSONDecoder().decode(OpenAIErrorEnvelope.self, from: data),
            !envelope.error.message.isEmpty
        {
            return GatewayError(
                status: status,
                type: envelope.error.type ?? GatewayError.openAIType(forStatus: status),
                message: envelope.error.message,
                code: envelope.error.code,
                param: envelope.error.param
            )
        }
        let excerpt = String(decoding: data.prefix(300), as: UTF8.self)
            .filter { !$0.isNewline }
            .trimmingCharacters(in: .whitespaces)
        let detail = excerpt.isEmpty ? "" : ": \(excerpt)"
        return GatewayError(
            status: status,
            type: GatewayError.openAIType(forStatus: status),
            message: "\(provider) upstream answered HTTP \(status)\(detail)"
        )
    }
}
