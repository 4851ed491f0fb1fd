import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix
import SwitchyardCore

/// The upstream transport on AsyncHTTPClient: one shared client, keep-alive pools per host, TLS
/// when the provider's base URL asks for it.
public struct AsyncHTTPClientTransport: UpstreamTransport {
    let client: HTTPClient

    /// Creates the shared client.
    /// - Parameter connectTimeoutSeconds: how long to try to establish a connection.
    public init(connectTimeoutSeconds: Double) {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .milliseconds(Int64(connectTimeoutSeconds * 1000)))
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        // A refused connection should fail the request now (502), not be retried until the deadline.
        configuration.connectionPool.retryConnectionEstablishment = false
        // LLM streams hold a connection for a long time; a small pool would queue requests.
        configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 512
        configuration.httpVersion = .http1Only
        client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
    }

    /// Sends the request and returns at the response head.
    public func execute(_ request: UpstreamRequest) async throws(TransportError) -> UpstreamResponse {
        var outbound = HTTPClientRequest(url: request.url)
        outbound.method = HTTPMethod(rawValue: request.method)
        for header in request.headers {
            outbound.headers.add(name: header.name, value: header.value)
        }
        if let body = request.body {
            outbound.body = .bytes(body)
        }
        let response: HTTPClientResponse
        do {
            response = try await client.execute(
                outbound, deadline: .now() + .milliseconds(Int64(request.timeoutSeconds * 1000)))
        } catch {
            throw Self.classify(error)
        }
        return UpstreamResponse(
            status: Int(response.status.code),
            headers: response.headers.map { (name: $0.name, value: $0.value) },
            body: response.body
        )
    }

    /// Shuts the client down.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    static func classify(_ error: any Error) -> TransportError {
        if error is CancellationError { return TransportError(.cancelled, "cancelled") }
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return TransportError(.timeout, "deadline exceeded")
            case .connectTimeout, .tlsHandshakeTimeout:
                return TransportError(.connect, "connect timeout")
            case .cancelled:
                return TransportError(.cancelled, "cancelled")
            case .remoteConnectionClosed:
                return TransportError(.protocolViolation, "the connection closed before the answer ended")
            default:
                return TransportError(.protocolViolation, "\(e)")
            }
        }
        if error is NIOConnectionError || error is ChannelError || error is IOError {
            return TransportError(.connect, "\(error)")
        }
        return TransportError(.protocolViolation, "\(error)")
    }
}
