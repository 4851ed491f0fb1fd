import NIOCore
import Testing

@testable import SwitchyardCore

@Suite("AWS event stream: frames split anywhere, checksums checked; Bedrock's ConverseStream as OpenAI chunks")
struct EventStreamTests {
    static let stream: [UInt8] =
        EventStreamFrames.event("messageStart", #"{"role":"assistant","p":"abc"}"#)
        + EventStreamFrames.event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"Hel"}}"#)
        + EventStreamFrames.event("contentBlockDelta", #"{"contentBlockIndex":0,"delta":{"text":"lo"}}"#)
        + EventStreamFrames.event("contentBlockStop", #"{"contentBlockIndex":0}"#)
        + EventStreamFrames.event(
            "contentBlockStart",
            #"{"contentBlockIndex":1,"start":{"toolUse":{"toolUseId":"tooluse_1","name":"get_weather"}}}"#)
        + EventStreamFrames.event(
            "contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"{\"city\":"}}}"#)
        + EventStreamFrames.event(
            "contentBlockDelta", #"{"contentBlockIndex":1,"delta":{"toolUse":{"input":"\"Oslo\"}"}}}"#)
        + EventStreamFrames.event("contentBlockStop", #"{"contentBlockIndex":1}"#)
        + EventStreamFrames.event("messageStop", #"{"stopReason":"tool_use"}"#)
        + EventStreamFrames.event(
            "metadata",
            #"{"usage":{"inputTokens":12,"outputTokens":7,"cacheReadInputTokens":3},"metrics":{"latencyMs":5}}"#)

    @Test("Every split of a stream into two reads gives the same messages")
    func splitAnywhere() throws {
        var whole = EventStreamDecoder()
        let expected = try whole.feed(Self.stream)
        #expect(expected.count == 10 && expected[0].headers[":event-type"] == "messageStart")
        #expect(
            String(decoding: expected[1].payload, as: UTF8.self) == #"{"contentBlockIndex":0,"delta":{"text":"Hel"}}"#)
        for cut in 0...Self.stream.count {
            var decoder = EventStreamDecoder()
            let messages = try decoder.feed(Self.stream[..<cut]) + decoder.feed(Self.stream[cut...])
            #expect(messages == expected, "cut at \(cut)")
            #expect(!decoder.isMidMessage)
        }
        // Byte by byte.
        var decoder = EventStreamDecoder()
        var messages: [EventStreamMessage] = []
        for byte in Self.stream { messages += try decoder.feed([byte]) }
        #expect(messages == expected)
    }

    @Test("A flipped bit in the prelude or the message fails the stream")
    func checksums() {
        for index in [2, 9, 20, 40] {
            var damaged = Self.stream
            damaged[index] ^= 0x10
            var decoder = EventStreamDecoder()
            #expect(throws: EventStreamDecoder.Failure.self) { _ = try decoder.feed(damaged) }
        }
    }

    static func chunks(_ transcoder: inout any ChatStreamTranscoder, _ bytes: [UInt8], cut: Int) throws -> String {
        var out = ""
        for piece in [bytes[..<cut], bytes[cut...]] {
            if let converted = try transcoder.transcode(ByteBuffer(bytes: piece)) { out += String(buffer: converted) }
        }
        if let end = try transcoder.finish() { out += String(buffer: end) }
        return out
    }

    @Test("ConverseStream becomes OpenAI chunks: text, a tool call with its arguments, the finish reason, usage")
    func converseStream() throws {
        let chat = try ChatRequestEnvelope.parse(
            Array(
                #"{"model":"claude-on-bedrock","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#
                    .utf8))
        for cut in stride(from: 0, through: Self.stream.count, by: 7) {
            var transcoder = BedrockAdapter().makeChatStreamTranscoder(chat: chat)
            let text = try Self.chunks(&transcoder, Self.stream, cut: cut)
            let events = text.components(separatedBy: "\n\n").filter { $0.hasPrefix("data: {") }.map {
                try? JSONParser.parse(Array($0.dropFirst(6).utf8))
            }
            let deltas = events.compactMap { $0?["choices"]?.arrayValue?.first?["delta"] }
            #expect(deltas.compactMap { $0["content"]?.stringValue }.joined() == "Hello")
            let calls = deltas.compactMap { $0["tool_calls"]?.arrayValue?.first }
            #expect(calls.first?["id"] == "tooluse_1" && calls.first?["function"]?["name"] == "get_weather")
            #expect(calls.compactMap { $0["function"]?["arguments"]?.stringValue }.joined() == #"{"city":"Oslo"}"#)
            let finish = events.compactMap { $0?["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }
            #expect(finish == ["tool_calls"])
            let usage = events.compactMap { $0?["usage"] }.last
            #expect(usage?["prompt_tokens"] == .number(15) && usage?["completion_tokens"] == .number(7))
            #expect(text.hasSuffix("data: [DONE]\n\n"))
            #expect(transcoder.usage?.cachedTokens == 3)
        }
    }

    @Test("An exception frame, or a stream that stops before messageStop, fails")
    func failures() throws {
        let chat = try ChatRequestEnvelope.parse(
            Array(#"{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}"#.utf8))
        var throttled = BedrockAdapter().makeChatStreamTranscoder(chat: chat)
        let exception = EventStreamFrames.frame(
            [(":message-type", "exception"), (":exception-type", "throttlingException")], #"{"message":"slow down"}"#)
        #expect(throws: GatewayError.self) { _ = try throttled.transcode(ByteBuffer(bytes: exception)) }
        do {
            _ = try throttled.transcode(ByteBuffer(bytes: exception))
        } catch {
            #expect(error.status == 429 && error.headers["retry-after"] == "1")
        }
        var cut = BedrockAdapter().makeChatStreamTranscoder(chat: chat)
        _ = try cut.transcode(ByteBuffer(bytes: Array(Self.stream.prefix(200))))
        #expect(throws: GatewayError.self) { _ = try cut.finish() }
    }
}
