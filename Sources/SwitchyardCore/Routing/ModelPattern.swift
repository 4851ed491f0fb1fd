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
        guard name.count >= first.count + last.count, name.starts(with: first) else { return false }
        var position = first.count
        let end = name.count - last.count
        for middle in parts.dropFirst().dropLast() where !middle.isEmpty {
            guard let found = name[position..<end].firstRange(of: middle) else { return false }
            position = found.upperBound
        }
        return name[end...].elementsEqual(last)
    }

    /// The pattern as written.
    public var description: String { text }
}
