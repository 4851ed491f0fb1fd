/// A parsed value that a tree reader does not take as `Decodable` would (a member of another
/// type, a number that is not a whole one where one is wanted): the reader's caller then decodes
/// the bytes with `JSONDecoder`, whose value or error stays the answer.
struct TreeMismatch: Error {}

/// A `Decodable` type that also reads itself from the parsed tree by hand, which the tree decoder
/// tries first: `Decodable` through the tree costs a keyed container (and its generic metadata) per
/// object. The reader takes only what `Decodable` would take exactly; for anything else it throws
/// `TreeMismatch`, and the walk (then `JSONDecoder`) decides.
protocol TreeReadable: Decodable {
    init(tree: JSONValue) throws(TreeMismatch)
}

extension JSONObject {
    /// The member `key` as `decodeIfPresent` reads it: nil when it is missing or null, else what
    /// `read` makes of it; a value `read` cannot take (nil) is a mismatch.
    func present<T>(_ key: String, _ read: (JSONValue) throws(TreeMismatch) -> T?) throws(TreeMismatch) -> T? {
        guard let value = self[key] else { return nil }
        if case .null = value { return nil }
        guard let read = try read(value) else { throw TreeMismatch() }
        return read
    }

    /// The member `key` as `decode` reads it: present and not null, else a mismatch.
    func required<T>(_ key: String, _ read: (JSONValue) throws(TreeMismatch) -> T?) throws(TreeMismatch) -> T {
        guard let value = try present(key, read) else { throw TreeMismatch() }
        return value
    }
}

extension JSONValue {
    /// The object, or a mismatch.
    func object() throws(TreeMismatch) -> JSONObject {
        guard case .object(let object) = self else { throw TreeMismatch() }
        return object
    }

    /// The array's elements each read by `read`, or nil when this is not an array.
    func elements<T>(_ read: (JSONValue) throws(TreeMismatch) -> T) throws(TreeMismatch) -> [T]? {
        guard case .array(let elements) = self else { return nil }
        var out: [T] = []
        out.reserveCapacity(elements.count)
        for element in elements { out.append(try read(element)) }
        return out
    }

    /// `string(text)` for a string, else what `other` makes of the value; a value `other` cannot
    /// take (nil) is a mismatch. For members that are a string or something richer.
    func stringOr<T>(
        _ string: (String) -> T, _ other: (JSONValue) throws(TreeMismatch) -> T?
    ) throws(TreeMismatch) -> T {
        if case .string(let text) = self { return string(text) }
        guard let value = try other(self) else { throw TreeMismatch() }
        return value
    }

    /// A whole number the tree holds exactly (below 2^53 in magnitude) that fits `T`, as the tree
    /// decoder reads integers; nil otherwise.
    func exactInteger<T: FixedWidthInteger>(_ type: T.Type = Int.self) -> T? {
        guard case .number(let number) = self, number.magnitude < 0x1p53 else { return nil }
        return T(exactly: number)
    }
}
