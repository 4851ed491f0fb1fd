/// A model-name pattern with `*` wildcards (`gpt-*`, `*-preview`, `o1*`), matched against the
/// whole name, case-sensitively.
public struct ModelPattern: Sendable, Equatable, CustomStringConvertible {
    /// The pattern as written.
    public let text: String
    private let parts: [Substring]

    /// Compiles a pattern.
    public init(_ text: String) {
        self.text = text
        self.parts = text.split(separator: "*", omittingEmptySubsequences: false)
    }

    /// Whether `name` matches the whole pattern.
    public func matches(_ name: String) -> Bool {
        guard parts.count > 1 else { return name == text }
        var rest = Substring(name)
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for middle in parts.dropFirst().dropLast() where !middle.isEmpty {
            guard let found = rest.firstRange(of: middle) else { return false }
            rest = rest[found.upperBound...]
        }
        let last = parts[parts.count - 1]
        return rest.count >= last.count && rest.hasSuffix(last)
    }

    /// The pattern as written.
    public var description: String { text }
}
