import Foundation
import NIOCore
import NIOPosix

@testable import SwitchyardServer

/// A real `redis-server` (Debian package) on a free loopback port, for one test.
final class RedisServer: @unchecked Sendable {
    let port: Int
    let password: String?
    private var process: Process?

    init(port: Int? = nil, password: String? = nil) async throws {
        self.port = try port ?? Self.freePort()
        self.password = password
        try await start()
    }

    var url: String { "redis://\(password.map { ":\($0)@" } ?? "")127.0.0.1:\(port)/0" }

    func start() async throws {
        let path = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first {
            FileManager.default.isExecutableFile(atPath: $0)
        }
        guard let path else {
            throw RedisTestError(
                "redis-server is not installed: apt-get install -y redis-server (scripts/test and .ci/run do)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        var arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        if let password { arguments += ["--requirepass", password] }
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let client = RedisClient(endpoint: try .init(url: url), poolSize: 1)
        defer { Task { await client.close() } }
        for _ in 0..<100 {
            if (try? await client.send(["PING"])) == .simpleString("PONG") { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw RedisTestError("redis-server did not start on port \(port)")
    }

    /// Stops the server and reaps it (Foundation's `waitUntilExit` busy-waits on Linux).
    func stop() {
        guard let process else { return }
        let pid = process.processIdentifier
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        self.process = nil
    }

    deinit { stop() }

    static func freePort() throws -> Int {
        let channel = try ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0)
            .wait()
        let port = channel.localAddress?.port ?? 0
        try channel.close().wait()
        return port
    }
}

struct RedisTestError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
