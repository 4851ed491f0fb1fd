import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SwitchyardCore
import Synchronization

/// The upstream transport on SwiftNIO directly: keep-alive HTTP/1.1 connections pooled per
/// provider address (most recently used first), TLS through swift-nio-ssl, response bodies relayed chunk by
/// chunk as NIO reads them (no re-buffering) with backpressure to the socket. It replaces
/// AsyncHTTPClient on the hot path, where that client's generality cost about three quarters of
/// an nginx proxy's throughput.
public final class NIOUpstreamTransport: UpstreamTransport {
    struct PoolKey: Hashable {
        var host: String
        var port: Int
        var tls: Bool
    }

    private let group: any EventLoopGroup
    private let idle = Mutex<[PoolKey: [UpstreamConnection]]>([:])
    private let tlsContext: Result<NIOSSLContext, any Error>
    private let maxIdlePerKey = 512

    /// Creates the transport.
    /// - Parameters:
    ///   - group: the event loops connections live on.
    ///   - trustRoots: the certificate authorities HTTPS providers are verified against (the system's by default).
    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        trustRoots: NIOSSLTrustRoots = .default
    ) {
        self.group = group
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.trustRoots = trustRoots
        tlsContext = Result { try NIOSSLContext(configuration: tls) }
    }

    /// Sends the request on a pooled (or new) connection and returns at the response head. A
    /// pooled connection the provider closed while it sat idle is replaced once, transparently.
    public func execute(_ request: UpstreamRequest) async throws(TransportError) -> UpstreamResponse {
        guard let target = UpstreamTarget(request.url) else {
            throw TransportError(.connect, "the upstream URL is not http(s)://host[:port]/path")
        }
        let key = PoolKey(host: target.host, port: target.port, tls: target.tls)
        var headers = HTTPHeaders(request.headers.map { ($0.name, $0.value) })
        headers.replaceOrAdd(name: "host", value: target.hostHeader)
        headers.replaceOrAdd(name: "content-length", value: String(request.body?.readableBytes ?? 0))
        let head = HTTPRequestHead(
            version: .http1_1, method: HTTPMethod(rawValue: request.method), uri: target.path, headers: headers)
        if let pooled = takeIdle(key) {
            do {
                return try await exchange(
                    on: pooled, head: head, body: request.body, timeouts: request.timeouts, key: key)
            } catch  where error.kind == .protocolViolation && !Task.isCancelled {
                // The provider closed the idle connection before answering: try a fresh one.
            }
        }
        let connection = try await connect(
            key, target: target, loop: group.next(), timeout: .interval(request.timeouts.connectSeconds))
        return try await exchange(on: connection, head: head, body: request.body, timeouts: request.timeouts, key: key)
    }

    private func exchange(
        on connection: UpstreamConnection, head: HTTPRequestHead, body: ByteBuffer?, timeouts: UpstreamTimeouts,
        key: PoolKey
    ) async throws(TransportError) -> UpstreamResponse {
        let future = connection.execute(head: head, body: body, timeouts: timeouts) { [weak self] connection in
            self?.putIdle(connection, key: key)
        }
        do {
            return try await withTaskCancellationHandler {
                try await future.get()
            } onCancel: {
                connection.close()
            }
        } catch {
            if Task.isCancelled { throw TransportError(.cancelled, "cancelled") }
            throw TransportError.classify(error)
        }
    }

    private func connect(
        _ key: PoolKey, target: UpstreamTarget, loop: any EventLoop, timeout: TimeAmount
    ) async throws(TransportError)
        -> UpstreamConnection
    {
        let sslContext: NIOSSLContext?
        if target.tls {
            do {
                sslContext = try tlsContext.get()
            } catch {
                throw TransportError(.connect, "TLS is unavailable (\(error))")
            }
        } else {
            sslContext = nil
        }
        let serverName = target.isIPAddress ? nil : target.host
        let bootstrap = ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(UpstreamExchangeHandler())
                }
            }
        do {
            let channel = try await bootstrap.connect(host: target.host, port: target.port).get()
            return try await channel.eventLoop.submit {
                UpstreamConnection(
                    channel: channel,
                    handler: try channel.pipeline.syncOperations.handler(type: UpstreamExchangeHandler.self))
            }.get()
        } catch {
            if Task.isCancelled { throw TransportError(.cancelled, "cancelled") }
            throw TransportError(.connect, Self.describe(error))
        }
    }

    private func takeIdle(_ key: PoolKey) -> UpstreamConnection? {
        idle.withLock { pools in
            while let connection = pools[key]?.popLast() {
                if connection.isActive { return connection }
            }
            return nil
        }
    }

    private func putIdle(_ connection: UpstreamConnection, key: PoolKey) {
        let kept = idle.withLock { pools in
            guard pools[key, default: []].count < maxIdlePerKey else { return false }
            pools[key, default: []].append(connection)
            return true
        }
        if !kept { connection.close() }
    }

    /// Closes every idle connection.
    public func shutdown() async throws {
        let all = idle.withLock { pools in
            defer { pools.removeAll() }
            return pools.values.flatMap { $0 }
        }
        for connection in all { connection.close() }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case ChannelError.connectTimeout: return "connect timeout"
        case let error as NIOConnectionError:
            return error.connectionErrors.first.map { "\($0.error)" } ?? "connection failed"
        default: return "\(error)"
        }
    }
}

/// Where an upstream URL points: scheme, host, port and the request target.
struct UpstreamTarget: Equatable {
    var tls: Bool
    var host: String
    var port: Int
    var path: String

    /// Parses `http(s)://host[:port][/path?query]` (IPv6 hosts in brackets).
    init?(_ url: String) {
        let rest: Substring
        if url.hasPrefix("https://") {
            tls = true
            rest = url.dropFirst(8)
        } else if url.hasPrefix("http://") {
            tls = false
            rest = url.dropFirst(7)
        } else {
            return nil
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        let remainder = rest.dropFirst(authority.count)
        path = remainder.isEmpty ? "/" : (remainder.first == "?" ? "/" + remainder : String(remainder))
        var hostPart = authority
        var portPart: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            hostPart = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() } else if !after.isEmpty { return nil }
        } else if let colon = authority.lastIndex(of: ":") {
            hostPart = authority[..<colon]
            portPart = authority[authority.index(after: colon)...]
        }
        guard !hostPart.isEmpty else { return nil }
        host = String(hostPart)
        if let portPart {
            guard let value = Int(portPart), (1...65535).contains(value) else { return nil }
            port = value
        } else {
            port = tls ? 443 : 80
        }
    }

    /// Whether the host is an IP literal (no SNI then).
    var isIPAddress: Bool { host.contains(":") || host.allSatisfy { $0.isNumber || $0 == "." } }

    /// The `Host` header: the port only when it is not the scheme's default.
    var hostHeader: String {
        let name = host.contains(":") ? "[\(host)]" : host
        return port == (tls ? 443 : 80) ? name : "\(name):\(port)"
    }
}
