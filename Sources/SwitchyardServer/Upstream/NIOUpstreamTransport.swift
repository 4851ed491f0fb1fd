import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import SwitchyardCore
import Synchronization

/// The upstream transport on SwiftNIO directly: keep-alive HTTP/1.1 connections pooled per
/// provider address and event loop (most recently used first; a request running on an event loop
/// takes that loop's connections, so its exchange never leaves the thread), TLS through
/// swift-nio-ssl, response bodies relayed chunk by chunk as NIO reads them (no re-buffering) with
/// backpressure to the socket, or handed over whole when the caller reads them whole. A client of
/// our own rather than a general one, because every request pays for the upstream hop
/// (measurements in `bench/RESULTS.md`).
public final class NIOUpstreamTransport: UpstreamTransport {
    struct PoolKey: Hashable {
        var host: String
        var port: Int
        var tls: Bool
        /// The event loop the connections live on.
        var loop: ObjectIdentifier
    }

    private let group: any EventLoopGroup
    /// The loop for requests that do not run on one of the group's loops (so that they, too, share
    /// one pool).
    private let homeLoop: any EventLoop
    private let idle = Mutex<[PoolKey: [UpstreamConnection]]>([:])
    private let tlsContext: Result<NIOSSLContext, any Error>
    private let maxIdlePerKey: Int
    private let wholeBodyLimit: Int
    /// Parsed upstream URLs and their `Host` headers: the same few URLs come back on every request.
    private let targets = Mutex<[String: (UpstreamTarget, String)]>([:])
    /// Bounds of that cache: a Gemini URL holds the model name, which clients choose.
    static let targetCacheLimit = (entries: 1024, urlBytes: 512)

    /// Creates the transport.
    /// - Parameters:
    ///   - group: the event loops connections live on.
    ///   - trustRoots: the certificate authorities HTTPS providers are verified against (the system's by default).
    ///   - wholeBodyLimit: the most bytes of an answer read whole (`readsWholeAnswer`).
    ///   - idleConnectionsPerKey: idle connections kept per provider address and event loop.
    public init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        trustRoots: NIOSSLTrustRoots = .default,
        wholeBodyLimit: Int = ReliabilitySettings().maxUpstreamAnswerBytes,
        idleConnectionsPerKey: Int = ReliabilitySettings().upstreamIdleConnections
    ) {
        self.group = group
        self.wholeBodyLimit = wholeBodyLimit
        self.maxIdlePerKey = idleConnectionsPerKey
        self.homeLoop = group.next()
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        tls.trustRoots = trustRoots
        tlsContext = Result { try NIOSSLContext(configuration: tls) }
    }

    /// Sends the request on a pooled (or new) connection and returns at the response head. A
    /// pooled connection the provider closed while it sat idle is replaced once, transparently.
    public func execute(_ request: UpstreamRequest) async throws(TransportError) -> UpstreamResponse {
        let (target, key, loop, head) = try route(request)
        let whole = request.readsWholeAnswer ? wholeBodyLimit : nil
        if let pooled = takeIdle(key) {
            do {
                return try await exchange(
                    on: pooled, head: head, body: request.body, timeouts: request.timeouts, whole: whole)
            } catch  where error.kind == .protocolViolation && !Task.isCancelled {
                // The provider closed the idle connection before answering: try a fresh one.
            }
        }
        let connection = try await connect(
            key, target: target, loop: loop, timeout: .interval(request.timeouts.connectSeconds))
        return try await exchange(
            on: connection, head: head, body: request.body, timeouts: request.timeouts, whole: whole)
    }

    /// Where `request` goes (its target, pool and loop) and the head it is sent with. Kept out of
    /// `execute`: an async function's frame holds what its inlined code stores, for the rest of
    /// the request's task.
    @inline(never)
    private func route(
        _ request: UpstreamRequest
    ) throws(TransportError) -> (UpstreamTarget, PoolKey, any EventLoop, UpstreamRequestHead) {
        guard let (target, hostHeader) = parsedTarget(request.url) else {
            throw TransportError(.connect, "the upstream URL is not http(s)://host[:port]/path")
        }
        let loop = MultiThreadedEventLoopGroup.currentEventLoop == nil ? homeLoop : group.any()
        let key = PoolKey(host: target.host, port: target.port, tls: target.tls, loop: ObjectIdentifier(loop))
        // The transport's own `host` and `content-length` replace any the request carried; the
        // body is framed by its length, so a `transfer-encoding` would contradict it.
        var fields: [(name: String, value: String)] = []
        fields.reserveCapacity(request.headers.count + 2)
        for header in request.headers
        where !header.name.isHeaderName("host") && !header.name.isHeaderName("content-length")
            && !header.name.isHeaderName("transfer-encoding")
        {
            fields.append((header.name, header.value))
        }
        fields.append(("host", hostHeader))
        fields.append(("content-length", String(request.body?.readableBytes ?? 0)))
        let head = UpstreamRequestHead(
            method: HTTPMethod(rawValue: request.method), target: target.path, fields: fields)
        if let problem = RequestHeadRules.problem(head) { throw TransportError(.connect, problem) }
        return (target, key, loop, head)
    }

    /// One exchange on `connection`; with `whole` (a byte limit) the answer is handed over once
    /// complete, head and body together.
    private func exchange(
        on connection: UpstreamConnection, head: UpstreamRequestHead, body: ByteBuffer?, timeouts: UpstreamTimeouts,
        whole: Int?
    ) async throws(TransportError) -> UpstreamResponse {
        let future = connection.execute(head: head, body: body, timeouts: timeouts, whole: whole)
        let response: UpstreamResponse
        do {
            response = try await withTaskCancellationHandler {
                try await future.value()
            } onCancel: {
                connection.close()
            }
        } catch {
            if Task.isCancelled { throw TransportError(.cancelled, "cancelled") }
            throw TransportError.classify(error)
        }
        // A whole answer cut short by the cancellation is not the upstream's failure.
        if whole != nil, Task.isCancelled { throw TransportError(.cancelled, "cancelled") }
        return response
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
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: ReceiveBuffers.allocator)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let sslContext {
                        try channel.pipeline.syncOperations.addHandler(
                            NIOSSLClientHandler(context: sslContext, serverHostname: serverName))
                    }
                    try UpstreamResponseDecoder.addHandlers(to: channel.pipeline.syncOperations)
                }
            }
        do {
            let channel = try await bootstrap.connect(host: target.host, port: target.port).get()
            return try await channel.eventLoop.submit {
                UpstreamConnection(
                    channel: channel,
                    handler: try channel.pipeline.syncOperations.handler(type: UpstreamExchangeHandler.self)
                ) { [weak self] connection in
                    self?.putIdle(connection, key: key)
                }
            }.get()
        } catch {
            if Task.isCancelled { throw TransportError(.cancelled, "cancelled") }
            throw TransportError(.connect, Self.describe(error))
        }
    }

    /// The target of `url` and its `Host` header, parsed once per URL.
    private func parsedTarget(_ url: String) -> (UpstreamTarget, String)? {
        if let known = targets.withLock({ $0[url] }) { return known }
        guard let target = UpstreamTarget(url) else { return nil }
        let parsed = (target, target.hostHeader)
        if url.utf8.count <= Self.targetCacheLimit.urlBytes {
            targets.withLock { cache in
                if cache.count >= Self.targetCacheLimit.entries { cache.removeAll(keepingCapacity: true) }
                cache[url] = parsed
            }
        }
        return parsed
    }

    /// URLs in the target cache (for tests).
    var cachedTargets: Int { targets.withLock { $0.count } }

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
