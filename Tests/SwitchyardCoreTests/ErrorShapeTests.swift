import Foundation
import NIOCore
import Testing

@testable import SwitchyardCore

@Suite("Errors and request validation")
struct ErrorShapeTests {
    @Test("Errors serialize in OpenAI's shape with explicit nulls")
    func shape() throws {
        let body = GatewayError.bodyTooLarge(limit: 10).jsonBody()
        let json = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
        let error = try #require(json["error"] as? [String: Any])
        #expect(error["type"] as? String == "invalid_request_error")
        #expect(error["code"] as? String == "request_too_large")
        #expect(error["param"] is NSNull)
        #expect((error["message"] as? String)?.contains("10 bytes") == true)
        #expect(String(decoding: body, as: UTF8.self).hasPrefix(#"{"error":{"message":"#))
    }

    @Test("Messages with quotes and control characters stay valid JSON")
    func escaping() throws {
        let error = GatewayError.invalidRequest("bad \"x\"\n\u{01}\\")
        let decoded = try JSONDecoder().decode(OpenAIErrorEnvelope.self, from: error.jsonBody())
        #expect(decoded.error.message == "bad \"x\"\n\u{01}\\")
    }

    @Test(
        "Chat request validation answers 400 naming the field",
        arguments: [
            ("", "empty", nil),
            ("{not json", "not valid JSON", nil),
            ("[1,2]", "must be a JSON object", nil),
            (#"{"messages":[{"role":"user","content":"hi"}]}"#, "Missing required parameter: `model`", "model"),
            (#"{"model":"gpt-4o"}"#, "Missing required parameter: `messages`", "messages"),
            (#"{"model":"gpt-4o","messages":[]}"#, "at least one message", "messages"),
            (#"{"model":"","messages":[{"role":"user"}]}"#, "non-empty", "model"),
            (#"{"model":5,"messages":[]}"#, "Invalid type for `model`", "model"),
            (#"{"model":"m","messages":[{"content":"x"}]}"#, "string `role`", "messages[0].role"),
            (#"{"model":"m","messages":[{"role":"wizard"}]}"#, "`wizard`", "messages[0].role"),
            (#"{"model":"m","messages":[{"role":"user"}],"stream":"yes"}"#, "Invalid type for `stream`", "stream"),
        ] as [(String, String, String?)])
    func validation(body: String, message: String, param: String?) {
        #expect {
            try ChatRequestEnvelope.parse(Data(body.utf8))
        } throws: { error in
            guard let e = error as? GatewayError else { return false }
            return e.status == 400 && e.message.contains(message) && e.param == param
        }
    }

    @Test("A valid request parses with its stream options")
    func valid() throws {
        let chat = try ChatRequestEnvelope.parse(
            Data(
                #"{"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#
                    .utf8))
        var expected = ChatRequestEnvelope(
            model: "gpt-4o", messages: [["role": "user", "content": "hi"]], stream: true, includeUsage: true)
        // The whole document, kept for the adapters that translate it.
        expected.document = [
            "model": "gpt-4o", "stream": .bool(true), "stream_options": ["include_usage": .bool(true)],
            "messages": [["role": "user", "content": "hi"]],
        ]
        #expect(chat == expected)
    }

    @Test("Upstream OpenAI errors keep status, type, code and message")
    func upstreamOpenAIError() {
        let body = ByteBuffer(
            string:
                #"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#
        )
        let e = UpstreamErrorReshaper.reshape(status: 401, body: body, provider: "OpenAI")
        #expect(
            e
                == GatewayError(
                    status: 401, type: "invalid_request_error", message: "Incorrect API key provided",
                    code: "invalid_api_key"))
    }

    @Test("Upstream errors that are not OpenAI-shaped keep the status and quote the body")
    func upstreamGarbage() {
        let e = UpstreamErrorReshaper.reshape(
            status: 503, body: ByteBuffer(string: "<html>\nbusy</html>"), provider: "OpenAI")
        #expect(e.status == 503)
        #expect(e.type == "service_unavailable")
        #expect(e.message == "OpenAI upstream answered HTTP 503: <html>busy</html>")
    }
}
