import Foundation
import SwitchyardCore
import Testing

@Suite("JSON parser")
struct JSONParserTests {
    static func parse(_ text: String) throws -> JSONValue { try JSONParser.parse(Array(text.utf8)) }

    @Test(
        "Valid documents parse to the values they spell",
        arguments: [
            (
                #"{"a":[1,-2.5,3e2,true,false,null],"b":{"c":"d"}}"#,
                ["a": [.number(1), .number(-2.5), .number(300), .bool(true), .bool(false), .null], "b": ["c": "d"]]
            ),
            (" \n\t[ ]\r\n ", .array([])),
            (#"{}"#, .object([:])),
            (#""\"\\\/\b\f\n\r\t""#, .string("\"\\/\u{08}\u{0C}\n\r\t")),
            (#""\u00e9\u4e2d\ud83d\ude00 é""#, .string("é中😀 é")),
            (#""\ud800x""#, .string("\u{FFFD}x")),
            ("0", .number(0)),
            ("-0.0", .number(0)),
            ("123456789012345678", .number(123_456_789_012_345_680)),
            ("0e4", .number(0)),
            ("1E-999", .number(0)),
            ("1E-2", .number(0.01)),
        ] as [(String, JSONValue)])
    func valid(text: String, expected: JSONValue) throws {
        #expect(try Self.parse(text) == expected)
    }

    @Test(
        "Invalid documents are refused",
        arguments: [
            "", " ", "{", "}", "[1,]", "[,1]", #"{"a":1,}"#, #"{"a" 1}"#, "{a:1}", "'x'", "01", "1.", ".5", "+1",
            "1e", "-", "NaN", "Infinity", "1e999", "tru", "nul", "[1] 2", #""\x""#, #""\u12G4""#, "\"a\u{01}\"",
            "\"unterminated", "[\"a\"", #"{"a":}"#,
        ])
    func invalid(text: String) {
        #expect(throws: JSONParser.Failure.self) { try Self.parse(text) }
    }

    @Test(
        "An object that repeats a member name is refused, at any depth, naming the name",
        arguments: [
            (#"{"k":1,"k":2}"#, "k"),
            (#"{"model":"a","messages":[{"role":"user","content":"x","content":"y"}]}"#, "content"),
            (#"[{"a":{"b":1,"b":1}}]"#, "b"),
            // Past the members an object scans: its names are checked through an index.
            ("{" + (0..<40).map { "\"k\($0)\":\($0)," }.joined() + #""k7":0}"#, "k7"),
        ])
    func repeatedKey(text: String, key: String) {
        do {
            _ = try JSONParser.parse(Array(text.utf8))
            Issue.record("accepted \(text)")
        } catch {
            #expect(error.repeatedKey == key)
        }
    }

    @Test("Long strings, read sixteen bytes at a time: every piece at every offset, one fault or none")
    func longStrings() throws {
        // Pieces of a string's JSON text and what each decodes to; the faults make it invalid.
        let pieces: [([UInt8], String)] = [
            (Array("plain text ".utf8), "plain text "), (Array("é".utf8), "é"), (Array("中文".utf8), "中文"),
            (Array("😀".utf8), "😀"), (Array(#"\""#.utf8), "\""), (Array(#"\\"#.utf8), "\\"),
            (Array(#"\n"#.utf8), "\n"), (Array(#"\u00e9"#.utf8), "é"), (Array("x".utf8), "x"), ([0x7F], "\u{7F}"),
        ]
        let faults: [[UInt8]] = [[0x01], [0x1F], [0x0A], [0xFF], [0xC3], [0xE4, 0xB8], Array(#"\x"#.utf8)]
        var generator = SplitMix64(seed: 11)
        for round in 0..<4_000 {
            var text: [UInt8] = []
            var expected = ""
            var boundaries = [0]
            for _ in 0..<Int.random(in: 0...24, using: &generator) {
                let (bytes, value) = pieces.randomElement(using: &generator)!
                text += bytes
                expected += value
                boundaries.append(text.count)
            }
            // A fault goes between pieces: inside an escape it could make a valid one (`\` `\x` `n`).
            let fault = round % 3 == 0 ? faults.randomElement(using: &generator) : nil
            if let fault { text.insert(contentsOf: fault, at: boundaries.randomElement(using: &generator)!) }
            // The string alone, and as an object member after a key, so it starts at other offsets.
            for document in [[0x22] + text + [0x22], Array(#"{"key":"#.utf8) + [0x22] + text + [0x22, 0x7D]] {
                let parsed = try? JSONParser.parse(document)
                let value = parsed?.stringValue ?? parsed?.objectValue?["key"]?.stringValue
                #expect(
                    fault == nil ? value == expected : parsed == nil,
                    "\(String(decoding: document, as: UTF8.self).debugDescription)")
                if fault == nil ? value != expected : parsed != nil { return }
            }
        }
    }

    @Test("Invalid UTF-8 inside a string is refused, not repaired")
    func invalidUTF8() {
        for bytes: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC3, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22]] {
            #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(bytes) }
        }
    }

    @Test("Nesting deeper than the limit fails without exhausting the stack")
    func depth() throws {
        let limit = JSONParser.maximumDepth
        let deepest = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        #expect(try Self.parse(deepest) != .null)
        for count in [limit + 1, 100_000] {
            #expect(throws: JSONParser.Failure.self) { try Self.parse(String(repeating: "[", count: count)) }
            #expect(throws: JSONParser.Failure.self) {
                try Self.parse(String(repeating: #"{"a":"#, count: count) + "1" + String(repeating: "}", count: count))
            }
        }
    }

    @Test("One member of an object is read as the whole parse reads it; the rest is checked, not built")
    func member() throws {
        let text = #"{"id":"x","choices":[{"a":"é\n"}],"usage":{"total_tokens":11}}"#
        #expect(try JSONParser.member("usage", ofObject: Array(text.utf8)) == ["total_tokens": .number(11)])
        // The member read may not be repeated, nor repeat a name inside it.
        let twice = #"{"usage":{"prompt_tokens":9},"usage":{"total_tokens":11}}"#
        #expect(throws: JSONParser.Failure(offset: 29, repeatedKey: "usage")) {
            try JSONParser.member("usage", ofObject: Array(twice.utf8))
        }
        #expect(throws: JSONParser.Failure(offset: 22, repeatedKey: "a")) {
            try JSONParser.member("usage", ofObject: Array(#"{"x":1,"usage":{"a":1,"a":2}}"#.utf8))
        }
        #expect(try JSONParser.member("absent", ofObject: Array(#"{"a":[1,{"b":null}]}"#.utf8)) == nil)
        for invalid in [
            "[1]", #""usage""#, "1", #"{"usage":1,}"#, #"{"a":[1,]}"#, #"{"a":"\x"}"#, #"{"a":{"b" 1}}"#,
            #"{"a":1} 2"#, #"{"a":tru}"#, "{\"a\":\"\u{01}\"}", #"{"a":"unterminated}"#,
        ] {
            #expect(throws: JSONParser.Failure.self, "\(invalid)") {
                try JSONParser.member("usage", ofObject: Array(invalid.utf8))
            }
        }
        #expect(throws: JSONParser.Failure.self) {
            try JSONParser.member("a", ofObject: [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D])
        }
        // The object is the first level, as in the whole parse: 511 arrays inside it fit, 512 do not.
        func nested(_ count: Int) -> [UInt8] {
            Array((#"{"a":"# + String(repeating: "[", count: count) + String(repeating: "]", count: count) + "}").utf8)
        }
        let limit = JSONParser.maximumDepth
        #expect(try JSONParser.member("usage", ofObject: nested(limit - 1)) == nil)
        #expect(throws: JSONParser.Failure.self) { try JSONParser.member("usage", ofObject: nested(limit)) }
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(nested(limit)) }
    }

    /// `member` answers for `document` what the whole parse does: the same member, or a failure.
    /// So does it for `document` wrapped as a member of an object, read (`k1`) and stepped over
    /// (`k0`), so every document also goes through the skipping path. The one difference allowed:
    /// a name repeated inside a member that `member` steps over (it is not built, so not checked).
    static func expectMemberAgrees(_ document: [UInt8]) {
        let wrapped = Array(#"{"k1":"#.utf8) + document + Array(#","k0":true}"#.utf8)
        for (text, key) in [(document, "k0"), (wrapped, "k1"), (wrapped, "k0")] {
            let skimmed = Result { () throws(JSONParser.Failure) in try JSONParser.member(key, ofObject: text) }
            let whole = Result { () throws(JSONParser.Failure) in try JSONParser.parse(text) }
            let agrees =
                switch (whole, skimmed) {
                case (.success(.object(let members)), .success(let member)): member == members[key]
                case (.success(.object), .failure): false
                case (.failure(let failure), .success): failure.repeatedKey != nil
                case (_, .success): false
                case (_, .failure): true
                }
            if !agrees {
                Issue.record("member(\(key)) gave \(skimmed) for \(String(decoding: text, as: UTF8.self))")
            }
        }
    }

    /// A random JSON value of bounded size, reproducible from `generator`.
    static func randomValue(_ generator: inout some RandomNumberGenerator, depth: Int = 0) -> JSONValue {
        switch Int.random(in: 0..<(depth > 3 ? 4 : 6), using: &generator) {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2:
            return .number(
                Bool.random(using: &generator)
                    ? Double(Int.random(in: -1_000_000...1_000_000, using: &generator))
                    : Double.random(in: -1e6...1e6, using: &generator))
        case 3:
            let alphabet = Array("ab \"\\/\n\t\u{01}é中😀")
            return .string(
                String(
                    (0..<Int.random(in: 0...8, using: &generator)).map { _ in alphabet.randomElement(using: &generator)!
                    }))
        case 4:
            return .array(
                (0..<Int.random(in: 0...4, using: &generator)).map { _ in randomValue(&generator, depth: depth + 1) })
        default:
            return .object(
                JSONObject(
                    (0..<Int.random(in: 0...4, using: &generator)).map { i in
                        ("k\(i)", randomValue(&generator, depth: depth + 1))
                    }))
        }
    }

    @Test("Agrees with Foundation's decoder on 2,000 random documents")
    func differential() throws {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<2000 {
            let value = Self.randomValue(&generator)
            let data = try JSONEncoder().encode(value)
            let ours = try JSONParser.parse(Array(data))
            let foundations = try JSONDecoder().decode(JSONValue.self, from: data)
            #expect(ours == foundations)
            Self.expectMemberAgrees(Array(data))
        }
    }

    @Test(
        "100,000 mutated documents never crash it; what it reads round-trips; reading one member agrees")
    func mutations() throws {
        var generator = SplitMix64(seed: 7)
        let seeds = try (0..<50).map { _ in Array(try JSONEncoder().encode(Self.randomValue(&generator))) }
        let bytes: [UInt8] = Array(#"{}[]",:0123456789.eE+-tfnul\ "#.utf8) + [0x00, 0x80, 0xC3, 0xFF]
        var accepted = 0
        for round in 0..<100_000 {
            var document = seeds[round % seeds.count]
            for _ in 0...Int.random(in: 0...3, using: &generator) {
                let position = Int.random(in: 0...document.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0 where position < document.count: document.remove(at: position)
                case 1 where position < document.count: document[position] = bytes.randomElement(using: &generator)!
                default: document.insert(bytes.randomElement(using: &generator)!, at: position)
                }
            }
            Self.expectMemberAgrees(document)
            // Foundation is no oracle here: it accepts trailing commas and trailing NULs.
            guard let ours = try? JSONParser.parse(document) else { continue }
            accepted += 1
            #expect(try JSONParser.parse(Array(JSONEncoder().encode(ours))) == ours)
        }
        #expect(accepted > 1000, "the mutations should leave many documents valid")
    }
}

/// A small seeded generator, so random tests are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
