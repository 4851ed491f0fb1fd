import ArgumentParser
import SwitchyardCore
import SwitchyardServer

/// `switchyard probe URL`: a health check for images without a shell or curl. Exits 0 when `URL`
/// answers 2xx within the timeout, 1 otherwise.
struct ProbeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe", abstract: "Exit 0 when a URL answers 2xx (for container health checks).")

    @Argument(help: "The URL to GET, e.g. http://127.0.0.1:8080/health.")
    var url: String

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 3

    func run() async throws {
        let transport = NIOUpstreamTransport(wholeBodyLimit: 1 << 16, idleConnectionsPerKey: 0)
        let request = UpstreamRequest(
            method: "GET", url: url, headers: [], body: nil,
            timeouts: UpstreamTimeouts(
                connectSeconds: timeout, firstByteSeconds: timeout, idleSeconds: timeout, totalSeconds: timeout)
        ).readingWholeAnswer()
        let status: Int
        do {
            let response = try await transport.execute(request)
            _ = try? await response.collect(limit: 1 << 16)
            status = response.status
        } catch {
            try? await transport.shutdown()
            printError("switchyard probe: \(url): \(error.message)")
            throw ExitCode(1)
        }
        try? await transport.shutdown()
        guard (200..<300).contains(status) else {
            printError("switchyard probe: \(url) answered \(status)")
            throw ExitCode(1)
        }
    }
}
