import Foundation
import Testing

@testable import SwitchyardTokenizer

/// One row of `golden.jsonl`, made with tiktoken 0.14.0.
struct GoldenRow: Decodable, Sendable, CustomTestStringConvertible {
    let text: String
    let cl100k_base: [UInt32]
    let o200k_base: [UInt32]

    var testDescription: String { String(reflecting: String(text.prefix(40))) }

    static let all: [GoldenRow] = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent(
            "Fixtures/golden.jsonl")
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(GoldenRow.self, from: Data($0.utf8)) }
    }()
}

@Suite("Tokenizer against tiktoken's golden rows")
struct GoldenTests {
    @Test("All 448 golden rows are present")
    func rowsLoaded() {
        #expect(GoldenRow.all.count == 448)
    }

    @Test("cl100k_base ids match exactly", arguments: GoldenRow.all)
    func cl100k(row: GoldenRow) throws {
        let encoding = try Encoding.named(.cl100kBase)
        #expect(encoding.encode(row.text) == row.cl100k_base)
        #expect(encoding.count(row.text) == row.cl100k_base.count)
    }

    @Test("o200k_base ids match exactly", arguments: GoldenRow.all)
    func o200k(row: GoldenRow) throws {
        let encoding = try Encoding.named(.o200kBase)
        #expect(encoding.encode(row.text) == row.o200k_base)
        #expect(encoding.count(row.text) == row.o200k_base.count)
    }

    @Test("Decoding the ids gives the text back", arguments: [EncodingName.cl100kBase, .o200kBase])
    func roundTrip(name: EncodingName) throws {
        let encoding = try Encoding.named(name)
        for row in GoldenRow.all {
            #expect(encoding.decode(encoding.encode(row.text)) == row.text)
        }
    }
}
