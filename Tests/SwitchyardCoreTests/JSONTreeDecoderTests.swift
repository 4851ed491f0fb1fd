import Foundation
import NIOCore
import Testing

@testable import SwitchyardCore

@Suite("Decoding through the parser's tree, with JSONDecoder as the authority")
struct JSONTreeDecoderTests {
    /// Requests that use every part of `ChatCompletionRequest`, including its hand-written decoders.
    static let requests = [
        #"{"model":"gemini-2.0-flash","messages":[{"role":"user","content":"Hi"}]}"#,
        #"{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"Be terse."},{"role":"user","content":[{"type":"text","text":"What is this?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo=","detail":"low"}}]}],"temperature":0.7,"top_p":1,"max_tokens":100.0,"max_completion_tokens":1e3,"n":1,"seed":42,"stop":["\n\n","END"],"presence_penalty":-0.5,"frequency_penalty":0.25,"user":"u-1"}"#,
        #"{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]},{"role":"tool","tool_call_id":"call_1","content":"{\"temp\":21}"}],"tools":[{"type":"function","function":{"name":"get_weather","description":"Weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}}],"tool_choice":{"type":"function","function":{"name":"get_weather"}}}"#,
        #"{"model":"m","messages":[{"role":"user","content":"é中😀 \u00e9\ud83d\ude00 \"q\" \\ \/"}],"tool_choice":"auto","stop":"STOP","response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{"type":"object","properties":{"a":{"type":"integer","minimum":-1.5e-3}}}}}}"#,
        #"{"model":"m","messages":[],"seed":-9007199254740991,"n":0,"temperature":null,"unknown":{"deep":[1,[2,[3,{"x":null}]]]}}"#,
    ]

    /// Requests the walk must leave to `JSONDecoder`.
    static let refused = [
        #"{"model":"m","seed":9007199254740993,"messages":[]}"#,
        #"{"model":"first","model":"second","messages":[]}"#,
        #"{"model":"m","messages":[{"role":"user","content":"\ud800"}]}"#,
        #"{"model":"m","messages":[{"role":"user","content":"Hi"}],"max_tokens":"100"}"#,
        #"{"model":"m","messages":[{"role":"user","content":"Hi"}],"n":1.5}"#,
        #"{"model":"m"}"#,
        #"["model"]"#,
    ]

    @Test("Typical requests decode through the walk, to the values JSONDecoder gives")
    func walkTaken() throws {
        for text in Self.requests {
            let walked = try JSONTreeDecoder.walk(ChatCompletionRequest.self, from: Array(text.utf8))
            #expect(walked == (try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(text.utf8))), "\(text)")
        }
    }

    @Test("What the walk refuses, JSONDecoder decides (exact big integers, the same errors); a repeated key is a 400")
    func refusedThenDecided() throws {
        for text in Self.refused {
            #expect(throws: (any Error).self, "\(text)") {
                try JSONTreeDecoder.walk(ChatCompletionRequest.self, from: Array(text.utf8))
            }
        }
        #expect(try ChatCompletionRequest.decode(Data(Self.refused[0].utf8)).seed == 9_007_199_254_740_993)
        #expect(
            throws: GatewayError.invalidRequest(
                "The request body repeats the member `model` in one object; each name may appear only once.",
                param: "model")
        ) { try ChatCompletionRequest.decode(Data(Self.refused[1].utf8)) }
        // JSONDecoder's own errors, field by field: a lone surrogate fails `content` as a string, then as parts.
        let errors: [(Int, String, String?)] = [
            (2, "Invalid type for `messages[0].content`: expected an array.", "messages[0].content"),
            (3, "Invalid type for `max_tokens`: expected a number.", "max_tokens"),
            (5, "Missing required parameter: `messages`.", "messages"),
            (6, "The request body must be a JSON object.", nil),
        ]
        for (index, message, param) in errors {
            #expect(throws: GatewayError.invalidRequest(message, param: param)) {
                try ChatCompletionRequest.decode(Data(Self.refused[index].utf8))
            }
        }
    }

    @Test(
        "Adapters decode the tree parsed at the edge to what decoding the bytes gives; a lone surrogate keeps no tree")
    func parsedOnce() throws {
        let bigSeed = #"{"model":"m","seed":9007199254740993,"messages":[{"role":"user","content":"x"}]}"#
        for text in Self.requests + [bigSeed] where text.contains("\"messages\":[{") {
            let envelope = try ChatRequestEnvelope.parse(Array(text.utf8))
            #expect(envelope.document != nil)
            let fromTree = try ChatCompletionRequest.decode(envelope, body: ByteBuffer(string: text))
            #expect(fromTree == (try ChatCompletionRequest.decode(Data(text.utf8))), "\(text)")
        }
        #expect(
            try ChatCompletionRequest.decode(
                ChatRequestEnvelope.parse(Array(bigSeed.utf8)), body: ByteBuffer(string: bigSeed)
            ).seed == 9_007_199_254_740_993)
        let surrogate = try ChatRequestEnvelope.parse(Array(Self.refused[2].utf8))
        #expect(surrogate.document == nil)
    }

    @Test("On 20,000 mutated requests the walk never decodes what JSONDecoder refuses, nor differently")
    func mutatedRequests() throws {
        var generator = SplitMix64(seed: 11)
        let seeds = (Self.requests + Self.refused).map { Array($0.utf8) }
        var walked = 0
        for round in 0..<20_000 {
            let document = DecoderFuzzTests.mutate(seeds[round % seeds.count], &generator)
            guard let ours = try? JSONTreeDecoder.walk(ChatCompletionRequest.self, from: document) else { continue }
            walked += 1
            let foundations = try? JSONDecoder().decode(ChatCompletionRequest.self, from: Data(document))
            #expect(ours == foundations, "\(String(decoding: document, as: UTF8.self))")
        }
        #expect(walked > 1_000, "the walk should decode many of the mutants, not fall back on all of them")
    }

    /// Every integer width, `Float`, nested collections and raw values.
    struct Widths: Decodable, Equatable {
        var i8: Int8?
        var u8: UInt8?
        var i16: Int16?
        var u32: UInt32?
        var i64: Int64?
        var u: UInt?
        var f: Float?
        var table: [String: [Double]]?
        var raw: JSONValue?
        var list: [Int]?
    }

    @Test(
        "Integer widths, nested collections and raw values decode as JSONDecoder decodes them; Float is left to it",
        arguments: [
            (#"{"i8":-128,"u8":255,"i16":32767,"u32":4294967295,"i64":-9007199254740991,"u":0}"#, true),
            (#"{"table":{"a":[1,2.5,-3e-2],"b":[]},"raw":{"k":[null,true,"s",1.25]},"list":[1,2.0,3e0]}"#, true),
            (#"{"i8":128}"#, false), (#"{"u8":-1}"#, false), (#"{"i64":9223372036854775807}"#, false),
            (#"{"f":0.1}"#, false), (#"{"list":[1,null]}"#, false), (#"{"table":{"a":1}}"#, false),
        ])
    func widths(text: String, walks: Bool) throws {
        let walked = try? JSONTreeDecoder.walk(Widths.self, from: Array(text.utf8))
        #expect((walked != nil) == walks)
        let decoded = try? JSONTreeDecoder.decode(Widths.self, from: Array(text.utf8))
        let foundations = try? JSONDecoder().decode(Widths.self, from: Data(text.utf8))
        #expect(decoded == foundations)
        if let walked { #expect(walked == foundations) }
    }
}
