import Testing

@testable import SwitchyardCore

@Suite("Byte patterns: the sixteen-window search agrees with a plain scan")
struct BytePatternTests {
    /// The first offset of `pattern` in `text` at or after `from`, by trying every offset.
    static func plain(_ pattern: [UInt8], in text: [UInt8], from: Int) -> Int? {
        guard max(0, from) <= text.count - pattern.count else { return nil }
        return (max(0, from)...(text.count - pattern.count)).first { Array(text[$0..<($0 + pattern.count)]) == pattern }
    }

    @Test("Keys in SSE events, at the start, at the end, repeated, overlapping and absent")
    func examples() {
        let usage = BytePattern(#""usage""#)
        let cases: [(String, Int, Int?)] = [
            (#"{"usage":{"prompt_tokens":1}}"#, 0, 1),
            (#"x"usage""#, 0, 1),
            (#""usage""#, 0, 0),
            (#""usag""#, 0, nil),
            (#"\"usage\" "usage""#, 0, 10),
            (#""usage""usage""#, 1, 7),
            ("", 0, nil),
        ]
        for (text, from, expected) in cases {
            let bytes = Array(text.utf8)
            #expect(bytes.withUnsafeBufferPointer { usage.firstOffset(in: $0, from: from) } == expected, "\(text)")
        }
        let aaab = BytePattern("aab")
        #expect(Array("aaaab".utf8).withUnsafeBufferPointer { aaab.firstOffset(in: $0, from: 0) } == 2)
    }

    @Test("Random texts over a small alphabet, patterns of 1 to 9 bytes, every start")
    func random() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
        let alphabet = Array(#"ab"\n"#.utf8)
        for _ in 0..<2_000 {
            var text = (0..<next(120)).map { _ in alphabet[next(alphabet.count)] }
            let pattern = (0..<(1 + next(9))).map { _ in alphabet[next(alphabet.count)] }
            // Half the texts hold the pattern somewhere, so long patterns are found too.
            if next(2) == 0 { text.insert(contentsOf: pattern, at: next(text.count + 1)) }
            let search = BytePattern(String(decoding: pattern, as: UTF8.self))
            for from in 0...text.count {
                let found = text.withUnsafeBufferPointer { search.firstOffset(in: $0, from: from) }
                #expect(found == Self.plain(pattern, in: text, from: from), "\(text) \(pattern) \(from)")
            }
        }
    }
}
