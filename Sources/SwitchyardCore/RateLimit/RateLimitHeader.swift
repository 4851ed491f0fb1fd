/// One of an answer's rate-limit headers (`x-ratelimit-{limit,remaining,reset}-{tokens,requests,usd}`):
/// which kind of budget and which of its figures it reports, and the value. The kind and figure
/// let the server take a header name it validated once instead of validating it per answer.
public struct RateLimitHeader: Sendable, Equatable {
    /// Which of a budget's three figures a header reports.
    public enum Figure: String, Sendable, CaseIterable {
        /// The budget per window.
        case limit
        /// What is left of it.
        case remaining
        /// When everything spent so far has left the window.
        case reset
    }

    /// The kind of budget reported.
    public let kind: RateLimitCheck.Kind
    /// The figure reported.
    public let figure: Figure
    /// The header's value.
    public let value: String

    /// The header's name, lowercase.
    public var name: String { Self.name(kind, figure) }

    /// The name of the header reporting `figure` of a budget of `kind`, lowercase.
    public static func name(_ kind: RateLimitCheck.Kind, _ figure: Figure) -> String {
        "x-ratelimit-\(figure.rawValue)-\(kind.rawValue)"
    }
}
