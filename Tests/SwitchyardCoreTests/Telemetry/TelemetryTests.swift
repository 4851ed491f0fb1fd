import Testing

@testable import SwitchyardCore

@Suite("Trace facts: the answer's id, model and finish reasons; sampling settings; the OTEL settings")
struct TelemetryTests {
    @Test("Facts from a whole Chat Completions answer, and from the events of each API's stream")
    func answerFacts() {
        var chat = AnswerFacts()
        chat.observe(
            Array(
                #"{"id":"chatcmpl-1","model":"gpt-4o","choices":[{"finish_reason":"stop","message":{"content":"say \"id\":\"x\""}},{"finish_reason":"length"}]}"#
                    .utf8))
        #expect(chat.id == "chatcmpl-1" && chat.model == "gpt-4o" && chat.reasons == ["stop", "length"])

        var messages = AnswerFacts()
        for event in [
            #"event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","model":"claude-sonnet-4-5","stop_reason":null}}\n\n"#,
            #"event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"}}\n\n"#,
        ] { messages.observe(Array(event.utf8)) }
        #expect(messages.id == "msg_1" && messages.model == "claude-sonnet-4-5" && messages.reasons == ["end_turn"])

        var responses = AnswerFacts()
        for event in [
            #"data: {"type":"response.created","response":{"id":"resp_1","model":"gpt-4o","status":"in_progress"}}\n\n"#,
            #"data: {"type":"response.output_item.done","item":{"id":"msg_2","status":"completed"}}\n\n"#,
            #"data: {"type":"response.completed","response":{"id":"resp_1","output":[],"status":"completed"}}\n\n"#,
        ] { responses.observe(Array(event.utf8)) }
        #expect(responses.id == "resp_1" && responses.reasons == ["completed"])

        var spaced = AnswerFacts()
        spaced.observe(
            Array("data: {\"id\": \"chatcmpl-2\", \"model\" :\n \"gpt-4o\", \"finish_reason\": \"stop\"}".utf8))
        #expect(spaced.id == "chatcmpl-2" && spaced.model == "gpt-4o" && spaced.reasons == ["stop"])

        var nothing = AnswerFacts()
        nothing.observe(Array(#"{"id":"#.utf8))
        #expect(nothing.id == nil && nothing.reasons.isEmpty)
    }

    @Test("Sampling settings from the top level of any client API's body")
    func sampling() {
        let chat = SamplingParameters(body: Array(#"{"max_tokens":50,"temperature":0.5,"top_p":1}"#.utf8))
        #expect(chat == SamplingParameters(maxTokens: 50, temperature: 0.5, topP: 1))
        let responses = SamplingParameters(body: Array(#"{"max_output_tokens":7,"input":"hi"}"#.utf8))
        #expect(responses.maxTokens == 7 && responses.temperature == nil)
        #expect(SamplingParameters(body: Array("not json".utf8)) == SamplingParameters(maxTokens: nil))
    }

    @Test("Tracing is off without an endpoint; the OTEL settings are read as the specification names them")
    func settings() throws {
        #expect(try !ConfigLoader(environment: [:]).load().tracing.enabled)
        let on = try ConfigLoader(environment: [
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SERVICE_NAME": "edge",
            "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod,team=ml%20ops",
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.01",
            "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20abc",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
        ]).load().tracing
        #expect(on.enabled && on.endpoint == "http://collector:4318" && !on.endpointIsFull)
        #expect(
            on.serviceName == "edge" && on.resourceAttributes == ["deployment.environment": "prod", "team": "ml ops"])
        #expect(on.sampler == "parentbased_traceidratio" && on.samplerRatio == 0.01 && on.wireProtocol == "http/json")
        #expect(on.headers.map(\.0) == ["authorization"] && on.headers.map(\.1) == ["Bearer abc"])
        #expect(!on.captureContent)
        let full = try ConfigLoader(environment: ["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://x/traces"]).load()
        #expect(full.tracing.endpointIsFull && full.tracing.serviceName == "switchyard")
        for off in [["OTEL_SDK_DISABLED": "true"], ["OTEL_TRACES_EXPORTER": "none"]] {
            let environment = off.merging(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"]) { $1 }
            #expect(try !ConfigLoader(environment: environment).load().tracing.enabled)
        }
        for bad in [
            ["OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"],
            ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"],
            ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_TRACES_SAMPLER": "sometimes"],
            ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_TRACES_SAMPLER_ARG": "2"],
            ["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c", "OTEL_RESOURCE_ATTRIBUTES": "novalue"],
            ["OTEL_TRACES_EXPORTER": "zipkin"],
        ] {
            #expect(throws: ConfigError.self) { try ConfigLoader(environment: bad).load() }
        }
        let path = try TemporaryFile.write(
            "otel_exporter_otlp_endpoint: http://from-file:4318\notel_instrumentation_genai_capture_message_content: true\n",
            suffix: ".yaml")
        let file = try ConfigLoader(environment: [:], configPath: path).load().tracing
        #expect(file.endpoint == "http://from-file:4318" && file.captureContent)
    }
}
