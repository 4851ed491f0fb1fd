import Foundation
import Testing

/// What one client can make the listener hold: request line, headers, connections per address.
@Suite("Listener limits", .timeLimit(.minutes(1)))
struct ListenerLimitsTests {
    static let environment = [
        "MAX_REQUEST_LINE_BYTES": "300", "MAX_HEADER_COUNT": "20", "MAX_HEADER_BYTES": "2048",
        "MAX_CONNECTIONS_PER_ADDRESS": "2",
    ]

    static func request(path: String = "/health", headers: [String] = []) -> String {
        (["GET \(path) HTTP/1.1", "host: localhost"] + headers).joined(separator: "\r\n") + "\r\n\r\n"
    }

    static func status(_ answer: String) -> Int? {
        answer.split(separator: " ", maxSplits: 2).dropFirst().first.flatMap { Int($0) }
    }

    static func errorCode(_ answer: String) throws -> String? {
        guard let start = answer.range(of: "\r\n\r\n")?.upperBound else { return nil }
        return try TestGateway.error(in: String(answer[start...]))["code"] as? String
    }

    @Test(
        "Over-long request lines get 414, too many or too large headers 431, in OpenAI's shape, then the connection closes",
        arguments: [
            (request(path: "/health?" + String(repeating: "a", count: 400)), 414, "request_line_too_long"),
            (request(headers: (0..<30).map { "x-h\($0): v" }), 431, "request_headers_too_large"),
            (request(headers: ["x-big: " + String(repeating: "b", count: 3000)]), 431, "request_headers_too_large"),
        ])
    func limits(request: String, status: Int, code: String) async throws {
        try await TestGateway.with(environment: Self.environment) { gw in
            let answer = try await RawConnection.exchange(port: gw.ports.proxy, request)
            #expect(Self.status(answer) == status)
            #expect(try Self.errorCode(answer) == code)
            #expect(answer.lowercased().contains("connection: close"))
            // Requests within the limits are served.
            let fine = try await RawConnection.exchange(
                port: gw.ports.proxy, Self.request(headers: ["connection: close"]))
            #expect(Self.status(fine) == 200)
        }
    }

    @Test("Headers far beyond the limit are cut off by the decoder: 400 and closed, nothing more held")
    func decoderLimit() async throws {
        try await TestGateway.with(environment: Self.environment) { gw in
            let answer = try await RawConnection.exchange(
                port: gw.ports.proxy, Self.request(headers: ["x-huge: " + String(repeating: "c", count: 100_000)]))
            #expect(Self.status(answer) == 400)
        }
    }

    @Test("A client's marker header is dropped, not obeyed")
    func forgedMarker() async throws {
        try await TestGateway.with(environment: Self.environment) { gw in
            let answer = try await RawConnection.exchange(
                port: gw.ports.proxy, Self.request(headers: ["switchyard-refused: connections", "connection: close"]))
            #expect(Self.status(answer) == 200)
        }
    }

    @Test("Connections beyond the per-address limit are answered 429 and closed; a freed slot is usable again")
    func connectionsPerAddress() async throws {
        try await TestGateway.with(environment: Self.environment) { gw in
            let port = gw.ports.proxy
            // Each held connection has had a request answered, so the gateway has counted it.
            try await RawConnection.holding(port: port, Self.request()) { first in
                #expect(Self.status(first) == 200)
                try await RawConnection.holding(port: port, Self.request()) { second in
                    #expect(Self.status(second) == 200)
                    // `connection: close` makes a wrongly admitted request end at once, not at the time limit.
                    let refused = try await RawConnection.exchange(
                        port: port, Self.request(headers: ["connection: close"]))
                    #expect(Self.status(refused) == 429)
                    #expect(try Self.errorCode(refused) == "too_many_connections")
                }
                // The gateway forgets the closed connection once it has seen the close.
                var served: Int?
                let deadline = ContinuousClock.now + .seconds(10)
                while served != 200, ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                    served = Self.status(
                        try await RawConnection.exchange(port: port, Self.request(headers: ["connection: close"])))
                }
                #expect(served == 200)
            }
        }
    }
}
