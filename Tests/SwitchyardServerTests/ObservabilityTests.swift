import Foundation
import Logging
import NIOCore
import SwitchyardCore
import SwitchyardServer
import Synchronization
import Testing

/// Every log line written, whatever its level.
final class LogCapture: Sendable {
    let lines = Mutex<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "switchyard-test") { _ in Handler(capture: self) }
        logger.logLevel = .trace
        return logger
    }

    struct Handler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let fields = metadata.merging(event.metadata ?? [:]) { $1 }
            let line = "\(event.level) \(event.message) " + fields.map { "\($0)=\($1)" }.sorted().joined(separator: " ")
            capture.lines.withLock { $0.append(line) }
        }
    }
}

/// Metrics after real traffic, parsed as exposition format, and what the logs say (and never say).
@Suite("Observability", .timeLimit(.minutes(1)))
struct ObservabilityTests {
    static let chat = "/v1/chat/completions"

    @Test("Each metric equals the traffic sent")
    func metricsMatchTraffic() async throws {
        let environment = ["ENABLE_RATE_LIMITING": "true", "MAX_TOKENS": "40", "UPSTREAM_MAX_RETRIES": "0"]
        try await TestGateway.with(environment: environment) { gw in
            let chat = "/v1/chat/completions"
            var statuses: [Int] = []
            for _ in 0..<5 {  // 4 fit alice's 40 tokens (8 reserved, 10 spent each), the 5th does not
                statuses.append(
                    try await gw.send(chat, body: TestGateway.chatBody(model: "gpt-4o"), headers: [("user", "alice")])
                        .status)
            }
            #expect(statuses == [200, 200, 200, 200, 429])
            let stream = try await gw.send(
                chat, body: TestGateway.chatBody(model: "gpt-4o", stream: true), headers: [("user", "bob")])
            #expect(stream.status == 200 && stream.body.hasSuffix("data: [DONE]\n\n"))
            #expect(try await gw.send(chat, body: TestGateway.chatBody(model: "gpt-fail-500")).status == 500)
            #expect(try await gw.send(chat, body: TestGateway.chatBody(model: "gpt-garbage")).status == 502)
            #expect(
                try await gw.send("/v1/embeddings", body: #"{"model":"text-embedding-3-small","input":"x"}"#).status
                    == 200)

            let m = try await gw.scrape()
            let openai = ["route": "chat", "provider": "openai"]
            #expect(
                m.value("switchyard_requests_total", ["model": "gpt-4o", "status": "200", "status_class": "2xx"]) == 5)
            #expect(
                m.value("switchyard_requests_total", ["model": "gpt-4o", "status": "429", "status_class": "4xx"]) == 1)
            #expect(m.value("switchyard_requests_total", ["model": "gpt-fail-500", "status_class": "5xx"]) == 1)
            #expect(m.value("switchyard_requests_total", ["model": "gpt-garbage", "status": "502"]) == 1)
            #expect(m.value("switchyard_requests_total", ["route": "embeddings", "status": "200"]) == 1)
            #expect(m.value("switchyard_requests_total") == 9)
            // Tokens as the provider reported them: 4 answers of 7 + 3, one stream of 7 + 5.
            #expect(m.value("switchyard_prompt_tokens_total", ["provider": "openai", "model": "gpt-4o"]) == 35)
            #expect(m.value("switchyard_completion_tokens_total", ["provider": "openai", "model": "gpt-4o"]) == 17)
            #expect(m.value("switchyard_rate_limited_requests_total", ["provider": "openai"]) == 1)
            #expect(m.value("switchyard_upstream_errors_total", ["provider": "openai", "kind": "status"]) == 1)
            #expect(m.value("switchyard_upstream_errors_total", ["provider": "openai", "kind": "decode"]) == 1)
            #expect(m.value("switchyard_upstream_errors_total") == 2)
            // Histograms: one observation per request, per upstream answer, per stream.
            #expect(m.types["switchyard_request_duration_seconds"] == "histogram")
            #expect(m.value("switchyard_request_duration_seconds_count", openai) == 8)
            #expect(m.value("switchyard_request_duration_seconds_bucket", openai.merging(["le": "+Inf"]) { $1 }) == 8)
            #expect(m.value("switchyard_gateway_overhead_seconds_count", ["route": "chat"]) == 8)
            #expect(m.value("switchyard_gateway_overhead_seconds_count", ["route": "embeddings"]) == 1)
            #expect(
                m.value("switchyard_gateway_overhead_seconds_sum", ["route": "chat"])
                    < m.value("switchyard_request_duration_seconds_sum", openai))
            #expect(m.value("switchyard_upstream_latency_seconds_count", ["provider": "openai"]) == 8)
            #expect(m.value("switchyard_time_to_first_token_seconds_count", ["provider": "openai"]) == 1)
            #expect(m.value("switchyard_requests_in_flight") == 0 && m.has("switchyard_requests_in_flight"))
            #expect(m.value("switchyard_streams_in_flight") == 0 && m.has("switchyard_streams_in_flight"))
            #expect(!m.has("switchyard_usage_estimated_total"))
            // Every metric the shipped dashboard queries is one the gateway exports.
            let dashboard = try String(
                contentsOfFile: #filePath.replacingOccurrences(
                    of: "Tests/SwitchyardServerTests/ObservabilityTests.swift", with: "deploy/grafana-dashboard.json"),
                encoding: .utf8)
            let queried = Set(
                dashboard.matches(of: /switchyard_[a-z_]+/).map {
                    String($0.output).replacing(/_(bucket|sum|count)$/, with: "")
                })
            #expect(queried.count >= 10)
            // (Estimated settlements are labelled by provider, so that series appears with the first one.)
            let missing = queried.subtracting(m.types.keys).subtracting(["switchyard_usage_estimated_total"])
            #expect(missing.isEmpty, "not exported: \(missing)")
            #expect(
                m.value("switchyard_ratelimit_store_errors_total") == 0
                    && m.has("switchyard_ratelimit_store_errors_total"))
            // No label carries a user.
            #expect(!m.samples.contains { $0.labels.values.contains { $0.contains("alice") || $0.contains("bob") } })
        }
    }

    @Test("Every API request is recorded however it ends (listed, refused, unknown); probes are not")
    func everyRequestRecorded() async throws {
        try await TestGateway.with(environment: ["MAX_CONCURRENT_REQUESTS": "1"]) { gw in
            #expect(try await gw.send("/v1/models", method: .GET).status == 200)
            #expect(try await gw.send("/v1/nothing-here", method: .GET).status == 404)
            #expect(try await gw.send("/health", method: .GET).status == 200)
            #expect(try await gw.send("/ready", method: .GET).status == 200)
            // One request holds the only slot; the next is refused.
            async let held = gw.send(Self.chat, body: TestGateway.chatBody(model: "gpt-slow-head"))
            let start = ContinuousClock.now
            while try await gw.scrape().value("switchyard_requests_in_flight") < 1, .now - start < .seconds(2) {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(try await gw.send(Self.chat, body: TestGateway.chatBody(model: "gpt-4o")).status == 503)
            #expect(try await held.status == 200)
            let m = try await gw.scrape()
            #expect(m.value("switchyard_requests_total", ["route": "models", "status": "200"]) == 1)
            #expect(m.value("switchyard_requests_total", ["route": "unknown", "status": "404"]) == 1)
            #expect(m.value("switchyard_requests_total", ["route": "chat", "status": "503"]) == 1)
            #expect(m.value("switchyard_requests_total", ["route": "chat", "status": "200"]) == 1)
            #expect(m.value("switchyard_requests_total") == 4)
            #expect(m.value("switchyard_requests_in_flight") == 0)
        }
    }

    @Test("One log line per request with its measurements; no key at any level, the user only hashed")
    func requestLogAndNoSecrets() async throws {
        let secrets = ["sk-gw-TOPSECRET-team", "sk-gw-TOPSECRET-wrong", "sk-prov-TOPSECRET"]
        let yaml = """
            gateway_keys:
              - name: team
                sha256: \(Hashing.sha256Hex(secrets[0]))
            """
        let capture = LogCapture()
        try await TestGateway.with(
            yaml: yaml, environment: ["OPENAI_API_KEY": secrets[2], "ENABLE_RATE_LIMITING": "true"],
            logger: capture.logger
        ) { gw in
            let chat = "/v1/chat/completions"
            let team = [("authorization", "Bearer \(secrets[0])"), ("user", "alice@example.com")]
            var statuses: [Int] = []
            for (model, stream) in [("gpt-4o", false), ("gpt-4o", true), ("gpt-fail-500", false)] {
                let body = TestGateway.chatBody(model: model, stream: stream)
                statuses.append(try await gw.send(chat, body: body, headers: team).status)
            }
            let wrong = [("x-api-key", secrets[1])]
            statuses.append(try await gw.send(chat, body: TestGateway.chatBody(model: "gpt-4o"), headers: wrong).status)
            statuses.append(try await gw.send("/v1/models", method: .GET, headers: team).status)
            #expect(statuses == [200, 200, 500, 401, 200])
        }
        let lines = capture.lines.withLock { $0 }
        #expect(lines.count > 5)
        for secret in secrets + ["TOPSECRET", "alice@example.com"] {
            #expect(!lines.contains { $0.contains(secret) }, "\(secret) was logged")
        }
        let requests = lines.filter { $0.hasPrefix("info request ") }
        #expect(requests.count == 5)  // two answers, the 500, the 401 and the model list
        #expect(requests.contains { $0.contains("status=401") && $0.contains("provider=none") })
        #expect(requests.contains { $0.contains("route=models") && $0.contains("status=200") })
        let streamed = try #require(requests.first { $0.contains("ttft_ms=") })
        for field in [
            "request_id=req_", "route=chat", "provider=openai", "model=gpt-4o", "status=200", "latency_ms=",
            "upstream_ms=", "tokens_in=7", "tokens_out=5",
            "user=\(Hashing.sha256Hex("key:team/user:alice@example.com").prefix(16))",
        ] {
            #expect(streamed.contains(field), "\(field) missing from \(streamed)")
        }
    }

    @Test("Text logs are one line per event: time, level, logger, message, sorted metadata, control characters escaped")
    func textLines() throws {
        let written = Mutex<[String]>([])
        var logger = Logger(label: "switchyard") { label in
            LineLogHandler(label: label, format: .text, sink: .init { line in written.withLock { $0.append(line) } })
        }
        logger.logLevel = .info
        logger[metadataKey: "instance"] = "a"
        logger.warning("upstream\nfailed", metadata: ["status": "502", "model": "gpt\r\n4o\u{1B}"])
        logger.debug("not written at info")
        let lines = written.withLock { $0 }
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.filter { $0 == "\n" || $0 == "\r" }.count == 1 && line.hasSuffix("\n"))
        let parts = line.dropLast().split(separator: " ", maxSplits: 3).map(String.init)
        #expect(parts.count == 4)
        #expect(parts[0].hasSuffix("Z") && parts[1] == "warning" && parts[2] == "switchyard:")
        #expect(parts.last == #"upstream\nfailed instance=a model=gpt\r\n4o\u001b status=502"#)
    }

    @Test("LOG_FORMAT=json writes one JSON object per line, metadata as fields, escaped")
    func jsonLines() throws {
        let written = Mutex<[String]>([])
        var logger = Logger(label: "switchyard") { label in
            LineLogHandler(label: label, format: .json, sink: .init { line in written.withLock { $0.append(line) } })
        }
        logger[metadataKey: "instance"] = "a"
        logger.info("request \"quoted\"", metadata: ["status": "200", "model": "gpt\n4o"])
        logger.debug("not written at info")
        let lines = written.withLock { $0 }
        #expect(lines.count == 1 && lines[0].hasSuffix("}\n") && lines[0].filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: String])
        #expect(
            object["message"] == "request \"quoted\"" && object["level"] == "info" && object["logger"] == "switchyard")
        #expect(object["status"] == "200" && object["model"] == "gpt\n4o" && object["instance"] == "a")
        #expect(object["ts"]?.hasSuffix("Z") == true)
    }
}
