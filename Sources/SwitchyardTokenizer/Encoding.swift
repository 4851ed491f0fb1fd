import Foundation
import SwitchyardEmbedded

/// The names of the encodings Switchyard ships.
public enum EncodingName: String, Sendable, CaseIterable {
    /// gpt-4, gpt-3.5-turbo, text-embedding-3-*, text-embedding-ada-002.
    case cl100kBase = "cl100k_base"
    /// gpt-4o, gpt-4.1, gpt-5, o1, o3, o4-mini, chatgpt-4o-latest.
    case o200kBase = "o200k_base"

    /// Its rank file, as the binary embeds it.
    var embeddedFile: SwitchyardEmbeddedFile {
        self == .cl100kBase ? SwitchyardEmbeddedCl100kBase : SwitchyardEmbeddedO200kBase
    }
}

/// One of OpenAI's byte-pair encodings, loaded from its rank file: encodes text to token ids
/// exactly as tiktoken's `encode_ordinary` does. Immutable and safe to share across tasks.
public final class Encoding: Sendable {
    /// Which encoding this is.
    public let name: EncodingName
    let table: RankTable
    let pretokenizer: Pretokenizer

    /// Loads an encoding from a `.tiktoken` rank file's contents.
    /// - Parameters:
    ///   - name: the encoding (selects the pre-tokenization pattern).
    ///   - rankFile: the file's bytes.
    public init(name: EncodingName, rankFile: Data) throws(TokenizerError) {
        self.name = name
        self.table = try RankTable(tiktokenFile: rankFile)
        self.pretokenizer = name == .cl100kBase ? .cl100k : .o200k
    }

    /// The shared instance of `name`, loaded from the bundled rank file on first use.
    public static func named(_ name: EncodingName) throws(TokenizerError) -> Encoding {
        switch name {
        case .cl100kBase: return try cl100k.get()
        case .o200kBase: return try o200k.get()
        }
    }

    private static let cl100k = Result { () throws(TokenizerError) in try load(.cl100kBase) }
    private static let o200k = Result { () throws(TokenizerError) in try load(.o200kBase) }

    /// The encoding from the rank file embedded in the binary (read in place, not copied; its
    /// pages are given back once the table is built, which keeps its own copy of the tokens).
    private static func load(_ name: EncodingName) throws(TokenizerError) -> Encoding {
        defer { switchyard_embedded_release(name.embeddedFile) }
        return try Encoding(name: name, rankFile: embeddedRankFile(name))
    }

    /// The bytes of `name`'s rank file embedded in the binary, in place.
    static func embeddedRankFile(_ name: EncodingName) throws(TokenizerError) -> Data {
        var size = 0
        guard let bytes = switchyard_embedded(name.embeddedFile, &size), size > 0 else {
            throw TokenizerError("the rank file \(name.rawValue).tiktoken is missing from the build")
        }
        return Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: bytes), count: size, deallocator: .none)
    }

    /// The token ids of `text`, with special-token strings encoded as ordinary text.
    public func encode(_ text: String) -> [UInt32] {
        var ids: [UInt32] = []
        ids.reserveCapacity(text.utf8.count / 3)
        forEachToken(text) { ids.append($0) }
        return ids
    }

    /// The number of tokens in `text`, without building the id array.
    public func count(_ text: String) -> Int {
        var n = 0
        forEachToken(text) { _ in n += 1 }
        return n
    }

    /// The text of `ids` (invalid UTF-8 from partial tokens is replaced).
    public func decode(_ ids: [UInt32]) -> String {
        var bytes: [UInt8] = []
        for id in ids where Int(id) < table.count { bytes += table.bytes(of: id) }
        return String(decoding: bytes, as: UTF8.self)
    }

    @inline(__always)
    private func forEachToken(_ text: String, _ emit: (UInt32) -> Void) {
        var text = text
        text.withUTF8 { utf8 in
            guard let base = utf8.baseAddress, !utf8.isEmpty else { return }
            let t = UTF8Text(p: utf8)
            var merger = BytePairEncoder()
            var i = 0
            while i < utf8.count {
                let end = pretokenizer.pieceEnd(t, from: i)
                // Most pieces are one token: looked up whole here, in the loop; the rest merged.
                let length = end - i
                let whole = table.rank(base + i, length)
                if whole != RankTable.none {
                    emit(whole)
                } else {
                    merger.merge(base + i, length, table: table, emit: emit)
                }
                i = end
            }
        }
    }
}
