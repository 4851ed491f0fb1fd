/// A JSON object: its members in the order they were read or added, each name once. A member of
/// a small object is found by comparing names one by one, which for the few members of a
/// request's or an answer's objects is cheaper than hashing every name on insert and look-up as a
/// dictionary does; an object with more than `scanLimit` members keeps an index of its names, so
/// no operation grows with the square of its size.
public struct JSONObject: Sendable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    /// A member: its name and its value.
    public typealias Element = (key: String, value: JSONValue)

    /// A name given twice, at `offset` among the members.
    struct RepeatedKey: Error {
        let offset: Int
        let key: String
    }

    /// A member as the object stores it: a struct rather than a tuple, so freeing an object frees
    /// its members through the struct's own code instead of the runtime's walk of a tuple's layout.
    struct Member {
        var key: String
        var value: JSONValue
    }

    /// The members, each name once.
    private(set) var members: [Member]
    /// The position of each name, for objects of more than `scanLimit` members (nil for others).
    private var positions: [String: Int]?

    /// Objects with more members than this are indexed; smaller ones are scanned.
    static let scanLimit = 16

    /// An empty object.
    public init() { members = [] }

    /// An empty object with room for `minimumCapacity` members.
    public init(minimumCapacity: Int) {
        members = []
        members.reserveCapacity(minimumCapacity)
    }

    /// An object of `members`, whose names the caller knows are distinct.
    init(distinct members: [Member]) {
        self.members = members
        if members.count > Self.scanLimit { positions = Self.index(members) }
    }

    /// An object of `members`; throws at the first name given twice.
    init(checking members: [Member]) throws(RepeatedKey) {
        self.members = members
        if members.count > Self.scanLimit {
            var positions = [String: Int](minimumCapacity: members.count)
            for (offset, member) in members.enumerated() where positions.updateValue(offset, forKey: member.key) != nil
            {
                throw RepeatedKey(offset: offset, key: member.key)
            }
            self.positions = positions
        } else {
            for (offset, member) in members.enumerated()
            where members[..<offset].contains(where: { $0.key == member.key }) {
                throw RepeatedKey(offset: offset, key: member.key)
            }
        }
    }

    /// The position of each of `members`' names.
    private static func index(_ members: [Member]) -> [String: Int] {
        var positions = [String: Int](minimumCapacity: members.count)
        for (offset, member) in members.enumerated() { positions[member.key] = offset }
        return positions
    }

    /// An object of `pairs`; a repeated name keeps its last value, in its first place.
    public init(_ pairs: some Sequence<(String, JSONValue)>) {
        members = []
        members.reserveCapacity(pairs.underestimatedCount)
        for (key, value) in pairs { put(value, forKey: key) }
    }

    /// An object from a literal; a repeated name keeps its last value.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self.init(elements)
    }

    /// The position of the first member.
    public var startIndex: Int { members.startIndex }
    /// The position after the last member.
    public var endIndex: Int { members.endIndex }
    /// The member at `position`.
    public subscript(position: Int) -> Element { (members[position].key, members[position].value) }

    /// The position of the member named `key`, or nil.
    public func index(forKey key: String) -> Int? {
        if let positions { return positions[key] }
        // Lengths first: most names differ in length, and comparing two strings of which one is
        // not stored inline takes the standard library's slower path.
        let length = key.utf8.count
        return members.firstIndex { $0.key.utf8.count == length && $0.key == key }
    }

    /// The value of the member named `key` (nil when there is none); setting nil removes it, setting
    /// a value replaces it in place or adds it at the end.
    public subscript(key: String) -> JSONValue? {
        get { index(forKey: key).map { members[$0].value } }
        set {
            if let newValue { put(newValue, forKey: key) } else { removeValue(forKey: key) }
        }
    }

    /// The value of the member named `key`, or `defaultValue`; set as the subscript above.
    public subscript(key: String, default defaultValue: @autoclosure () -> JSONValue) -> JSONValue {
        get { self[key] ?? defaultValue() }
        set { put(newValue, forKey: key) }
    }

    /// The members' names, in order.
    public var keys: [String] { members.map(\.key) }

    /// The members' values, in order.
    public var values: [JSONValue] { members.map(\.value) }

    /// Sets the member named `key` to `value` (in place, or at the end); returns the value replaced.
    @discardableResult
    public mutating func updateValue(_ value: JSONValue, forKey key: String) -> JSONValue? {
        if let index = index(forKey: key) {
            defer { members[index].value = value }
            return members[index].value
        }
        append(key, value)
        return nil
    }

    /// Sets the member named `key` to `value` (in place, or at the end).
    private mutating func put(_ value: JSONValue, forKey key: String) {
        if let index = index(forKey: key) {
            members[index].value = value
        } else {
            append(key, value)
        }
    }

    /// Adds a member whose name the object does not have yet.
    private mutating func append(_ key: String, _ value: JSONValue) {
        members.append(Member(key: key, value: value))
        if positions != nil {
            positions?[key] = members.count - 1
        } else if members.count > Self.scanLimit {
            positions = Self.index(members)
        }
    }

    /// Removes the member named `key`; returns its value.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSONValue? {
        guard let index = index(forKey: key) else { return nil }
        defer { positions = members.count > Self.scanLimit ? Self.index(members) : nil }
        return members.remove(at: index).value
    }

    /// The object with every value transformed, names and order kept.
    public func mapValues(_ transform: (JSONValue) throws -> JSONValue) rethrows -> JSONObject {
        JSONObject(distinct: try members.map { Member(key: $0.key, value: try transform($0.value)) })
    }

    /// The object with the members `isIncluded` accepts, in order.
    public func filter(_ isIncluded: (Element) throws -> Bool) rethrows -> JSONObject {
        JSONObject(distinct: try members.filter { try isIncluded(($0.key, $0.value)) })
    }

    /// Adds `other`'s members; for a name in both, `combine` of the two values decides.
    public mutating func merge(
        _ other: JSONObject, uniquingKeysWith combine: (JSONValue, JSONValue) throws -> JSONValue
    ) rethrows {
        for (key, value) in other {
            if let index = index(forKey: key) {
                members[index].value = try combine(members[index].value, value)
            } else {
                append(key, value)
            }
        }
    }

    /// The object with `other`'s members added; for a name in both, `combine` of the two values
    /// decides.
    public func merging(
        _ other: JSONObject, uniquingKeysWith combine: (JSONValue, JSONValue) throws -> JSONValue
    ) rethrows -> JSONObject {
        var merged = self
        try merged.merge(other, uniquingKeysWith: combine)
        return merged
    }
}

extension JSONObject: Equatable, Hashable {
    /// Objects are equal when they have the same names with equal values, in any order.
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.count == b.count && a.members.allSatisfy { b[$0.key] == $0.value }
    }

    /// Hashes the members in an order-independent way, as equality ignores order.
    public func hash(into hasher: inout Hasher) {
        var combined = 0
        for member in members {
            var one = Hasher()
            one.combine(member.key)
            one.combine(member.value)
            combined ^= one.finalize()
        }
        hasher.combine(members.count)
        hasher.combine(combined)
    }
}
