import NIOCore

/// Rewrites one top-level field of a JSON object in place, byte for byte, leaving every other byte
/// of the body untouched.
///
/// Passthrough requests only need the `model` renamed (`openai/gpt-4o` -> `gpt-4o`) or a stream's
/// `stream_options` set; decoding and re-encoding the whole body would cost time and could change
/// numbers or key order.
public enum TopLevelFieldRewriter {
    /// Returns `body` with the top-level string field `key` set to `value`, or nil when the body is
    /// not an object or the field is absent or not a string.
    public static func replacingString(_ key: String, with value: String, in body: ByteBuffer) -> ByteBuffer? {
        let range = body.withUnsafeReadableBytes { raw in
            valueRange(ofTopLevelKey: key, in: raw.bindMemory(to: UInt8.self), stringsOnly: true)
        }
        return range.map { replacing($0, in: body, with: JSONString.quoted(value)) }
    }

    /// Returns `body` with top-level `key` set to the raw JSON `json`: its value replaced when
    /// present, otherwise the member added first. Nil when the body is not a JSON object. A caller
    /// that parsed the body and found no such member says so (`absent`), and the body is not
    /// searched for it.
    public static func settingValue(
        _ key: String, toJSON json: String, in body: ByteBuffer, absent: Bool = false
    ) -> ByteBuffer? {
        let edit = body.withUnsafeReadableBytes { raw -> (range: Range<Int>, separator: String?)? in
            let b = raw.bindMemory(to: UInt8.self)
            if !absent, let range = valueRange(ofTopLevelKey: key, in: b, stringsOnly: false) { return (range, nil) }
            let open = skipSpace(b, 0)
            guard open < b.count, b[open] == UInt8(ascii: "{") else { return nil }
            let rest = skipSpace(b, open + 1)
            return ((open + 1)..<(open + 1), rest < b.count && b[rest] == UInt8(ascii: "}") ? "" : ",")
        }
        guard let edit else { return nil }
        guard let separator = edit.separator else { return replacing(edit.range, in: body, with: json) }
        return replacing(edit.range, in: body, with: JSONString.quoted(key), ":", json, separator)
    }

    /// `body` with the bytes at `range` of its readable bytes replaced by `texts`, written one
    /// after the other; the bytes around them are copied once.
    private static func replacing(_ range: Range<Int>, in body: ByteBuffer, with texts: String...) -> ByteBuffer {
        var out = ByteBuffer()
        out.reserveCapacity(body.readableBytes - range.count + texts.reduce(0) { $0 + $1.utf8.count })
        body.withUnsafeReadableBytes { raw in
            out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[..<range.lowerBound]))
            for text in texts { out.writeString(text) }
            out.writeBytes(UnsafeRawBufferPointer(rebasing: raw[range.upperBound...]))
        }
        return out
    }

    /// The byte range of the value of top-level `key` (a string's quotes included); with
    /// `stringsOnly`, nil unless that value is a string.
    static func valueRange(
        ofTopLevelKey key: String, in b: UnsafeBufferPointer<UInt8>, stringsOnly: Bool
    ) -> Range<Int>? {
        var i = skipSpace(b, 0)
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        var key = key
        return key.withUTF8 { wanted -> Range<Int>? in
            while true {
                i = skipSpace(b, i)
                guard i < b.count else { return nil }
                if b[i] == UInt8(ascii: "}") { return nil }
                if b[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard b[i] == UInt8(ascii: "\""), let keyEnd = stringEnd(b, i) else { return nil }
                let isWanted = UnsafeBufferPointer(rebasing: b[(i + 1)..<(keyEnd - 1)]).elementsEqual(wanted)
                i = skipSpace(b, keyEnd)
                guard i < b.count, b[i] == UInt8(ascii: ":") else { return nil }
                i = skipSpace(b, i + 1)
                guard i < b.count else { return nil }
                if isWanted {
                    if stringsOnly {
                        guard b[i] == UInt8(ascii: "\""), let end = stringEnd(b, i) else { return nil }
                        return i..<end
                    }
                    guard let end = valueEnd(b, i) else { return nil }
                    return i..<end
                }
                guard let next = valueEnd(b, i) else { return nil }
                i = next
            }
        }
    }

    static func skipSpace(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int {
        var i = start
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        return i
    }

    /// Index just past the closing quote of the string starting at `start`.
    static func stringEnd(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        var i = start + 1
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "\\"): i += 2
            case UInt8(ascii: "\""): return i + 1
            default: i += 1
            }
        }
        return nil
    }

    /// Index just past the JSON value starting at `start`.
    static func valueEnd(_ b: UnsafeBufferPointer<UInt8>, _ start: Int) -> Int? {
        var i = start
        var depth = 0
        while i < b.count {
            switch b[i] {
            case UInt8(ascii: "\""):
                guard let end = stringEnd(b, i) else { return nil }
                i = end
                if depth == 0 { return i }
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == 0 { return i }
                depth -= 1
                if depth == 0 { return i + 1 }
            case UInt8(ascii: ","):
                if depth == 0 { return i }
            default:
                break
            }
            i += 1
        }
        return depth == 0 ? i : nil
    }
}

/// JSON string quoting, shared by everything that writes JSON by hand.
public enum JSONString {
    /// `s` as a JSON string literal, quotes included.
    public static func quoted(_ s: String) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count + 2)
        JSONWriter.writeString(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

extension TopLevelFieldRewriter {
    /// A passed-through request body with its `model` set to `model`: the bytes as the client
    /// sent them with only that string replaced, or `document` written again when the bytes cannot
    /// be rewritten in place.
    public static func body(_ body: ByteBuffer, document: JSONObject, model: String) -> ByteBuffer {
        if let renamed = replacingString("model", with: model, in: body) { return renamed }
        var document = document
        document["model"] = .string(model)
        return ByteBuffer(bytes: JSONWriter.bytes(.object(document)))
    }
}
