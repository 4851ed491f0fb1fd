import Foundation

/// Decodes `Decodable` values from JSON by walking the tree of `JSONParser`, with Foundation's
/// `JSONDecoder` as the authority whenever the walk cannot decide.
///
/// The translating adapters decode every client request and every provider answer (each stream
/// event too) into Codable types, and `JSONDecoder`'s generic machinery is costly on that path
/// (measurements in `bench/RESULTS.md`). The walk refuses whatever it cannot decode exactly as
/// `JSONDecoder` would (integers beyond 2^53, which the tree holds as `Double`; lone surrogates,
/// which the parser reads as JavaScript does; any mismatch; bytes that are not JSON), and
/// `JSONDecoder` then decodes the same bytes, so its values and its errors (the 400 messages that
/// name a field) stay the answer. An object that repeats a member name is refused by the parser
/// and never reaches `JSONDecoder`, which would read the name's first value.
public enum JSONTreeDecoder {
    /// Decodes `T` from JSON `bytes`; the error, when there is one, is `JSONDecoder`'s, or the
    /// parser's `JSONParser.Failure` for a repeated member name.
    public static func decode<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        do {
            return try walk(type, from: bytes)
        } catch let failure as JSONParser.Failure where failure.repeatedKey != nil {
            throw failure
        } catch {
            return try JSONDecoder().decode(type, from: bytes as? Data ?? Data(bytes))
        }
    }

    /// Decodes `T` from `tree`, the document `bytes` were already parsed into, or from the bytes
    /// when the walk cannot decide (as `decode(_:from:)`), so a body is parsed once.
    public static func decode<T: Decodable>(
        _ type: T.Type, tree: JSONValue?, orBytes bytes: some Collection<UInt8>
    ) throws -> T {
        guard let tree else { return try decode(type, from: bytes) }
        // A parsed tree repeats no name: where the walk cannot decide, JSONDecoder does.
        if let decoded = try? read(type, from: tree) { return decoded }
        return try JSONDecoder().decode(type, from: bytes as? Data ?? Data(bytes))
    }

    /// Decodes `T` by the walk alone (for tests that compare it with `JSONDecoder`).
    static func walk<T: Decodable>(_ type: T.Type, from bytes: some Collection<UInt8>) throws -> T {
        let (value, irregular) = try JSONParser.parseNotingIrregularities(bytes)
        guard !irregular else {
            throw DecodingError.dataCorrupted(.init(codingPath: [], debugDescription: "irregular"))
        }
        return try read(type, from: value)
    }

    /// `tree` as a `T`: read by hand when `T` reads itself from the tree and takes this one, else
    /// walked through `Decodable`.
    static func read<T: Decodable>(_ type: T.Type, from tree: JSONValue) throws -> T {
        if let readable = type as? any TreeReadable.Type, let value = try? readable.init(tree: tree) as? T {
            return value
        }
        return try TreeDecoder(value: tree).decode(type)
    }
}

/// A decoder over one value of the tree; also its single-value container. Coding paths stay empty:
/// they only serve error messages, and the walk's errors are never shown.
struct TreeDecoder: Decoder, SingleValueDecodingContainer {
    let value: JSONValue
    var codingPath: [any CodingKey] { [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch(JSONObject.self) }
        return KeyedDecodingContainer(KeyedTree(members: members))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let elements) = value else { throw mismatch([JSONValue].self) }
        return UnkeyedTree(elements: elements)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool {
        if case .null = value { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let bool) = value else { throw mismatch(type) }
        return bool
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let string) = value else { throw mismatch(type) }
        return string
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard case .number(let number) = value else { throw mismatch(type) }
        return number
    }

    /// Refused: a `Float` rounded from the tree's `Double` may differ from one parsed from the text.
    func decode(_ type: Float.Type) throws -> Float { throw mismatch(type) }
    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    /// A `JSONValue` is the tree itself. Cast with `as!`, not `as?`: an optional `T` here would
    /// make this unspecialised function look up `Optional<T>`'s metadata on every call.
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        return try T(from: self)
    }

    /// A whole number the tree holds exactly (below 2^53 in magnitude) that fits `T`.
    private func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard let exact = value.exactInteger(type) else { throw mismatch(type) }
        return exact
    }

    /// The error of a value that is not what `type` needs (never shown: `JSONDecoder` decides then).
    func mismatch(_ type: Any.Type) -> DecodingError {
        .typeMismatch(type, .init(codingPath: [], debugDescription: "not decodable from the tree"))
    }
}

/// The members of an object, by key.
struct KeyedTree<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: JSONObject
    var codingPath: [any CodingKey] { [] }

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    /// The decoder of the member at `key`.
    private func member(_ key: Key) throws -> TreeDecoder {
        guard let value = members[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: [], debugDescription: "no such key"))
        }
        return TreeDecoder(value: value)
    }

    /// The decoder of the member at `key`, nil when it is missing or null: one lookup where the
    /// protocol's default `decodeIfPresent` makes three.
    private func present(_ key: Key) -> TreeDecoder? {
        switch members[key.stringValue] {
        case nil, .null?: nil
        case let value?: TreeDecoder(value: value)
        }
    }

    func decodeNil(forKey key: Key) throws -> Bool { try member(key).decodeNil() }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try member(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try member(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try member(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try member(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try member(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try member(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try member(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try member(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try member(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try member(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try member(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try member(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try member(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try member(key).decode(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try member(key).decode(type) }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try present(key)?.decode(type) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try present(key)?.decode(type)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type, forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try member(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try member(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { TreeDecoder(value: members["super"] ?? .null) }

    func superDecoder(forKey key: Key) throws -> any Decoder { TreeDecoder(value: members[key.stringValue] ?? .null) }
}

/// The elements of an array, in order.
struct UnkeyedTree: UnkeyedDecodingContainer {
    let elements: [JSONValue]
    var codingPath: [any CodingKey] { [] }
    private(set) var currentIndex = 0

    init(elements: [JSONValue]) { self.elements = elements }

    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    /// The decoder of the next element; the index moves on only when it decodes.
    private mutating func next<T>(_ decode: (TreeDecoder) throws -> T) throws -> T {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(T.self, .init(codingPath: [], debugDescription: "no more elements"))
        }
        let decoded = try decode(TreeDecoder(value: elements[currentIndex]))
        currentIndex += 1
        return decoded
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .null = elements[currentIndex] else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next { try $0.decode(type) } }
    mutating func decode(_ type: String.Type) throws -> String { try next { try $0.decode(type) } }
    mutating func decode(_ type: Double.Type) throws -> Double { try next { try $0.decode(type) } }
    mutating func decode(_ type: Float.Type) throws -> Float { try next { try $0.decode(type) } }
    mutating func decode(_ type: Int.Type) throws -> Int { try next { try $0.decode(type) } }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next { try $0.decode(type) } }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next { try $0.decode(type) } }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next { try $0.decode(type) } }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next { try $0.decode(type) } }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next { try $0.decode(type) } }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next { try $0.decode(type) } }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next { try $0.decode(type) } }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next { try $0.decode(type) } }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next { try $0.decode(type) } }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next { try $0.decode(type) } }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try next { try $0.container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try next { try $0.unkeyedContainer() }
    }

    mutating func superDecoder() throws -> any Decoder { try next { $0 } }
}
