/// A model-name pattern with `*` wildcards (`gpt-*`, `*-preview`, `o1*`), matched against the
/// whole name, case-sensitively and byte for byte (UTF-8), as providers compare model names.
public struct ModelPattern: Sendable, Equatable, CustomStringConvertible {
    /// The pattern as written.
    public let text: String
    /// The pattern's UTF-8, matched in place: one buffer, so matching a request's model against
    /// the tables borrows it instead of copying the parts of each pattern it passes.
    private let bytes: [UInt8]

    /// Compiles a pattern.
    public init(_ text: String) {
        self.text = text
        self.bytes = Array(text.utf8)
    }

    /// Whether `name` matches the whole pattern.
    public func matches(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { matches($0) }
    }

    /// Whether the UTF-8 `name` matches the whole pattern: a `*` takes any run of bytes, the
    /// shortest first, and a mismatch after it retries with one byte more.
    func matches(_ name: UnsafeBufferPointer<UInt8>) -> Bool {
        bytes.withUnsafeBufferPointer { pattern in
            let star = UInt8(ascii: "*")
            var (p, n) = (0, 0)
            var resume: (pattern: Int, name: Int)?
            while n < name.count {
                if p < pattern.count, pattern[p] == star {
                    p += 1
                    resume = (p, n)
                } else if p < pattern.count, pattern[p] == name[n] {
                    p += 1
                    n += 1
                } else if let last = resume {
                    (p, n) = (last.pattern, last.name + 1)
                    resume = (p, n)
                } else {
                    return false
                }
            }
            while p < pattern.count, pattern[p] == star { p += 1 }
            return p == pattern.count
        }
    }

    /// The pattern as written.
    public var description: String { text }
}

extension [ModelPattern] {
    /// Whether any of the patterns matches `name`, read once and the patterns borrowed in place.
    public func anyMatches(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { utf8 in withUnsafeBufferPointer { $0.contains { $0.matches(utf8) } } }
    }
}
