import NIOCore
import NIOPosix

/// A plain TCP connection to a loopback port, for requests no HTTP client would send. The async
/// channel is only ever used inside `executeThenClose`, so a test that fails or is cancelled midway
/// still closes it.
enum RawConnection {
    /// Connects to `127.0.0.1:port` and runs `body` with the connection's streams; closes after.
    static func with<T: Sendable>(
        port: Int,
        _ body: (NIOAsyncChannelInboundStream<ByteBuffer>, NIOAsyncChannelOutboundWriter<ByteBuffer>) async throws -> T
    ) async throws -> T {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(
                        wrappingChannelSynchronously: channel, configuration: .init(isOutboundHalfClosureEnabled: true))
                }
            }
        return try await channel.executeThenClose { inbound, outbound in try await body(inbound, outbound) }
    }

    /// Opens a connection, sends `request` (then closes the sending side when `halfClosing`),
    /// returns everything the server sent before closing (bounded by the caller's time limit).
    static func exchange(port: Int, _ request: String, halfClosing: Bool = false) async throws -> String {
        try await with(port: port) { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            if halfClosing { outbound.finish() }
            var answer = ""
            do {
                for try await chunk in inbound { answer += String(buffer: chunk) }
            } catch {
                // A reset after the answer still leaves the answer.
            }
            return answer
        }
    }

    /// Opens a keep-alive connection and sends `request` on it; once the head of the answer has
    /// arrived (so the server has surely taken the connection) runs `body` with that head while the
    /// connection stays open, and closes it afterwards.
    static func holding<T: Sendable>(
        port: Int, _ request: String, _ body: (String) async throws -> T
    ) async throws -> T {
        try await with(port: port) { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var head = ""
            for try await chunk in inbound {
                head += String(buffer: chunk)
                if head.contains("\r\n\r\n") { break }
            }
            return try await body(head)
        }
    }
}
