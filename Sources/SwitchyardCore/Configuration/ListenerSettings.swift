/// How the client-facing listener accepts connections: optional TLS, and bounds on what one
/// client can make the gateway hold.
public struct ListenerSettings: Sendable, Equatable {
    /// PEM certificate chain and private key for TLS on the listener; nil serves plain HTTP.
    public var tls: TLSFiles?
    /// Largest request line (method and target), in bytes; longer gets 414.
    public var maxRequestLineBytes: Int = 8 * 1024
    /// Largest total of header names and values, in bytes; more gets 431.
    public var maxHeaderBytes: Int = 32 * 1024
    /// Most header fields in one request; more gets 431.
    public var maxHeaderCount: Int = 100
    /// Most concurrent connections from one client address (0: unlimited); more are answered 429
    /// and closed.
    public var maxConnectionsPerAddress: Int = 1024
    /// A connection that sends nothing (between requests, or mid-request) for this long is closed.
    public var idleTimeoutSeconds: Double = 60
    /// How much of an oversized body is read and thrown away so that the client still receives
    /// the 413 (as nginx's lingering close does); past it the connection is closed.
    public var maxDiscardBytes: Int = 64 << 20

    /// Creates settings with the defaults.
    public init() {}

    /// The two PEM files TLS needs.
    public struct TLSFiles: Sendable, Equatable {
        /// Certificate chain, PEM.
        public var certificateFile: String
        /// Private key, PEM.
        public var privateKeyFile: String

        /// Creates the pair.
        public init(certificateFile: String, privateKeyFile: String) {
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
        }
    }
}
