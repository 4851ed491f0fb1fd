import Foundation
import NIOCore
import Testing

@testable import SwitchyardCore

/// Runs a stream transcoder over recorded upstream bytes and reduces its OpenAI output to what a
/// client sees (ids and timestamps, which are fresh per stream, are left out), so that outputs for
/// different splits of the same bytes can be compared.
enum StreamHarness {
    /// The summarized output for `bytes` delivered in the given chunks; the error if it threw.
    static func run(
        _ adapter: any ProviderAdapter, chat: ChatRequestEnvelope, chunks: [[UInt8]]
    ) -> Result<[String], GatewayError> {
        var transcoder = adapter.makeChatStreamTranscoder(chat: chat)
        var output = ""
        do throws(GatewayError) {
            for chunk in chunks {
                if let out = try transcoder.transcode(ByteBuffer(bytes: chunk)) { output += String(buffer: out) }
            }
            if let out = try transcoder.finish() { output += String(buffer: out) }
        } catch {
            return .failure(error)
        }
        return .success(summarize(output))
    }

    /// Every event as sorted JSON without ids and timestamps; `[DONE]` as itself.
    static func summarize(_ sse: String) -> [String] {
        sse.components(separatedBy: "\n\n").filter { !$0.isEmpty }.map { event in
            let data = String(event.dropFirst("data: ".count))
            guard data != "[DONE]", var value = try? JSONDecoder().decode(JSONValue.self, from: Data(data.utf8)) else {
                return data
            }
            value = strip(value)
            return JSONWriter.text(value)
        }
    }

    static func strip(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let o):
            var out: JSONObject = [:]
            for (k, v) in o where k != "id" && k != "created" { out[k] = strip(v) }
            return .object(out)
        case .array(let a): return .array(a.map(strip))
        default: return value
        }
    }

    /// Asserts the output is the same for every two-way split of `stream` and returns it.
    static func everySplit(_ adapter: any ProviderAdapter, chat: ChatRequestEnvelope, stream: String) throws -> [String]
    {
        let whole = try sameAtEverySplit(
            stream, comparing: { $0 }, { chunks in try run(adapter, chat: chat, chunks: chunks).get() })
        let single = try run(adapter, chat: chat, chunks: Array(stream.utf8).map { [$0] }).get()
        #expect(single == whole, "byte-by-byte delivery changed the output")
        return whole
    }

    /// Runs `convert` over `stream` whole and cut in two at every byte, expecting the same `key`
    /// of its result each time; returns the whole run's result.
    static func sameAtEverySplit<T, Key: Equatable>(
        _ stream: String, comparing key: (T) -> Key, _ convert: ([[UInt8]]) throws -> T
    ) throws -> T {
        let bytes = Array(stream.utf8)
        let whole = try convert([bytes])
        for split in 1..<bytes.count {
            let parts = try convert([Array(bytes[..<split]), Array(bytes[split...])])
            #expect(key(parts) == key(whole), "split at byte \(split) changed the output")
            if key(parts) != key(whole) { break }
        }
        return whole
    }

    /// The parsed events (without `[DONE]`).
    static func events(_ summary: [String]) -> [JSONValue] {
        summary.filter { $0 != "[DONE]" }.compactMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.utf8)) }
    }

    /// The concatenated text deltas.
    static func text(_ summary: [String]) -> String {
        events(summary).compactMap { $0["choices"]?.arrayValue?.first?["delta"]?["content"]?.stringValue }.joined()
    }

    /// Finish reasons in order.
    static func finishReasons(_ summary: [String]) -> [String] {
        events(summary).compactMap { $0["choices"]?.arrayValue?.first?["finish_reason"]?.stringValue }
    }

    /// Tool calls reassembled by index: (index, name, arguments).
    static func toolCalls(_ summary: [String]) -> [(Int, String, String)] {
        var calls: [Int: (String, String)] = [:]
        for event in events(summary) {
            for call in event["choices"]?.arrayValue?.first?["delta"]?["tool_calls"]?.arrayValue ?? [] {
                guard case .number(let i) = call["index"] else { continue }
                let index = Int(i)
                var entry = calls[index] ?? ("", "")
                if let name = call["function"]?["name"]?.stringValue { entry.0 = name }
                entry.1 += call["function"]?["arguments"]?.stringValue ?? ""
                calls[index] = entry
            }
        }
        return calls.keys.sorted().map { ($0, calls[$0]!.0, calls[$0]!.1) }
    }

    /// The usage of the final usage chunk.
    static func usage(_ summary: [String]) -> JSONValue? {
        events(summary).last { $0["choices"]?.arrayValue?.isEmpty == true }?["usage"]
    }
}

/// Parses JSON text in tests.
func json(_ text: String) -> JSONValue {
    (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
}

/// Decodes a native request body built by an adapter.
func body(_ request: UpstreamRequest) -> JSONValue {
    guard let b = request.body else { return .null }
    return (try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: b))) ?? .null
}

func testEndpoint(_ kind: ProviderKind) -> ProviderEndpoint {
    ProviderEndpoint(
        id: ProviderID(rawValue: kind.rawValue), kind: kind, baseURL: UpstreamBaseURL(tls: false, host: "up", port: 1))
}

func target(_ kind: ProviderKind, _ model: String, upstream: String? = nil) -> ModelRouter.Target {
    .init(endpoint: testEndpoint(kind), requestedModel: model, upstreamModel: upstream ?? model)
}

let testClient = ClientContext(authorization: "Bearer client-key", requestID: "req-1")

/// The conversation of provider-formats.md: system, image, tool call, tool result, tools.
let richRequest = #"""
    {"model": "M", "messages": [
       {"role": "system", "content": "Be brief."},
       {"role": "developer", "content": "Use metric units."},
       {"role": "user", "content": [{"type": "text", "text": "What is in this image?"},
                                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}}]},
       {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
           "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
       {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\":21}"},
       {"role": "user", "content": "And tomorrow?"}],
     "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather now",
                "parameters": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                               "additionalProperties": false,
                               "properties": {"city": {"type": "string", "default": "Paris"},
                                              "unit": {"$ref": "#/$defs/unit"}},
                               "required": ["city"], "$defs": {"unit": {"type": ["string", "null"], "enum": ["C", "F"]}}}}}],
     "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
     "temperature": 1.4, "top_p": 0.9, "max_tokens": 100, "max_completion_tokens": 256,
     "stop": ["\n\n"], "seed": 7, "user": "u-42",
     "response_format": {"type": "json_schema", "json_schema": {"name": "x", "strict": true,
                         "schema": {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": false}}}}
    """#
