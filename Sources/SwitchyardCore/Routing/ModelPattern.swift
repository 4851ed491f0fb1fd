/// A model-name pattern with `*` wildcards (`gpt-*`, `*-preview`, `o1*`), matched against the
/// whole name, case-sensitively and byte for byte (UTF-8), as providers compare model names.
public struct ModelPattern: Sendable, Equatable, CustomStringConvertible {
    /// The pattern as written.
    public let text: String
    /// The UTF-8 of the parts between the wildcards.
    private let parts: [[UInt8]]

    /// Compiles a pattern.
    public init(_ text: String) {
        self.text = text
        self.parts = text.utf8.split(separator: UInt8(ascii: "*"), omittingEmptySubsequences: false).map(Array.init)
    }

    /// Whether `name` matches the whole pattern.
    public func matches(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { matches($0) }
    }

    private func matches(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        guard parts.count > 1 else { return name.elementsEqual(parts[0]) }
        let first = parts[0]
        let last = parts[parts.count - 1]
        guard name.count >= first.count + last.count, starts(name, at: 0, with: first) else { return false }
        var position = first.count
        let end = name.count - last.count
        for middle in parts.dropFirst().dropLast() where !middle.isEmpty {
            guard let found = find(middle, in: name, from: position, before: end) else { return false }
            position = found + middle.count
        }
        return starts(name, at: end, with: last)
    }

    /// Whether `name` holds `part` at `offset`.
    private func starts(_ name: UnsafeBufferPointer<UInt8>, at offset: Int, with part: [UInt8]) -> Bool {
        guard offset + part.count <= name.count else { return false }
        for index in part.indices where name[offset + index] != part[index] { return false }
        return true
    }

    /// The first offset in `position..<end` where `part` lies wholly before `end`.
    private func find(_ part: [UInt8], in name: UnsafeBufferPointer<UInt8>, from position: Int, before end: Int) -> Int?
    {
        var offset = position
        while offset + part.count <= end {
            if starts(name, at: offset, with: part) { return offset }
            offset += 1
        }
        return nil
    }

    /// The pattern as written.
    public var description: String { text }
}
