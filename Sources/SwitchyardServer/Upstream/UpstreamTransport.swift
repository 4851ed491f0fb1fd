import NIOCore
import NIOHTTP1
import SwitchyardCore

/// Sends adapter-built requests to providers. The one place upstream I/O happens, behind a
/// protocol so the client can change (or a test can substitute one) without touching adapters or pipeline.
public protocol UpstreamTransport: Sendable {
    /// Sends `request` and returns once the response head has arrived; the body streams after.
    /// - Throws: `TransportError` when the upstream cannot be reached or does not answer in time.
    func execute(_ request: UpstreamRequest) async throws(TransportError) -> UpstreamResponse

    /// Releases connections and threads; called once at shutdown.
    func shutdown() async throws
}

/// An upstream response whose body is still arriving.
public struct UpstreamResponse: Sendable {
    /// HTTP status code.
    public var status: Int
    /// Response headers, as the response decoder read them.
    public var headers: HTTPHeaders
    /// The body, chunk by chunk as it arrives; iterating applies backpressure to the upstream.
    public var body: any AsyncSequence<ByteBuffer, any Error> & Sendable

    /// Creates a response.
    public init(
        status: Int,
        headers: HTTPHeaders,
        body: any AsyncSequence<ByteBuffer, any Error> & Sendable
    ) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first(name: name)
    }

    /// Reads the whole body, up to `limit` bytes.
    /// - Throws: `TransportError` when reading fails, times out or exceeds `limit`.
    public func collect(limit: Int) async throws(TransportError) -> ByteBuffer {
        var out = ByteBuffer()
        var reader = BodyReader(body)
        do {
            while let chunk = try await reader.next() {
                guard out.readableBytes + chunk.readableBytes <= limit else {
                    throw TransportError(.protocolViolation, "the upstream answer exceeds \(limit) bytes")
                }
                out.writeImmutableBuffer(chunk)
            }
        } catch let error as TransportError {
            throw error
        } catch {
            throw TransportError.classify(error)
        }
        return out
    }
}

/// Why an upstream exchange failed, in the kinds the metrics and the client-facing status need.
public struct TransportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The failure kind.
    public enum Kind: String, Sendable {
        /// No connection could be made (refused, DNS, TLS handshake).
        case connect
        /// The deadline passed.
        case timeout
        /// The upstream broke the protocol or the connection mid-answer.
        case protocolViolation = "protocol"
        /// The exchange was cancelled (the client went away).
        case cancelled
    }

    /// The failure kind.
    public var kind: Kind
    /// A description that holds no secrets.
    public var message: String

    /// Creates an error.
    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// The kind and message.
    public var description: String { "\(kind.rawValue): \(message)" }

    /// Classifies an error thrown while streaming an upstream body.
    public static func classify(_ error: any Error) -> TransportError {
        if let e = error as? TransportError { return e }
        if error is CancellationError { return TransportError(.cancelled, "cancelled") }
        return TransportError(.protocolViolation, "\(error)")
    }

    /// The client-facing error for a failure talking to `provider`.
    public func gatewayError(provider: ProviderID) -> GatewayError {
        switch kind {
        case .timeout: return .gatewayTimeout("The upstream provider `\(provider)` did not answer in time.")
        case .connect: return .badGateway("The upstream provider `\(provider)` cannot be reached (\(message)).")
        case .protocolViolation, .cancelled:
            return .badGateway("The upstream provider `\(provider)` failed mid-answer (\(message)).")
        }
    }
}
