import Foundation
import HTTPTypes
import NIOCore
import Testing

@testable import SwitchyardServer

/// The client listener's HTTP/1.1 handling (`GatewayHTTPChannel`, `RequestDispatcher`): requests
/// in order on one connection, bodies in parts, the connection's end.
@Suite("HTTP ingress", .timeLimit(.minutes(1)))
struct HTTPIngressTests {
    static func chat(_ headers: [String] = [], body: String = TestGateway.chatBody(model: "gpt-4o")) -> String {
        ([
            "POST /v1/chat/completions HTTP/1.1", "host: localhost", "content-type: application/json",
            "content-length: \(body.utf8.count)",
        ] + headers).joined(separator: "\r\n") + "\r\n\r\n" + body
    }

    /// The status lines, in the order they arrived (a body without a line end runs into the next).
    static func statusLines(_ answer: String) -> [String] {
        answer.components(separatedBy: "HTTP/1.").dropFirst().map { "HTTP/1." + $0.prefix { $0 != "\r\n" } }
    }

    @Test("Pipelined requests are answered in order on one connection; `connection: close` ends it after its answer")
    func pipelined() async throws {
        try await TestGateway.with { gw in
            let answer = try await RawConnection.exchange(
                port: gw.ports.proxy,
                Self.chat() + "GET /nowhere HTTP/1.1\r\nhost: localhost\r\n\r\n" + Self.chat(["connection: close"]))
            #expect(Self.statusLines(answer) == ["HTTP/1.1 200 OK", "HTTP/1.1 404 Not Found", "HTTP/1.1 200 OK"])
            let ids = answer.components(separatedBy: "\r\n").filter { $0.lowercased().hasPrefix("x-request-id: ") }
            #expect(Set(ids).count == 3)
            #expect(answer.hasSuffix("}"), "the connection closed after a whole answer")
            #expect(await gw.mock.log.requests.count == 2)
        }
    }

    @Test("A body sent in chunks is put together; one beyond the limit in chunks is answered 413")
    func chunkedBodies() async throws {
        try await TestGateway.with(environment: ["MAX_BODY_BYTES": "2048"]) { gw in
            func chunked(_ body: String, parts: Int) -> String {
                let bytes = Array(body.utf8)
                let size = (bytes.count + parts - 1) / parts
                var encoded = ""
                for start in stride(from: 0, to: bytes.count, by: size) {
                    let part = bytes[start..<min(start + size, bytes.count)]
                    encoded += String(part.count, radix: 16) + "\r\n" + String(decoding: part, as: UTF8.self) + "\r\n"
                }
                return "POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n"
                    + "transfer-encoding: chunked\r\nconnection: close\r\n\r\n" + encoded + "0\r\n\r\n"
            }
            let fine = try await RawConnection.exchange(
                port: gw.ports.proxy, chunked(TestGateway.chatBody(model: "gpt-4o"), parts: 5))
            #expect(Self.statusLines(fine) == ["HTTP/1.1 200 OK"])
            let padding = String(repeating: "x", count: 3000)
            let large = #"{"model":"gpt-4o","messages":[{"role":"user","content":"\#(padding)"}]}"#
            let refused = try await RawConnection.exchange(port: gw.ports.proxy, chunked(large, parts: 7))
            #expect(Self.statusLines(refused) == ["HTTP/1.1 413 Payload Too Large"])
            #expect(refused.contains("2048"))
            #expect(await gw.mock.log.requests.count == 1)
        }
    }

    @Test("A client closing its side after its requests still gets the answers it was sent")
    func clientClosesAfterSending() async throws {
        try await TestGateway.with { gw in
            let answer = try await RawConnection.exchange(
                port: gw.ports.proxy, "GET /health HTTP/1.1\r\nhost: localhost\r\n\r\n", halfClosing: true)
            #expect(Self.statusLines(answer) == ["HTTP/1.1 200 OK"])
        }
    }

    @Test("A client that expects `100 Continue` is told to continue before it sends the body")
    func expectContinue() async throws {
        // Without the interim answer both sides would wait, until the idle timeout closes the connection.
        try await TestGateway.with(environment: ["CLIENT_IDLE_TIMEOUT_SECONDS": "2"]) { gw in
            let body = TestGateway.chatBody(model: "gpt-4o")
            let head =
                "POST /v1/chat/completions HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\n"
                + "content-length: \(body.utf8.count)\r\nexpect: 100-continue\r\nconnection: close\r\n\r\n"
            let (interim, answer) = try await RawConnection.with(port: gw.ports.proxy) { inbound, outbound in
                try await outbound.write(ByteBuffer(string: head))
                var iterator = inbound.makeAsyncIterator()
                var interim = ""
                while !interim.contains("\r\n\r\n"), let chunk = try await iterator.next() {
                    interim += String(buffer: chunk)
                }
                try await outbound.write(ByteBuffer(string: body))
                var answer = ""
                while let chunk = try await iterator.next() { answer += String(buffer: chunk) }
                return (interim, answer)
            }
            #expect(interim.hasPrefix("HTTP/1.1 100 Continue\r\n"))
            #expect(Self.statusLines(interim + answer) == ["HTTP/1.1 100 Continue", "HTTP/1.1 200 OK"])
        }
    }

    @Test("An HTTP/1.0 request without keep-alive closes its connection after the answer; with keep-alive it stays")
    func http10() async throws {
        try await TestGateway.with(environment: ["CLIENT_IDLE_TIMEOUT_SECONDS": "30"]) { gw in
            let start = ContinuousClock.now
            let closed = try await RawConnection.exchange(port: gw.ports.proxy, "GET /health HTTP/1.0\r\n\r\n")
            #expect(closed.hasSuffix(#"{"status":"ok"}"#))
            #expect(ContinuousClock.now - start < .seconds(5), "closed by the gateway, not by the idle timeout")
            let kept = try await RawConnection.exchange(
                port: gw.ports.proxy,
                "GET /health HTTP/1.0\r\nconnection: keep-alive\r\n\r\nGET /ready HTTP/1.0\r\n\r\n")
            #expect(Self.statusLines(kept) == ["HTTP/1.0 200 OK", "HTTP/1.0 200 OK"])
            #expect(kept.lowercased().contains("connection: keep-alive"))
            #expect(kept.hasSuffix(#"{"status":"ready"}"#))
        }
    }

    @Test("An HTTP/1.0 client gets a stream without chunked encoding, ended by closing the connection")
    func http10Stream() async throws {
        try await TestGateway.with(environment: ["CLIENT_IDLE_TIMEOUT_SECONDS": "30"]) { gw in
            let start = ContinuousClock.now
            let body = TestGateway.chatBody(model: "gpt-4o", stream: true)
            // HTTP/1.0 has no `100 Continue`; a client that asks anyway gets only the answer.
            let answer = try await RawConnection.exchange(
                port: gw.ports.proxy,
                "POST /v1/chat/completions HTTP/1.0\r\nconnection: keep-alive\r\ncontent-type: application/json\r\n"
                    + "expect: 100-continue\r\ncontent-length: \(body.utf8.count)\r\n\r\n" + body)
            #expect(ContinuousClock.now - start < .seconds(5), "closed by the gateway, not by the idle timeout")
            #expect(Self.statusLines(answer) == ["HTTP/1.0 200 OK"])
            let head = answer.components(separatedBy: "\r\n\r\n")[0].lowercased()
            #expect(!head.contains("transfer-encoding") && head.contains("connection: close"))
            // The events as the provider sent them, with no chunk sizes between them.
            let events = answer.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
            #expect(events.hasPrefix("data: {") && events.hasSuffix("data: [DONE]\n\n"))
        }
    }

    @Test("A request target in absolute form is served as its path; origin form is taken as sent")
    func requestTargets() async throws {
        try await TestGateway.with { gw in
            let absolute = try await RawConnection.exchange(
                port: gw.ports.proxy,
                "GET http://localhost:\(gw.ports.proxy)/health HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n"
            )
            #expect(Self.statusLines(absolute) == ["HTTP/1.1 200 OK"])
            let query = try await RawConnection.exchange(
                port: gw.ports.proxy, "GET /health?probe=1 HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
            #expect(Self.statusLines(query) == ["HTTP/1.1 200 OK"])
            let unknown = try await RawConnection.exchange(
                port: gw.ports.proxy, "GET /health/x HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
            #expect(unknown.contains("Unknown request URL: GET /health/x."))
        }
    }

    @Test("The route table matches method and path; empty path segments do not count")
    func routeTable() {
        #expect(ClientRoute(method: .post, path: "/v1/chat/completions") == .chatCompletions)
        #expect(ClientRoute(method: .post, path: "/v1/embeddings") == .embeddings)
        #expect(ClientRoute(method: .get, path: "/v1/models") == .models)
        #expect(ClientRoute(method: .get, path: "/health") == .health)
        #expect(ClientRoute(method: .get, path: "/ready") == .ready)
        #expect(ClientRoute(method: .post, path: "//v1/chat//completions/") == .chatCompletions)
        #expect(ClientRoute(method: .get, path: "/v1/models/") == .models)
        for (method, path) in [
            (HTTPRequest.Method.get, "/v1/chat/completions"), (.post, "/v1/models"), (.head, "/health"),
            (.get, "/"), (.get, ""), (.get, "//"), (.get, "/v1/models/x"), (.get, "/V1/models"),
            (.post, "/v1/chat/completions%2F"),
        ] {
            #expect(ClientRoute(method: method, path: path) == nil, "\(method) \(path)")
        }
        #expect(ClientRoute.isLimited("/v1/nothing") && !ClientRoute.isLimited("/health"))
    }

    @Test("A header is read as sent when it appears once and joined as HTTPTypes joins it when repeated")
    func headerValues() {
        var fields: HTTPFields = [.authorization: "Bearer a", .accept: "text/plain"]
        #expect(fields.value(of: .authorization) == "Bearer a")
        #expect(fields.value(of: .contentType) == nil)
        fields.append(HTTPField(name: .accept, value: "application/json"))
        #expect(fields.value(of: .accept) == "text/plain, application/json")
        #expect(fields.value(of: .accept) == fields[.accept])
        let request = ClientRequest(
            head: HTTPRequest(method: .get, scheme: nil, authority: nil, path: "/v1/responses/r?after=x&limit=2"),
            body: ByteBuffer(), bodyOverLimit: false, closesConnection: false)
        #expect(request.path == "/v1/responses/r" && request.query == ["after": "x", "limit": "2"])
    }

    @Test("A path with empty segments is served by its route, as under Hummingbird's router")
    func routesOnTheWire() async throws {
        try await TestGateway.with { gw in
            let loose = try await gw.send("/v1//chat/completions/", body: TestGateway.chatBody(model: "gpt-4o"))
            #expect(loose.status == 200)
        }
    }

    @Test("The date header is an IMF-fixdate in GMT, and the current one is cached per second")
    func dateHeader() {
        #expect(HTTPDate.format(0) == "Thu, 01 Jan 1970 00:00:00 GMT")
        #expect(HTTPDate.format(951_868_799) == "Tue, 29 Feb 2000 23:59:59 GMT")
        #expect(HTTPDate.format(1_795_900_000) == "Sat, 28 Nov 2026 21:06:40 GMT")
        let now = Int(Date().timeIntervalSince1970)
        #expect([HTTPDate.format(now), HTTPDate.format(now + 1)].contains(HTTPDate.now))
    }
}
