import Foundation
import Testing

@testable import SwitchyardCore

@Suite("JSON writer")
struct JSONWriterTests {
    static let foundation: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    @Test(
        "Writes byte for byte what Foundation's sorted encoder writes, on 3,000 random values and edge cases whose members are in order"
    )
    func matchesFoundation() throws {
        var generator = SplitMix64(seed: 11)
        for _ in 0..<3000 {
            let value = JSONParserTests.randomValue(&generator)
            let ours = JSONWriter.text(value)
            let theirs = String(decoding: try Self.foundation.encode(value), as: UTF8.self)
            #expect(ours == theirs)
            #expect(try JSONParser.parse(Array(ours.utf8)) == value, "it reads back as the same value")
        }
        let edges: JSONValue = [
            "B": "\u{08}\u{0C}\u{7F}", "Z": .null, "_": .bool(true), "a": [],
            "numbers": .array(
                [1e15, 1e16, 1.5e300, -2.25e-7, 1.2345678901234568e17, .leastNonzeroMagnitude].map(JSONValue.number)),
            "é": [:],
        ]
        #expect(JSONWriter.text(edges) == String(decoding: try Self.foundation.encode(edges), as: UTF8.self))
    }

    @Test("Members are written in their object's order, as read or as added")
    func memberOrder() throws {
        let text = #"{"model":"m","b":1,"a":{"z":[{"y":true,"x":null}],"c":"d"}}"#
        var value = try JSONParser.parse(Array(text.utf8))
        #expect(JSONWriter.text(value) == text)
        guard case .object(var object) = value else { return }
        object["0"] = "last"
        value = .object(object)
        #expect(JSONWriter.text(value) == String(text.dropLast()) + #","0":"last"}"#)
    }

    @Test(
        "Numbers: whole ones as integers, fractions shortest, non-finite as null",
        arguments: [
            (9.0, "9"), (-0.0, "0"), (1.5, "1.5"), (0.1, "0.1"), (-2.25e-7, "-2.25e-07"), (1e15, "1000000000000000"),
            (1e16, "1e+16"), (2e15 + 0.5, "2000000000000000.5"), (123456789012345.0, "123456789012345"),
            (.infinity, "null"), (.nan, "null"),
        ])
    func numbers(value: Double, text: String) {
        #expect(JSONWriter.text(.number(value)) == text)
    }

    @Test("Strings escape quotes, backslashes and control characters, and nothing else")
    func strings() {
        #expect(
            JSONWriter.text(.string("a\"b\\c/d\n\r\t\u{08}\u{0C}\u{01}\u{1F}é😀"))
                == #""a\"b\\c/d\n\r\t\b\f\u0001\u001fé😀""#)
        #expect(JSONString.quoted("x\u{0}y") == #""x\u0000y""#)
        // Escapes first, last, back to back, and none: the plain runs between them are copied whole.
        let cases = [
            ("", #""""#), ("\"", #""\"""#), ("\n\n", #""\n\n""#), ("\\ab\u{1F}", #""\\ab\u001f""#),
            ("plain text", #""plain text""#),
        ]
        for (string, written) in cases { #expect(JSONString.quoted(string) == written, "\(string)") }
    }
}
