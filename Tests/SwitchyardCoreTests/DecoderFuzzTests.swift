import Foundation
import NIOCore
import SwitchyardCore
import Testing

/// Random and mutated input thrown at every decoder a client or provider can reach: the request
/// decoder and each adapter's request conversion, response conversion and stream transcoder.
/// Never a crash; every refusal is a `GatewayError`, whose body is OpenAI's error shape.
@Suite("Decoder fuzzing")
struct DecoderFuzzTests {
    static let kinds: [ProviderKind] = [.openai, .gemini, .anthropic, .ollama]

    static let responses: [ProviderKind: String] = [
        .openai:
            #"{"id":"c","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi","tool_calls":[{"id":"t","type":"function","function":{"name":"f","arguments":"{}"}}]},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#,
        .gemini:
            #"{"candidates":[{"content":{"role":"model","parts":[{"text":"hi"},{"functionCall":{"name":"f","args":{"a":1}}}]},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":3,"candidatesTokenCount":1,"totalTokenCount":4}}"#,
        .anthropic:
            #"{"id":"msg_1","type":"message","role":"assistant","model":"claude","content":[{"type":"text","text":"hi"},{"type":"tool_use","id":"t","name":"f","input":{"a":1}}],"stop_reason":"tool_use","usage":{"input_tokens":3,"output_tokens":1}}"#,
        .ollama:
            #"{"model":"llama3","created_at":"2024-01-01T00:00:00Z","message":{"role":"assistant","content":"hi","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},"done":true,"done_reason":"stop","prompt_eval_count":3,"eval_count":1}"#,
    ]

    static let streams: [ProviderKind: String] = [
        .openai:
            "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}]}\n\n"
            + "data: {\"id\":\"c\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"m\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1}}\n\ndata: [DONE]\n\n",
        .gemini: GeminiAdapterTests.stream,
        .anthropic: AnthropicAdapterTests.stream,
        .ollama: OllamaAdapterTests.stream,
    ]

    static let requestSeeds = [
        richRequest,
        #"{"model":"m","stream":true,"stream_options":{"include_usage":true},"n":1,"temperature":0.5,"max_tokens":10,"stop":["x"],"response_format":{"type":"json_object"},"messages":[{"role":"user","content":"hi","name":"u"}]}"#,
    ]

    /// `seed` with up to four random byte edits (delete, replace, insert), or random bytes.
    static func mutate(_ seed: [UInt8], _ generator: inout SplitMix64) -> [UInt8] {
        let alphabet = Array(#"{}[]",:0123456789.eE+-truefalsnl\ "#.utf8) + [0x00, 0x0A, 0x80, 0xC3, 0xFF]
        if Int.random(in: 0..<20, using: &generator) == 0 {
            return (0..<Int.random(in: 0...64, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
        }
        var bytes = seed
        for _ in 0...Int.random(in: 0...3, using: &generator) {
            let position = Int.random(in: 0...bytes.count, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0 where position < bytes.count: bytes.remove(at: position)
            case 1 where position < bytes.count: bytes[position] = alphabet.randomElement(using: &generator)!
            default: bytes.insert(alphabet.randomElement(using: &generator)!, at: position)
            }
        }
        return bytes
    }

    /// Runs `body`; a `GatewayError` must render as OpenAI's error envelope; nothing else may escape.
    static func refusesCleanly(_ body: () throws(GatewayError) -> Void) -> Bool {
        do {
            try body()
            return true
        } catch {
            guard let envelope = try? JSONDecoder().decode(OpenAIErrorEnvelope.self, from: error.jsonBody()) else {
                Issue.record("not OpenAI-shaped: \(error)")
                return false
            }
            return !envelope.error.message.isEmpty
        }
    }

    @Test("30,000 request bodies: the decoder and every adapter's conversion refuse or convert, never crash")
    func requests() {
        var generator = SplitMix64(seed: 1)
        let adapters = Self.kinds.map { (kind: $0, adapter: AdapterRegistry.standard.adapter(for: $0)!) }
        var parsed = 0
        for round in 0..<30_000 {
            let body = Self.mutate(Array(Self.requestSeeds[round % 2].utf8), &generator)
            var chat: ChatRequestEnvelope?
            #expect(Self.refusesCleanly { () throws(GatewayError) in chat = try ChatRequestEnvelope.parse(body) })
            guard let chat else { continue }
            parsed += 1
            let (kind, adapter) = adapters[round % adapters.count]
            #expect(
                Self.refusesCleanly { () throws(GatewayError) in
                    _ = try adapter.chatRequest(
                        chat, body: ByteBuffer(bytes: body), target: target(kind, "m"), client: testClient)
                })
        }
        #expect(parsed > 1000, "enough mutations must stay valid to reach the adapters")
    }

    @Test("40,000 upstream answers: every adapter's response conversion refuses or converts, never crashes")
    func responses() throws {
        var generator = SplitMix64(seed: 2)
        let chat = try ChatRequestEnvelope.parse(
            Array(#"{"model":"m","messages":[{"role":"user","content":"x"}]}"#.utf8))
        for round in 0..<40_000 {
            let kind = Self.kinds[round % Self.kinds.count]
            let adapter = AdapterRegistry.standard.adapter(for: kind)!
            let body = Self.mutate(Array(Self.responses[kind]!.utf8), &generator)
            #expect(
                Self.refusesCleanly { () throws(GatewayError) in
                    _ = try adapter.chatResponse(ByteBuffer(bytes: body), chat: chat)
                })
        }
    }

    @Test("40,000 upstream streams, split at random: every transcoder refuses or relays, never crashes")
    func streams() throws {
        var generator = SplitMix64(seed: 3)
        var chat = try ChatRequestEnvelope.parse(
            Array(#"{"model":"m","stream":true,"messages":[{"role":"user","content":"x"}]}"#.utf8))
        for round in 0..<40_000 {
            let kind = Self.kinds[round % Self.kinds.count]
            chat.includeUsage = round % 8 < 4 ? true : nil
            var transcoder = AdapterRegistry.standard.adapter(for: kind)!.makeChatStreamTranscoder(chat: chat)
            var bytes = Self.mutate(Array(Self.streams[kind]!.utf8), &generator)
            #expect(
                Self.refusesCleanly { () throws(GatewayError) in
                    while !bytes.isEmpty {
                        let cut = Int.random(in: 1...max(1, min(bytes.count, 40)), using: &generator)
                        _ = try transcoder.transcode(ByteBuffer(bytes: bytes.prefix(cut)))
                        bytes.removeFirst(cut)
                    }
                    _ = try transcoder.finish()
                })
        }
    }
}
