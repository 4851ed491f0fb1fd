import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import Synchronization

/// A TCP server on a free loopback port whose every connection runs a script, for upstream
/// behaviour no well-behaved HTTP server shows: closing idle connections, dying mid-body,
/// never answering. It counts the connections it accepted.
final class ScriptedServer: Sendable {
    /// One accepted connection: what the script reads and writes.
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>
    /// The script run for the `index`th connection (0-based).
    typealias Script = @Sendable (_ index: Int, _ connection: Connection) async throws -> Void

    let port: Int
    private let server: NIOAsyncChannel<Connection, Never>
    private let accepted = Atomic<Int>(0)
    private let task = Mutex<Task<Void, Never>?>(nil)

    /// The number of connections accepted so far.
    var connections: Int { accepted.load(ordering: .relaxed) }

    /// Starts listening; TLS with `tls` when given.
    init(tls: NIOSSLContext? = nil, script: @escaping Script) async throws {
        server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            // Each write leaves as its own segment, as the script cut it.
            .childChannelOption(.tcpOption(.tcp_nodelay), value: 1)
            .bind(host: "127.0.0.1", port: 0) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    return try Connection(wrappingChannelSynchronously: channel)
                }
            }
        port = server.channel.localAddress?.port ?? 0
        task.withLock {
            $0 = Task { [self] in
                try? await server.executeThenClose { inbound in
                    try await withThrowingDiscardingTaskGroup { group in
                        for try await connection in inbound {
                            let index = accepted.add(1, ordering: .relaxed).oldValue
                            group.addTask {
                                try? await script(index, connection)
                                try? await connection.channel.close()
                            }
                        }
                    }
                }
            }
        }
    }

    /// Stops listening and closes every connection.
    func stop() async {
        let task = task.withLock { $0 }
        task?.cancel()
        try? await server.channel.close()
        await task?.value
    }

    /// Reads one request (head and `content-length` body) from `iterator`; nil at end of stream.
    static func readRequest(
        _ iterator: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    ) async throws
        -> String?
    {
        var received = ""
        while true {
            if let end = received.range(of: "\r\n\r\n") {
                let head = received[..<end.lowerBound].lowercased()
                let length =
                    head.split(separator: "\r\n").first { $0.hasPrefix("content-length:") }
                    .flatMap { Int($0.dropFirst("content-length:".count).trimmingCharacters(in: .whitespaces)) } ?? 0
                if received.utf8.count - received.utf8.distance(from: received.startIndex, to: end.upperBound)
                    >= length
                {
                    return received
                }
            }
            guard let chunk = try await iterator.next() else { return nil }
            received += String(buffer: chunk)
        }
    }

    /// Writes `text` as bytes.
    static func write(_ text: String, to connection: Connection) async throws {
        try await connection.channel.writeAndFlush(ByteBuffer(string: text))
    }
}

/// A self-signed certificate for `localhost` and `127.0.0.1`, made with the `openssl` tool.
struct TestCertificate {
    let certificatePath: String
    let keyPath: String

    /// Generates a fresh key and certificate in a temporary directory.
    static func make() async throws -> TestCertificate {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("switchyard-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let cert = TestCertificate(
            certificatePath: directory.appendingPathComponent("cert.pem").path,
            keyPath: directory.appendingPathComponent("key.pem").path)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", cert.keyPath, "-out", cert.certificatePath, "-days", "1", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ]
        process.standardError = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        guard status == 0 else { throw CocoaError(.fileWriteUnknown) }
        return cert
    }

    /// A server context presenting this certificate.
    func serverContext() throws -> NIOSSLContext {
        try NIOSSLContext(
            configuration: .makeServerConfiguration(
                certificateChain: try NIOSSLCertificate.fromPEMFile(certificatePath).map { .certificate($0) },
                privateKey: .privateKey(try NIOSSLPrivateKey(file: keyPath, format: .pem))))
    }

    /// Trust roots holding only this certificate.
    var trustRoots: NIOSSLTrustRoots { .file(certificatePath) }
}

/// A loopback port that refuses connections for as long as this value lives: its socket is bound
/// but never listens, so no other test running in parallel can be given the port meanwhile.
final class RefusingPort: Sendable {
    let port: Int
    private let descriptor: Int32

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.descriptor = descriptor
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard descriptor >= 0, bound else { throw RedisTestError("could not bind a loopback socket") }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
