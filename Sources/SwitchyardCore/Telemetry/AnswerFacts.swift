/// What a trace records of an answer, read from the bytes the client receives (a whole answer, or
/// a stream's events as they pass) in whichever client API it is: the answer's id, the model that
/// answered, and why it finished (`finish_reason` in Chat Completions, `stop_reason` in Messages,
/// the response's `status` in Responses). A byte scan, no parse: it runs only for sampled requests,
/// and JSON strings cannot hide the keys it looks for (their quotes would be escaped).
public struct AnswerFacts: Sendable, Equatable {
    /// The answer's id (`chatcmpl-…`, `msg_…`, `resp_…`): the first `"id"` seen.
    public private(set) var id: String?
    /// The model named by the answer: the first `"model"` seen.
    public private(set) var model: String?
    /// The finish reasons, in order, each once.
    public private(set) var finishReasons: [String] = []
    /// The last response `status` seen (Responses answers end with the response's own).
    private var status: String?

    /// Facts of nothing yet.
    public init() {}

    /// Reads `bytes` (a whole answer, or some whole events of a stream).
    public mutating func observe(_ bytes: some Collection<UInt8>) {
        let bytes = Array(bytes)
        if id == nil { id = Self.value(of: Self.idKey, in: bytes).first }
        if model == nil { model = Self.value(of: Self.modelKey, in: bytes).first }
        for reason in Self.value(of: Self.finishKey, in: bytes) + Self.value(of: Self.stopKey, in: bytes)
        where !finishReasons.contains(reason) {
            finishReasons.append(reason)
        }
        if let last = Self.value(of: Self.statusKey, in: bytes).last { status = last }
    }

    /// The finish reasons, or the Responses status when the answer gave no other.
    public var reasons: [String] { finishReasons.isEmpty ? status.map { [$0] } ?? [] : finishReasons }

    private static let idKey = Array(#""id""#.utf8)
    private static let modelKey = Array(#""model""#.utf8)
    private static let finishKey = Array(#""finish_reason""#.utf8)
    private static let stopKey = Array(#""stop_reason""#.utf8)
    private static let statusKey = Array(#""status""#.utf8)

    /// The string values of every member named by `key` (its name in quotes) in `bytes`, with
    /// any whitespace around the colon; values longer than 200 bytes or with escapes are left out.
    static func value(of key: [UInt8], in bytes: [UInt8]) -> [String] {
        var values: [String] = []
        var index = 0
        while index + key.count < bytes.count {
            guard bytes[index] == key[0], bytes[index..<(index + key.count)].elementsEqual(key) else {
                index += 1
                continue
            }
            var cursor = index + key.count
            func skipSpaces() {
                while cursor < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[cursor]) { cursor += 1 }
            }
            skipSpaces()
            guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: ":") else {
                index = cursor
                continue
            }
            cursor += 1
            skipSpaces()
            guard cursor < bytes.count, bytes[cursor] == UInt8(ascii: "\"") else {
                index = cursor
                continue
            }
            let start = cursor + 1
            var end = start
            while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"),
                end - start <= 200
            {
                end += 1
            }
            if end < bytes.count, bytes[end] == UInt8(ascii: "\""), end - start <= 200 {
                values.append(String(decoding: bytes[start..<end], as: UTF8.self))
            }
            index = max(end, index + 1)
        }
        return values
    }
}
