/// A configuration problem found at start-up: one line that says what is wrong and where.
public struct ConfigError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The message, e.g. `PROXY_PORT: "abc" is not a port number (1-65535)`.
    public var message: String
    /// Creates an error.
    public init(_ message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}
