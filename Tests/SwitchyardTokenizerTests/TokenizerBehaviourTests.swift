import Foundation
import Testing

@testable import SwitchyardTokenizer

@Suite("Tokenizer behaviour")
struct TokenizerBehaviourTests {
    @Test(
        "Models map to their encodings; unknown models use o200k_base",
        arguments: [
            ("gpt-4o", EncodingName.o200kBase), ("gpt-4o-mini", .o200kBase), ("gpt-4.1", .o200kBase),
            ("gpt-5", .o200kBase),
            ("o1", .o200kBase), ("o3-mini", .o200kBase), ("o4-mini", .o200kBase), ("chatgpt-4o-latest", .o200kBase),
            ("gpt-4", .cl100kBase), ("gpt-4-turbo", .cl100kBase), ("gpt-4-0613", .cl100kBase),
            ("gpt-3.5-turbo", .cl100kBase), ("gpt-3.5-turbo-0125", .cl100kBase),
            ("text-embedding-3-small", .cl100kBase),
            ("text-embedding-ada-002", .cl100kBase), ("openai/gpt-4", .cl100kBase), ("gpt-4/", .cl100kBase),
            ("a/gpt-4o/x", .o200kBase),
            ("llama3.2", .o200kBase),
            ("claude-3-5-sonnet", .o200kBase), ("gemini-2.0-flash", .o200kBase),
        ])
    func modelMapping(model: String, expected: EncodingName) {
        #expect(ModelEncoding.encoding(forModel: model) == expected)
    }

    @Test("ASCII bytes get the same classes from their ranges as from the Unicode tables")
    func asciiClasses() {
        for value in 0..<128 {
            let byte = UInt8(value)
            #expect(ScalarClass.ofASCII(byte) == ScalarClass.classify(Unicode.Scalar(byte)), "byte \(value)")
        }
    }

    @Test("The ASCII fast path splits text into the same pieces as the general scanners")
    func asciiFastPath() {
        let alphabet: [String] = [
            "a", "z", "A", "Z", "q", "Q", "0", "9", "5", " ", " ", "'", "s", "t", "\n", ".", ",", "-",
            "é", "É", "ſ", "\u{0301}", "٣", "中", "ǅ",
        ]
        var generator = SplitMix(seed: 7)
        for _ in 0..<3_000 {
            let text = (0..<Int(generator.next() % 24)).map { _ in alphabet[Int(generator.next() % 25)] }.joined()
            for pretokenizer in [Pretokenizer.cl100k, .o200k] {
                var bytes = text
                bytes.withUTF8 { utf8 in
                    let t = UTF8Text(p: utf8)
                    var (fast, general) = ([Int](), [Int]())
                    var i = 0
                    while i < t.count {
                        i = pretokenizer.pieceEnd(t, from: i)
                        fast.append(i)
                    }
                    i = 0
                    while i < t.count {
                        i = pretokenizer == .cl100k ? Pretokenizer.cl100kEnd(t, i) : Pretokenizer.o200kEnd(t, i)
                        general.append(i)
                    }
                    #expect(fast == general, "\(pretokenizer) \(text.debugDescription)")
                }
            }
        }
    }

    @Test("Long pieces take the heap merge and give the same tokens as the quadratic merge")
    func longPieces() throws {
        var generator = SplitMix(seed: 42)
        for name in EncodingName.allCases {
            let encoding = try Encoding.named(name)
            for _ in 0..<40 {
                let length = 128 + Int(generator.next() % 600)
                let letters = Array("abcdefghijklmnopqrstuvwxyzéü")
                let word = String((0..<length).map { _ in letters[Int(generator.next() % UInt64(letters.count))] })
                let bytes = Array(word.utf8)
                var heap: [UInt32] = []
                var quadratic: [UInt32] = []
                bytes.withUnsafeBufferPointer { p in
                    LongPieceMerger.encode(p.baseAddress!, p.count, table: encoding.table) { heap.append($0) }
                    var merger = QuadraticReference()
                    merger.encode(p.baseAddress!, p.count, table: encoding.table) { quadratic.append($0) }
                }
                #expect(heap == quadratic)
                #expect(encoding.decode(heap) == word)
            }
        }
    }

    @Test("A huge single piece is encoded in reasonable time and round-trips")
    func hugePiece() throws {
        let encoding = try Encoding.named(.o200kBase)
        let text = String(repeating: "abcdefghij", count: 20_000)  // one 200 kB letter run
        let started = ContinuousClock.now
        let ids = encoding.encode(text)
        #expect(ContinuousClock.now - started < .seconds(20))
        #expect(encoding.decode(ids) == text)
    }

    @Test("Special-token strings are ordinary text")
    func specialTokensAreText() throws {
        let encoding = try Encoding.named(.cl100kBase)
        let ids = encoding.encode("<|endoftext|>")
        #expect(!ids.contains(100257))
        #expect(ids.count > 1)
    }

    @Test("Text decoded from invalid UTF-8 counts like the replacement characters it became")
    func invalidUTF8() throws {
        let encoding = try Encoding.named(.cl100kBase)
        let text = String(decoding: [0xFF, 0xFE, 0x61, 0x62, 0x63, 0xC3], as: UTF8.self)
        #expect(text == "\u{FFFD}\u{FFFD}abc\u{FFFD}")
        #expect(encoding.count(text) == encoding.encode("\u{FFFD}\u{FFFD}abc\u{FFFD}").count)
    }

    @Test("A rank file that is not in tiktoken format is rejected, not trusted")
    func badRankFile() {
        #expect(throws: TokenizerError.self) {
            try Encoding(name: .cl100kBase, rankFile: Data("not base64!! x\n".utf8))
        }
        #expect(throws: TokenizerError.self) { try Encoding(name: .cl100kBase, rankFile: Data("QQ== 0\n".utf8)) }
        let bytes = Self.byteLines(from: 0)
        #expect(throws: TokenizerError.self) {
            try Encoding(name: .cl100kBase, rankFile: Data((bytes + "QUI= 5\nQkM= 5\n").utf8))
        }
        #expect(throws: TokenizerError.self) {
            try Encoding(name: .cl100kBase, rankFile: Data((bytes + "QUI= 99999999999\n").utf8))
        }
        #expect(throws: TokenizerError.self) { try Encoding(name: .cl100kBase, rankFile: Data("QQ==\n".utf8)) }
    }

    @Test("A rank file's lines may come in any order, with gaps between ranks and CRLF line ends")
    func rankFileInAnyOrder() throws {
        // "AB" (QUI=) merges first, then "ABC" (QUJD); every byte comes after them, last line first.
        let lines = ("QUJD 3\r\nQUI= 1\r\n" + Self.byteLines(from: 10)).split(separator: "\n").reversed()
        let encoding = try Encoding(name: .cl100kBase, rankFile: Data(lines.joined(separator: "\n").utf8))
        #expect(encoding.encode("ABC") == [3])
        #expect(encoding.encode("ABD") == [1, 10 + 0x44])
        #expect(encoding.decode([3, 1, 10 + 0x44]) == "ABCABD")
    }

    @Test("A rank file's pages given back after loading read back the same")
    func releasedRankFile() throws {
        let shared = try Encoding.named(.o200kBase)
        let again = try Encoding(name: .o200kBase, rankFile: Encoding.embeddedRankFile(.o200kBase))
        let text = "Pages given back are read again from the binary: ünïcode, 你好, 🎉, 12345."
        #expect(again.encode(text) == shared.encode(text))
        #expect(again.table.count == shared.table.count)
        let sample = stride(from: UInt32(0), to: UInt32(again.table.count), by: 97)
        #expect(sample.allSatisfy { again.table.bytes(of: $0) == shared.table.bytes(of: $0) })
    }

    @Test("Up to eight bytes pack into one integer, the first byte lowest, and no byte after them")
    func packedBytes() {
        let bytes: [UInt8] = (1...9).map { UInt8($0 * 17) }
        for count in 0...8 {
            let expected = bytes.prefix(count).enumerated().reduce(UInt64(0)) {
                $0 | UInt64($1.element) << UInt64(8 * $1.offset)
            }
            #expect(bytes.withUnsafeBytes { RankTable.packed($0.baseAddress!, count) } == expected, "\(count) bytes")
        }
    }

    @Test("Every token's bytes find its rank, the short ones compared as integers, the long by memcmp")
    func everyTokenFound() throws {
        for name in EncodingName.allCases {
            let table = try Encoding.named(name).table
            var missed = 0
            for rank in 0..<UInt32(table.count) {
                let bytes = Array(table.bytes(of: rank))
                guard !bytes.isEmpty else { continue }
                if bytes.withUnsafeBufferPointer({ table.rank($0.baseAddress!, $0.count) }) != rank { missed += 1 }
                // The same bytes with their last one changed are another token or none.
                var changed = bytes
                changed[changed.count - 1] ^= 0x80
                let other = changed.withUnsafeBufferPointer { table.rank($0.baseAddress!, $0.count) }
                if other != RankTable.none, Array(table.bytes(of: other)) != changed { missed += 1 }
            }
            #expect(missed == 0, "\(name.rawValue)")
        }
    }

    /// A rank file's lines for the 256 single bytes, byte `b` at rank `first + b`.
    static func byteLines(from first: Int) -> String {
        (0..<256).map { "\(Data([UInt8($0)]).base64EncodedString()) \(first + $0)\n" }.joined()
    }
}

/// tiktoken's original quadratic merge, kept here as the reference the heap merge must equal.
struct QuadraticReference {
    mutating func encode(_ piece: UnsafePointer<UInt8>, _ length: Int, table: RankTable, emit: (UInt32) -> Void) {
        var parts: [(start: Int, rank: UInt32)] = (0..<(length - 1)).map { ($0, table.rank(piece + $0, 2)) }
        parts.append((length - 1, RankTable.none))
        parts.append((length, RankTable.none))
        func rank(_ i: Int) -> UInt32 {
            i + 3 < parts.count
                ? table.rank(piece + parts[i].start, parts[i + 3].start - parts[i].start) : RankTable.none
        }
        while true {
            var best = (rank: RankTable.none, index: 0)
            for i in 0..<(parts.count - 1) where parts[i].rank < best.rank { best = (parts[i].rank, i) }
            if best.rank == RankTable.none { break }
            let i = best.index
            parts[i].rank = rank(i)
            if i > 0 { parts[i - 1].rank = rank(i - 1) }
            parts.remove(at: i + 1)
        }
        for i in 0..<(parts.count - 1) { emit(table.rank(piece + parts[i].start, parts[i + 1].start - parts[i].start)) }
    }
}

/// A small deterministic random generator for reproducible inputs.
struct SplitMix {
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
