import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Synchronization
import Testing

/// Every provider's answers, streamed and not, cut into arbitrary pieces by `SegmentingUpstream`,
/// must reach the client complete, in time and byte for byte as when the upstream writes each
/// answer in one piece (ids and timestamps aside). An upstream connection left with its read held
/// once stalled the next answer on it until the client gave up; these runs catch any such stall.
@Suite("Answers cut into arbitrary pieces reach the client whole")
struct SegmentedAnswerTests {
    /// One kind of request the gateway forwards.
    struct Exchange: Sendable {
        let name: String
        let path: String
        let body: String
    }

    static let exchanges: [Exchange] = {
        var list: [Exchange] = []
        for model in ["gpt-4o", "gpt-4o-mini", "gemini-2.0-flash", "claude-3-5-haiku-latest", "llama3.2"] {
            for stream in [false, true] {
                let body =
                    #"{"model":"\#(model)","stream":\#(stream),"stream_options":"#
                    + #"{"include_usage":true},"messages":[{"role":"user","content":"Say hello."}]}"#
                list.append(
                    Exchange(name: "\(model) \(stream ? "stream" : "answer")", path: "/v1/chat/completions", body: body)
                )
            }
        }
        for model in ["text-embedding-3-small", "text-embedding-004", "ollama/nomic-embed-text"] {
            list.append(
                Exchange(
                    name: "\(model) embeddings", path: "/v1/embeddings", body: #"{"model":"\#(model)","input":"hello"}"#
                ))
        }
        return list
    }()

    /// How long after the upstream wrote an answer's last byte the client may still be waiting for
    /// it before the exchange counts as late: a stall is an answer the gateway has and does not
    /// finish. (How long the writing takes depends on the cut: one byte per write is slow.)
    static let lateAfter = Duration.seconds(3)

    /// What one exchange gave the client, its identifying values blanked, and how long the client
    /// waited after the upstream had written the last byte.
    struct Outcome: Sendable {
        var body: String
        var lag: Duration
        /// What is wrong with the headers the client got (`headerProblems`).
        var headerProblems: [String]
    }

    /// What is wrong with the headers of the answer to the request with `x-request-id: id`, whose
    /// upstream sent `SegmentingUpstream.realHeaders`: its headers worth keeping must arrive once
    /// with their values, the dropped ones not at all, and the gateway's own (the request id, a
    /// stream's `cache-control`) in place of the upstream's.
    static func headerProblems(_ headers: HTTPHeaders, id: String) -> [String] {
        var wanted = [
            "openai-processing-ms": ["12"], "request-id": ["req_upstream"], "x-request-id": [id], "set-cookie": [],
        ]
        if headers["content-type"].first?.hasPrefix("text/event-stream") == true {
            wanted["cache-control"] = ["no-cache"]
        }
        return wanted.sorted { $0.key < $1.key }.compactMap { name, values in
            headers[name] == values ? nil : "\(name): \(headers[name]), wanted \(values)"
        }
    }

    /// Runs `body` against a gateway whose four providers are one `SegmentingUpstream`, with the
    /// reference answer of each exchange (read while the upstream writes answers whole).
    static func withSegmentingGateway(
        _ body: (TestGateway, SegmentingUpstream, [String], UInt64) async throws -> Void
    ) async throws {
        let seed =
            ProcessInfo.processInfo.environment["SEGMENT_SEED"].flatMap { UInt64($0) } ?? .random(in: 0...(1 << 48))
        let upstream = try await SegmentingUpstream(seed: seed)
        var environment = ["ENABLE_RATE_LIMITING": "true", "MAX_TOKENS": "2000000000"]
        for provider in ["OPENAI", "GEMINI", "ANTHROPIC", "OLLAMA"] {
            environment["\(provider)_DOMAIN"] = "127.0.0.1"
            environment["\(provider)_PORT"] = String(upstream.port)
            environment["\(provider)_TLS"] = "false"
        }
        do {
            try await TestGateway.with(environment: environment) { gateway in
                upstream.cut(false)
                var references: [String] = []
                for exchange in exchanges {
                    let outcome = try await run(exchange, on: gateway, upstream: upstream)
                    #expect(outcome.body.hasPrefix("200 "), "\(exchange.name): \(outcome.body)")
                    #expect(outcome.headerProblems.isEmpty, "\(exchange.name): \(outcome.headerProblems)")
                    references.append(outcome.body)
                }
                upstream.cut(true)
                try await body(gateway, upstream, references, seed)
            }
        } catch {
            await upstream.stop()
            throw error
        }
        await upstream.stop()
    }

    /// Sends one exchange and reads its whole answer.
    static func run(
        _ exchange: Exchange, on gateway: TestGateway, upstream: SegmentingUpstream
    ) async throws
        -> Outcome
    {
        let id = "seg-\(UUID().uuidString)"
        var request = HTTPClientRequest(url: gateway.base + exchange.path)
        request.method = .POST
        request.headers.add(name: "x-request-id", value: id)
        request.headers.add(name: "authorization", value: "Bearer sk-segments")
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: exchange.body))
        // The absolute bound; a stall shows long before it, as lag.
        let response = try await gateway.client.execute(request, timeout: .seconds(30))
        let bytes = try await response.body.collect(upTo: 1 << 22)
        let done = ContinuousClock.now
        let text = "\(response.status.code) " + String(buffer: bytes)
        return Outcome(
            body: normalized(text), lag: upstream.written(id).map { done - $0 } ?? .zero,
            headerProblems: headerProblems(response.headers, id: id))
    }

    /// `text` with the values that differ between two answers to the same request (the ids and
    /// timestamps the gateway makes) blanked.
    static func normalized(_ text: String) -> String {
        text.replacing(/"(id|created)":("[^"]*"|[0-9]+)/) { "\"\($0.1)\":0" }
    }

    /// Runs `count` exchanges, `index` picking the kind, and checks each against its reference.
    /// Returns the failures, described, and the longest lag.
    static func check(
        _ indices: some Sequence<Int>, on gateway: TestGateway, upstream: SegmentingUpstream, references: [String]
    ) async -> (failures: [String], slowest: Duration) {
        var failures: [String] = []
        var slowest = Duration.zero
        for index in indices {
            let kind = index % exchanges.count
            do {
                let outcome = try await run(exchanges[kind], on: gateway, upstream: upstream)
                slowest = max(slowest, outcome.lag)
                if outcome.body != references[kind] {
                    failures.append("#\(index) \(exchanges[kind].name): answer differs: \(outcome.body.suffix(300))")
                } else if !outcome.headerProblems.isEmpty {
                    failures.append("#\(index) \(exchanges[kind].name): headers: \(outcome.headerProblems)")
                } else if outcome.lag > lateAfter {
                    failures.append("#\(index) \(exchanges[kind].name): late (\(outcome.lag) after the last byte)")
                }
            } catch {
                failures.append("#\(index) \(exchanges[kind].name): \(error)")
            }
        }
        return (failures, slowest)
    }

    @Test("700 sequential exchanges, every provider and shape, on fresh and reused upstream connections")
    func sequential() async throws {
        try await Self.withSegmentingGateway { gateway, upstream, references, seed in
            let before = upstream.server.connections
            let (failures, slowest) = await Self.check(0..<700, on: gateway, upstream: upstream, references: references)
            print("segmented answers: 700 sequential exchanges, seed \(seed), longest lag \(slowest)")
            #expect(
                failures.isEmpty,
                "seed \(seed): \(failures.count) of 700 failed (longest lag \(slowest)): \(failures.prefix(5))")
            // About one answer in ten closes its connection; the rest are reused.
            let opened = upstream.server.connections - before
            #expect(opened > 20 && opened < 200, "\(opened) upstream connections for 700 exchanges")
        }
    }

    @Test("1,600 exchanges from 16 concurrent clients, every provider and shape")
    func concurrent() async throws {
        try await Self.withSegmentingGateway { gateway, upstream, references, seed in
            let (failures, slowest) = await withTaskGroup(of: ([String], Duration).self) { group in
                for client in 0..<16 {
                    group.addTask {
                        await Self.check(
                            stride(from: client, to: 1_600, by: 16), on: gateway, upstream: upstream,
                            references: references)
                    }
                }
                return await group.reduce(into: ([String](), Duration.zero)) { $0 = ($0.0 + $1.0, max($0.1, $1.1)) }
            }
            print("segmented answers: 1,600 concurrent exchanges, seed \(seed), longest lag \(slowest)")
            #expect(
                failures.isEmpty,
                "seed \(seed): \(failures.count) of 1600 failed (longest lag \(slowest)): \(failures.prefix(5))")
            #expect(upstream.answers >= 1_600)
        }
    }
}
