import NIOCore

/// Rewrites one top-level string field of a JSON object in place, byte for byte, leaving every
/// other byte of the body untouched.
///
/// Passthrough requests only need the `model` renamed (`openai/gpt-4o` -> `gpt-4o`); decoding and
/// re-encoding the whole body would cost time and could change numbers or key order.
public enum TopLevelFieldRewriter {
    /// Returns `body` with the top-level string field `key` set to `value`, or nil when the body is
    /// not an object or the field is absent or not a string.
    public static func replacingString(_ key: String, with value: String, in body: [UInt8]) -> [UInt8]? {
        guard let range = valueRange(ofTopLevelKey: key, in: body) else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(body.count + value.utf8.count)
        out.append(contentsOf: body[..<range.lowerBound])
        out.append(contentsOf: JSONString.quoted(value).utf8)
        out.append(contentsOf: body[range.upperBound...])
        return out
    }

    /// Returns `body` with top-level `key` set to the raw JSON `json`: its value replaced when
    /// present, otherwise the member added first. Nil when the body is not a JSON object.
    public static func settingValue(_ key: String, toJSON json: String, in body: [UInt8]) -> [UInt8]? {
        if let range = valueRange(ofTopLevelKey: key, in: body, stringsOnly: false) {
            return Array(body[..<range.lowerBound]) + Array(json.utf8) + Array(body[range.upperBound...])
        }
        let open = skipSpace(body, 0)
        guard open < body.count, body[open] == UInt8(ascii: "{") else { return nil }
        let rest = skipSpace(body, open + 1)
        let separator = rest < body.count && body[rest] == UInt8(ascii: "}") ? "" : ","
        let member = Array((JSONString.quoted(key) + ":" + json + separator).utf8)
        return Array(body[...open]) + member + Array(body[(open + 1)...])
    }

    /// The byte range (quotes included) of the string value of top-level `key`.
    static func valueRange(ofTopLevelKey key: String, in b: [UInt8], stringsOnly: Bool = true) -> Range<Int>? {
        var i = skipSpace(b, 0)
        guard i < b.count, b[i] == UInt8(ascii: "{") else { return nil }
        i += 1
        let wanted = Array(key.utf8)
        while true {
            i = skipSpace(b, i)
            guard i < b.count else { return nil }
            if b[i] == UInt8(ascii: "}") { return nil }
            if b[i] == UInt8(ascii: ",") {
                i += 1
                continue
            }
            guard b[i] == UInt8(ascii: "\""), let keyEnd = stringEnd(b, i) else { return nil }
            let isWanted = b[(i + 1)..<(keyEnd - 1)].elementsEqual(wanted)
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

    static func skipSpace(_ b: [UInt8], _ start: Int) -> Int {
        var i = start
        while i < b.count, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 }
        return i
    }

    /// Index just past the closing quote of the string starting at `start`.
    static func stringEnd(_ b: [UInt8], _ start: Int) -> Int? {
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
    static func valueEnd(_ b: [UInt8], _ start: Int) -> Int? {
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
    public static func body(_ body: ByteBuffer, document: [String: JSONValue], model: String) -> ByteBuffer {
        if let renamed = replacingString("model", with: model, in: Array(body.readableBytesView)) {
            return ByteBuffer(bytes: renamed)
        }
        var document = document
        document["model"] = .string(model)
        return ByteBuffer(bytes: JSONWriter.bytes(.object(document)))
    }
}
