import Foundation
import NIOCore
import Testing

@testable import SwitchyardCore

@Suite("Chat requests read from the parsed tree by hand")
struct ChatCompletionRequestReadingTests {
    /// Requests whose members have every type the reader must take or leave to the decoder.
    static let variants: [String] = {
        let base = richRequest
        let replacements: [(String, [String])] = [
            (#""temperature": 1.4"#, [#""temperature": 1"#, #""temperature": "1""#, #""temperature": null"#]),
            (#""max_tokens": 100"#, [#""max_tokens": 1.5"#, #""max_tokens": -1"#]),
            (#""stop": ["\n\n"]"#, [#""stop": "x""#, #""stop": [1]"#, #""stop": {}"#, #""stop": null"#]),
            (
                #""tool_choice": {"type": "function", "function": {"name": "get_weather"}}"#,
                [#""tool_choice": "auto""#, #""tool_choice": {"function": {}}"#, #""tool_choice": 3"#]
            ),
            (#""role": "developer""#, [#""role": "critic""#, #""role": 1"#, #""name": "x""#]),
            (#""content": "Be brief.""#, [#""content": 5"#, #""content": [{"text": "no type"}]"#, #""content": {}"#]),
            (#""tool_call_id": "call_1""#, [#""tool_call_id": 1"#, #""tool_call_id": null"#]),
            (#""arguments": "{\"city\":\"Paris\"}""#, [#""arguments": {}"#, #""args": "{}""#]),
            (#""url": "data:image/png;base64,iVBOR""#, [#""uri": "x""#, #""url": "x", "detail": 2"#]),
            (#""type": "json_schema", "json_schema""#, [#""type": "json_schema", "json_schema": null, "x""#]),
            (#""model": "M""#, [#""model": 1"#, #""modal": "M""#]),
            (#""seed": 7"#, [#""seed": 7.0"#, #""seed": true"#]),
            (#""description": "Weather now""#, [#""description": ["x"]"#]),
        ]
        var variants = [base, #"{"model":"m","messages":[]}"#, #"{"messages":[]}"#, "[]"]
        for (original, alternatives) in replacements {
            precondition(base.contains(original), original)
            for alternative in alternatives {
                variants.append(base.replacingOccurrences(of: original, with: alternative))
            }
        }
        return variants + DecoderFuzzTests.requestSeeds
    }()

    @Test("What the reader reads equals what JSONDecoder decodes; it leaves the rest to the decoder")
    func asDecoded() throws {
        var generator = SplitMix64(seed: 5)
        let seeds = Self.variants.map { Array($0.utf8) }
        var (read, decoded) = (0, 0)
        for round in 0..<(seeds.count + 20_000) {
            let bytes =
                round < seeds.count ? seeds[round] : DecoderFuzzTests.mutate(seeds[round % seeds.count], &generator)
            guard let (tree, irregular) = try? JSONParser.parseNotingIrregularities(bytes), !irregular else {
                continue
            }
            let reference = try? JSONDecoder().decode(ChatCompletionRequest.self, from: Data(bytes))
            if reference != nil { decoded += 1 }
            guard let ours = try? ChatCompletionRequest(tree: tree) else { continue }
            read += 1
            #expect(ours == reference, "\(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(read > 1_000 && read == decoded, "read \(read) of \(decoded)")
    }

    @Test("An integer past 2^53, which the tree cannot hold exactly, is left to the decoder, which reads it")
    func largeIntegers() throws {
        let text = richRequest.replacingOccurrences(of: #""max_tokens": 100"#, with: #""max_tokens": 9007199254740993"#)
        let chat = try ChatRequestEnvelope.parse(Array(text.utf8))
        #expect((try? ChatCompletionRequest(tree: .object(chat.document!))) == nil)
        let request = try ChatCompletionRequest.decode(chat, body: ByteBuffer(string: text))
        #expect(request.maxTokens == 9_007_199_254_740_993)
    }
}
