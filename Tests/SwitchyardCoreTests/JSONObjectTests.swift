import Testing

@testable import SwitchyardCore

@Suite("JSON objects: members in order, each name once, scanned when small and indexed when large")
struct JSONObjectTests {
    /// An object of `count` members `k0`... in order, each holding its number.
    static func numbered(_ count: Int) -> JSONObject {
        var object = JSONObject()
        for i in 0..<count { object["k\(i)"] = .number(Double(i)) }
        return object
    }

    @Test(
        "Setting, replacing and removing members keeps their order and every look-up right",
        arguments: [3, JSONObject.scanLimit, JSONObject.scanLimit + 1, 200])
    func editing(count: Int) {
        var object = Self.numbered(count)
        #expect(object.keys == (0..<count).map { "k\($0)" })
        #expect((0..<count).allSatisfy { object["k\($0)"] == .number(Double($0)) })
        #expect(object["absent"] == nil)
        // Replaced in place, not moved to the end.
        #expect(object.updateValue("first", forKey: "k0") == .number(0))
        #expect(object.keys.first == "k0" && object["k0"] == "first" && object.count == count)
        // Removing one moves the later ones down; every name is still found where it now is.
        #expect(object.removeValue(forKey: "k1") == .number(1))
        #expect(object.count == count - 1 && object["k1"] == nil)
        #expect((2..<count).allSatisfy { object["k\($0)"] == .number(Double($0)) })
        #expect(object.index(forKey: "k2") == 1)
        object["added"] = .bool(true)
        #expect(object.keys.last == "added" && object["added"] == .bool(true))
        object["added"] = nil
        #expect(object["added"] == nil && object.count == count - 1)
    }

    @Test("A literal or a sequence of pairs keeps a repeated name's last value in its first place")
    func fromPairs() {
        let object = JSONObject([("a", 1), ("b", 2), ("a", 3)].map { ($0.0, JSONValue.number(Double($0.1))) })
        #expect(object.keys == ["a", "b"] && object["a"] == .number(3))
        let literal: JSONObject = ["x": "1", "y": "2"]
        #expect(literal.keys == ["x", "y"])
    }

    @Test("Objects with the same members in another order are equal and hash alike", arguments: [4, 40])
    func equality(count: Int) {
        let object = Self.numbered(count)
        let reversed = JSONObject(distinct: object.members.reversed())
        #expect(object == reversed && object.hashValue == reversed.hashValue)
        var changed = reversed
        changed["k0"] = "other"
        #expect(object != changed)
        var longer = object
        longer["extra"] = .null
        #expect(object != longer && longer != object)
    }

    @Test("A repeated name is found at its second place, among few members or many", arguments: [5, 60])
    func repeatedNames(count: Int) {
        var members = Self.numbered(count).members
        members.insert(.init(key: "k2", value: .null), at: count - 1)
        #expect(throws: JSONObject.RepeatedKey.self) { try JSONObject(checking: members) }
        do {
            _ = try JSONObject(checking: members)
        } catch {
            #expect(error.offset == count - 1 && error.key == "k2")
        }
        #expect((try? JSONObject(checking: Self.numbered(count).members)) == Self.numbered(count))
    }

    @Test("Merging adds the other object's members and lets the closure settle shared names")
    func merging() {
        let base: JSONObject = ["a": "1", "b": "2"]
        let merged = base.merging(["b": "3", "c": "4"]) { old, _ in old }
        #expect(merged.keys == ["a", "b", "c"] && merged["b"] == "2" && merged["c"] == "4")
        #expect(base.mapValues { _ in .null }.keys == ["a", "b"])
        #expect(base.filter { $0.key == "b" }.keys == ["b"])
    }
}
