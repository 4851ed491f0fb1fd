import Foundation
import NIOCore
import Testing

@testable import SwitchyardCore

/// The canonical Chat stream turned into Anthropic events, at every split of the upstream bytes.
@Suite("Anthropic Messages streams")
struct MessagesStreamTests {
    /// An OpenAI stream of `chunks` (delta and finish reason), a usage chunk and `[DONE]`.
    static func openAIStream(
        _ chunks: [(delta: String, finish: String?)], usage: Bool = true, done: Bool = true
    )
        -> String
    {
        var stream = chunks.map { chunk in
            let finish = chunk.finish.map { #""\#($0)""# } ?? "null"
            return
                #"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":\#(chunk.delta),"finish_reason":\#(finish)}]}"#
                + "\n\n"
        }.joined()
        if usage {
            stream +=
                #"data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"up","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":4,"total_tokens":15}}"#
                + "\n\n"
        }
        if done { stream += "data: [DONE]\n\n" }
        return stream
    }

    /// "Hi there", finished with `stop`, with its usage.
    static let hiThere = openAIStream([
        (#"{"role":"assistant","content":""}"#, nil), (#"{"content":"Hi"}"#, nil), (#"{"content":" there"}"#, nil),
        ("{}", "stop"),
    ])

    /// The events (name and data without ids) for `bytes` delivered in `chunks`.
    static func events(_ chunks: [[UInt8]], toolNames: [String: String] = [:]) throws(GatewayError) -> [String] {
        var chat = ChatRequestEnvelope(model: "claude-x", messages: [["role": "user", "content": "hi"]], stream: true)
        chat.includeUsage = true
        var transcoder = CanonicalStreamTranscoder(
            inner: OpenAIAdapter().makeChatStreamTranscoder(chat: chat),
            machine: MessagesStreamMachine(model: "claude-x", inputEstimate: 9, toolNames: toolNames), counter: nil)
        var output = ""
        for chunk in chunks {
            if let out = try transcoder.transcode(ByteBuffer(bytes: chunk)) { output += String(buffer: out) }
        }
        if let out = try transcoder.finish() { output += String(buffer: out) }
        return output.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
            let lines = event.components(separatedBy: "\n")
            let data = (try? JSONParser.parse(lines[1].dropFirst("data: ".count).utf8)) ?? .null
            return lines[0].dropFirst("event: ".count) + " " + JSONWriter.text(StreamHarness.strip(data))
        }
    }

    /// The events, checked to be the same for every two-way split of the stream.
    static func everySplit(_ stream: String, toolNames: [String: String] = [:]) throws -> [String] {
        try StreamHarness.sameAtEverySplit(
            stream, comparing: { $0 }, { chunks in try events(chunks, toolNames: toolNames) })
    }

    @Test("Text: message_start with the estimate, one text block, message_delta with the usage, message_stop")
    func text() throws {
        let events = try Self.everySplit(Self.hiThere)
        let names = events.map { $0.prefix { $0 != " " } }
        #expect(
            names == [
                "message_start", "content_block_start", "content_block_delta", "content_block_delta",
                "content_block_stop", "message_delta", "message_stop",
            ])
        #expect(events[0].contains(#""input_tokens":9"#) && events[0].contains(#""model":"claude-x""#))
        #expect(events[2].contains(#""text":"Hi""#) && events[2].contains(#""type":"text_delta""#))
        #expect(events[5].contains(#""stop_reason":"end_turn""#) && events[5].contains(#""output_tokens":4"#))
        #expect(events[5].contains(#""input_tokens":11"#))
    }

    @Test("Tool calls: text closes, each call is its own block with input_json_delta; the stop reason is tool_use")
    func tools() throws {
        let events = try Self.everySplit(
            Self.openAIStream([
                (#"{"content":"Let me check."}"#, nil),
                (
                    #"{"tool_calls":[{"index":0,"id":"call~a","type":"function","function":{"name":"short","arguments":""}}]}"#,
                    nil
                ),
                (#"{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\":"}}]}"#, nil),
                (#"{"tool_calls":[{"index":0,"function":{"arguments":"\"Paris\"}"}}]}"#, nil),
                (#"{"tool_calls":[{"index":1,"id":"call_b","function":{"arguments":"{}"}}]}"#, nil),
                (#"{"tool_calls":[{"index":1,"function":{"name":"second"}}]}"#, nil),
                ("{}", "stop"),
            ]), toolNames: ["short": "the_clients_long_name"])
        let starts = events.filter { $0.hasPrefix("content_block_start") }
        #expect(starts.count == 3)
        #expect(starts[1].contains(#""name":"the_clients_long_name""#) && starts[1].contains(#""index":1"#))
        #expect(starts[2].contains(#""name":"second""#) && starts[2].contains(#""index":2"#))
        let deltas = events.filter { $0.contains("input_json_delta") }
        #expect(
            deltas.map { $0.contains(#""index":1"#) ? "1" : "2" } == ["1", "1", "1", "2", "2"],
            "the second call's arguments wait for its name")
        #expect(events.filter { $0.hasPrefix("content_block_stop") }.count == 3)
        #expect(events.last(where: { $0.hasPrefix("message_delta") })?.contains(#""stop_reason":"tool_use""#) == true)
        // Every block is stopped before the next starts.
        var open: Int?
        for event in events {
            if event.hasPrefix("content_block_start") {
                #expect(open == nil)
                open = 1
            }
            if event.hasPrefix("content_block_stop") { open = nil }
        }
    }

    @Test("A stream cut before its end fails; one ended without a finish reason stops; usage is estimated")
    func cut() throws {
        #expect(throws: GatewayError.self) {
            try Self.events([Array(Self.openAIStream([(#"{"content":"Hi"}"#, nil)], usage: false, done: false).utf8)])
        }
        let unfinished = try Self.events([Array(Self.openAIStream([(#"{"content":"Hi"}"#, nil)], usage: false).utf8)])
        #expect(
            unfinished.last(where: { $0.hasPrefix("message_delta") })?.contains(#""stop_reason":"end_turn""#) == true)
        let events = try Self.events([
            Array(Self.openAIStream([(#"{"content":"Hi there you"}"#, nil), ("{}", "length")], usage: false).utf8)
        ])
        let delta = try #require(events.first { $0.hasPrefix("message_delta") })
        #expect(delta.contains(#""stop_reason":"max_tokens""#) && delta.contains(#""input_tokens":9"#))
        #expect(!delta.contains(#""output_tokens":0"#))
    }
}
