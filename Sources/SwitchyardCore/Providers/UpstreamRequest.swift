import Foundation
import NIOCore

/// An HTTP request for a provider, built by an adapter and executed by the transport.
public struct UpstreamRequest: Sendable {
    /// HTTP method, e.g. `POST`.
    public var method: String
    /// Absolute URL.
    public var url: String
    /// Headers to send (credentials included; never logged).
    public var headers: [(name: String, value: String)]
    /// The body, if any.
    public var body: ByteBuffer?
    /// How long each phase of the exchange may take.
    public var timeouts: UpstreamTimeouts
    /// Whether the caller reads the whole answer before using any of it (anything but a stream):
    /// the transport may then hand over head and body together instead of chunk by chunk. Set by
    /// the pipeline, not by adapters.
    public var readsWholeAnswer = false
    /// How the server signs or authorizes it before sending (cloud providers), if at all.
    public var signing: UpstreamSigning?

    /// Creates a request.
    public init(
        method: String,
        url: String,
        headers: [(name: String, value: String)],
        body: ByteBuffer?,
        timeouts: UpstreamTimeouts
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeouts = timeouts
    }
}

extension UpstreamRequest {
    /// This request with `readsWholeAnswer` set, unless its answer is `streamed`.
    public func readingWholeAnswer(unless streamed: Bool = false) -> UpstreamRequest {
        var request = self
        request.readsWholeAnswer = !streamed
        return request
    }
}

/// What the client sent that an adapter may need: its credentials (for passthrough) and request id.
public struct ClientContext: Sendable {
    /// The client's `Authorization` header, used only when the provider has no server-side key.
    public var authorization: String?
    /// The request id, forwarded as `x-request-id`.
    public var requestID: String

    /// Creates a context.
    public init(authorization: String?, requestID: String) {
        self.authorization = authorization
        self.requestID = requestID
    }
}

extension ClientContext {
    /// The token of a `Bearer` authorization header (scheme case-insensitive, spaces trimmed).
    public static func bearerToken(in authorization: String?) -> String? {
        guard let authorization else { return nil }
        // Read as bytes: the scheme is ASCII, and this runs on every request.
        let bytes = authorization.utf8
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        guard let schemeStart = bytes.firstIndex(where: { $0 != UInt8(ascii: " ") }),
            let schemeEnd = bytes[schemeStart...].firstIndex(of: UInt8(ascii: " ")),
            bytes[schemeStart..<schemeEnd].elementsEqual("bearer".utf8, by: { $0 | 0x20 == $1 }),
            let tokenStart = bytes[schemeEnd...].firstIndex(where: { !isBlank($0) }),
            let tokenLast = bytes[tokenStart...].lastIndex(where: { !isBlank($0) })
        else { return nil }
        return String(authorization[tokenStart...tokenLast])
    }

    /// The client's bearer token, for providers that take the key in a header of their own.
    public var bearerToken: String? { Self.bearerToken(in: authorization) }
}

/// A model as `/v1/models` lists it.
public struct ModelEntry: Codable, Sendable, Equatable {
    /// Model id clients can send.
    public var id: String
    /// Always `model`.
    public var object: String = "model"
    /// Creation time, seconds since 1970 (0 when the provider does not say).
    public var created: Int
    /// Who owns it.
    public var ownedBy: String

    enum CodingKeys: String, CodingKey {
        case id, object, created
        case ownedBy = "owned_by"
    }

    /// Creates an entry.
    public init(id: String, created: Int, ownedBy: String) {
        self.id = id
        self.created = created
        self.ownedBy = ownedBy
    }
}
