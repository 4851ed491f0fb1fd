import Foundation
import NIOCore
import Testing

@testable import SwitchyardCore

/// The canonical Chat stream turned into Responses events, at every split of the upstream bytes.
@Suite("Responses streams")
struct ResponsesStreamTests {
    static let request = try! ResponsesRequest.parse(Array(#"{"model":"asked","input":"hi","stream":true}"#.utf8))

    /// The events (name and data, ids and timestamps left out) for `chunks`; with `failing`, the
    /// stream is broken after them instead of finished.
    static func events(_ chunks: [[UInt8]], failing: Bool = false) throws(GatewayError) -> [JSONObject] {
        var chat = ChatRequestEnvelope(model: "asked", messages: [["role": "user", "content": "hi"]], stream: true)
        chat.includeUsage = true
        var transcoder = CanonicalStreamTranscoder(
            inner: OpenAIAdapter().makeChatStreamTranscoder(chat: chat),
            machine: ResponsesStreamMachine(request: request, inputEstimate: 9), counter: nil)
        var output = ""
        for chunk in chunks {
            if let out = try transcoder.transcode(ByteBuffer(bytes: chunk)) { output += String(buffer: out) }
        }
        let end = failing ? transcoder.failure(.badGateway("cut")) : try transcoder.finish()
        if let end { output += String(buffer: end) }
        return output.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
            let lines = event.components(separatedBy: "\n")
            let data = (try? JSONParser.parse(lines[1].dropFirst("data: ".count).utf8))?.objectValue ?? [:]
            #expect(lines[0] == "event: \(data["type"]?.stringValue ?? "")")
            return data
        }
    }

    /// The events as names and sorted JSON without per-stream ids and times, the same for every
    /// two-way split of the stream.
    static func everySplit(_ stream: String) throws -> [JSONObject] {
        try StreamHarness.sameAtEverySplit(
            stream, comparing: { events in events.map { JSONWriter.text(StreamHarness.strip(strip(.object($0)))) } },
            { chunks in try events(chunks) })
    }

    /// Drops the keys fresh per stream (item ids, times) below the top level's `id`.
    static func strip(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let o):
            var out: JSONObject = [:]
            for (k, v) in o where !["item_id", "created_at", "completed_at", "call_id"].contains(k) {
                out[k] = strip(v)
            }
            return .object(out)
        case .array(let a): return .array(a.map(strip))
        default: return value
        }
    }

    static func names(_ events: [JSONObject]) -> [String] { events.compactMap { $0["type"]?.stringValue } }

    @Test("Text: created and in_progress, one message item, completed with the output and usage")
    func text() throws {
        let events = try Self.everySplit(MessagesStreamTests.hiThere)
        #expect(
            Self.names(events) == [
                "response.created", "response.in_progress", "response.output_item.added", "response.content_part.added",
                "response.output_text.delta", "response.output_text.delta", "response.output_text.done",
                "response.content_part.done", "response.output_item.done", "response.completed",
            ])
        #expect(events.map { $0["sequence_number"]?.intValue } == Array(0..<events.count))
        let id = events[0]["response"]?["id"]
        #expect(id?.stringValue?.hasPrefix("resp_") == true && events.last?["response"]?["id"] == id)
        let final = try #require(events.last?["response"])
        #expect(final["status"] == "completed" && final["model"] == "asked")
        #expect(final["output"]?.arrayValue?.first?["content"]?.arrayValue?.first?["text"] == "Hi there")
        #expect(final["usage"]?["input_tokens"] == .number(11) && final["usage"]?["output_tokens"] == .number(4))
        #expect(events[0]["response"]?["usage"] == .null && events[0]["response"]?["output"] == [])
    }

    @Test("Calls: each its own item with argument deltas; a call without its name waits; indexes in order")
    func calls() throws {
        let events = try Self.everySplit(
            MessagesStreamTests.openAIStream([
                (#"{"content":"Let me check."}"#, nil),
                (
                    #"{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"f","arguments":"{\"a\":"}}]}"#,
                    nil
                ),
                (#"{"tool_calls":[{"index":0,"function":{"arguments":"1}"}}]}"#, nil),
                (#"{"tool_calls":[{"index":1,"id":"call_b","function":{"arguments":"{}"}}]}"#, nil),
                (#"{"tool_calls":[{"index":1,"function":{"name":"g"}}]}"#, nil),
                ("{}", "tool_calls"),
            ]))
        let added = events.filter { $0["type"] == "response.output_item.added" }
        #expect(added.map { $0["output_index"]?.intValue } == [0, 1, 2])
        #expect(added.map { $0["item"]?["type"]?.stringValue } == ["message", "function_call", "function_call"])
        let done = events.filter { $0["type"] == "response.function_call_arguments.done" }
        #expect(done.map { $0["arguments"]?.stringValue } == [#"{"a":1}"#, "{}"])
        #expect(done.map { $0["name"]?.stringValue } == ["f", "g"])
        let final = try #require(events.last?["response"]?["output"]?.arrayValue)
        #expect(final.map { $0["call_id"]?.stringValue } == [nil, "call_a", "call_b"])
        #expect(events.map { $0["sequence_number"]?.intValue } == Array(0..<events.count))
    }

    @Test("A broken stream ends in response.failed with the open item closed; a stream cut short fails")
    func failures() throws {
        let events = try Self.events(
            [Array(MessagesStreamTests.openAIStream([(#"{"content":"Hi"}"#, nil)], usage: false, done: false).utf8)],
            failing: true)
        #expect(
            Self.names(events).suffix(4) == [
                "response.output_text.done", "response.content_part.done", "response.output_item.done",
                "response.failed",
            ])
        let failed = try #require(events.last?["response"])
        #expect(failed["status"] == "failed" && failed["error"]?["code"] == "server_error")
        #expect(failed["output"]?.arrayValue?.first?["status"] == "incomplete")
        #expect(events.map { $0["sequence_number"]?.intValue } == Array(0..<events.count))
        #expect(throws: GatewayError.self) {
            try Self.events([
                Array(MessagesStreamTests.openAIStream([(#"{"content":"Hi"}"#, nil)], usage: false, done: false).utf8)
            ])
        }
        let cut = try Self.events([
            Array(MessagesStreamTests.openAIStream([(#"{"content":"Hi"}"#, nil), ("{}", "length")]).utf8)
        ])
        #expect(cut.last?["type"] == "response.incomplete")
        #expect(cut.last?["response"]?["incomplete_details"]?["reason"] == "max_output_tokens")
    }
}
