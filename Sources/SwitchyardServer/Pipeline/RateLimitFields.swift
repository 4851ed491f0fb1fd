import HTTPTypes
import SwitchyardCore

/// The rate-limit headers' field names, validated once at start rather than on every answer.
enum RateLimitFields {
    /// `header` with its field name.
    static func field(_ header: RateLimitHeader) -> (name: HTTPField.Name, value: String) {
        let names =
            switch header.kind {
            case .tokens: tokens
            case .requests: requests
            case .usd: usd
            }
        let name =
            switch header.figure {
            case .limit: names.limit
            case .remaining: names.remaining
            case .reset: names.reset
            }
        return (name, header.value)
    }

    private static let tokens = names(.tokens)
    private static let requests = names(.requests)
    private static let usd = names(.usd)

    /// The three header names of a budget of `kind`.
    private static func names(
        _ kind: RateLimitCheck.Kind
    ) -> (limit: HTTPField.Name, remaining: HTTPField.Name, reset: HTTPField.Name) {
        func name(_ figure: RateLimitHeader.Figure) -> HTTPField.Name {
            guard let name = HTTPField.Name(RateLimitHeader.name(kind, figure)) else {
                preconditionFailure("a rate-limit header name is an HTTP token")
            }
            return name
        }
        return (name(.limit), name(.remaining), name(.reset))
    }
}
