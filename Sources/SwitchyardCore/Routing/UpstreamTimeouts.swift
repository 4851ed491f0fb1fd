/// How long each phase of an upstream exchange may take, per provider. Each expiry before the
/// response head is a 504; after it (a stream under way) the client gets an SSE error event.
public struct UpstreamTimeouts: Sendable, Equatable {
    /// Establishing the TCP (and TLS) connection.
    public var connectSeconds: Double
    /// From sending the request to the response head. A non-streaming answer's head comes only
    /// when the whole answer is ready, so this defaults to the total.
    public var firstByteSeconds: Double
    /// The longest gap between two pieces of the body (stream chunks).
    public var idleSeconds: Double
    /// The whole exchange, body included.
    public var totalSeconds: Double

    /// Creates timeouts; first-byte and idle default to the total.
    public init(
        connectSeconds: Double = 10, firstByteSeconds: Double? = nil, idleSeconds: Double? = nil,
        totalSeconds: Double = 600
    ) {
        self.connectSeconds = connectSeconds
        self.firstByteSeconds = firstByteSeconds ?? totalSeconds
        self.idleSeconds = idleSeconds ?? totalSeconds
        self.totalSeconds = totalSeconds
    }

    /// These timeouts with none longer than `seconds` (short housekeeping calls such as model listings).
    public func capped(at seconds: Double) -> UpstreamTimeouts {
        UpstreamTimeouts(
            connectSeconds: min(connectSeconds, seconds), firstByteSeconds: min(firstByteSeconds, seconds),
            idleSeconds: min(idleSeconds, seconds), totalSeconds: min(totalSeconds, seconds))
    }
}
