import NIOCore
import NIOPosix

/// A plain TCP connection to a loopback port, for requests no HTTP client would send.
struct RawConnection {
    let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>

    /// Connects to `127.0.0.1:port`.
    static func open(port: Int) async throws -> RawConnection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return RawConnection(channel: channel)
    }

    /// Sends `request` and reads until the server closes the connection (bounded by the caller's time limit).
    func exchange(_ request: String) async throws -> String {
        try await channel.executeThenClose { inbound, outbound in
            try await outbound.write(ByteBuffer(string: request))
            var answer = ""
            do {
                for try await chunk in inbound { answer += String(buffer: chunk) }
            } catch {
                // A reset after the answer still leaves the answer.
            }
            return answer
        }
    }

    /// Closes without sending anything.
    func close() async throws { try await channel.channel.close() }

    /// Opens a connection, sends `request`, returns everything the server sent before closing.
    static func exchange(port: Int, _ request: String) async throws -> String {
        try await open(port: port).exchange(request)
    }
}
