"""OpenTelemetry traces, received by a real OTLP/HTTP receiver (decoded with the
`opentelemetry-proto` package): one trace per request with the generative-AI attributes, an
attempt span per upstream try (retries and fallbacks), a client's `traceparent` continued and
the attempt's context sent upstream, no prompt text unless asked, nothing without an endpoint,
and a collector that is down costing requests nothing."""
import time

import openai
import pytest

from conftest import MockOpenAI, free_port, start_gateway

HI = [{"role": "user", "content": "Hi"}]
SERVER, CLIENT = 2, 3  # OTLP span kinds


def traced(binary, upstream, otlp, tmp_path, extra=None, yaml=""):
    port = upstream.server_address[1]
    config = tmp_path / "switchyard.yaml"
    config.write_text(
        f"providers:\n  - name: mock\n    kind: openai\n    base_url: http://127.0.0.1:{port}/v1\n"
        "    api_key_env: MOCK_KEY\n"
        "routes:\n  - match: traced-model\n    provider: mock\n    model: gpt-broken\n"
        "    fallbacks:\n      - {provider: mock, model: gpt-4o}\n" + yaml)
    env = {"SWITCHYARD_CONFIG": str(config), "MOCK_KEY": "sk-mock", "ALLOW_UNAUTHENTICATED": "true",
           "UPSTREAM_MAX_RETRIES": "0", "OTEL_BSP_SCHEDULE_DELAY": "100"}
    if otlp is not None:
        env["OTEL_EXPORTER_OTLP_ENDPOINT"] = f"http://127.0.0.1:{otlp.server_address[1]}"
    env.update(extra or {})
    return start_gateway(binary, port, env)


def client(gw, **options):
    return openai.OpenAI(base_url=gw.base_url, api_key="sk-client", max_retries=0, timeout=20, **options)


def wait_for_spans(receiver_spans, count, seconds=10):
    deadline = time.time() + seconds
    while len(receiver_spans) < count and time.time() < deadline:
        time.sleep(0.05)
    return receiver_spans


def test_a_streamed_request_that_falls_back_once_is_one_trace_with_two_attempts(binary, upstream, otlp, tmp_path):
    from conftest import OTLPReceiver
    # Batches every minute: the spans arrive only because graceful shutdown flushes them.
    gw = traced(binary, upstream, otlp, tmp_path, {"OTEL_SERVICE_NAME": "gateway-under-test",
                                                   "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=test",
                                                   "OTEL_BSP_SCHEDULE_DELAY": "60000"})
    try:
        stream = client(gw).chat.completions.create(
            model="traced-model", messages=HI, stream=True, max_tokens=50, temperature=0.5, top_p=0.9)
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert text == "one two three four five"
        time.sleep(0.5)
        assert OTLPReceiver.spans == []
    finally:
        gw.stop()  # graceful shutdown flushes the spans
    spans = OTLPReceiver.spans
    servers = [s for s in spans if s["kind"] == SERVER]
    assert len(servers) == 1, spans
    server = servers[0]
    attempts = sorted((s for s in spans if s["kind"] == CLIENT), key=lambda s: s["attributes"]["switchyard.attempt"])
    assert len(attempts) == 2
    assert {s["trace_id"] for s in spans} == {server["trace_id"]}
    assert all(a["parent_span_id"] == server["span_id"] for a in attempts)
    assert server["parent_span_id"] == ""

    a = server["attributes"]
    assert server["name"] == "chat traced-model"
    assert a["gen_ai.operation.name"] == "chat" and a["gen_ai.request.model"] == "traced-model"
    assert a["gen_ai.provider.name"] == "openai" and a["switchyard.provider"] == "mock"
    assert a["gen_ai.request.max_tokens"] == 50 and a["gen_ai.request.temperature"] == 0.5
    assert a["gen_ai.request.top_p"] == 0.9
    assert a["gen_ai.usage.input_tokens"] > 0 and a["gen_ai.usage.output_tokens"] > 0
    assert a["gen_ai.response.model"] == "gpt-4o" and a["gen_ai.response.finish_reasons"] == ["stop"]
    assert a["gen_ai.response.id"] and a["http.response.status_code"] == 200
    assert a["switchyard.route"] == "chat" and "error.type" not in a
    assert [name for name, _ in server["events"]] == ["gen_ai.first_token"]
    assert server["resource"]["service.name"] == "gateway-under-test"
    assert server["resource"]["deployment.environment"] == "test"

    failed, answered = attempts
    assert failed["name"] == "chat gpt-broken" and answered["name"] == "chat gpt-4o"
    assert failed["attributes"]["switchyard.attempt.next"] == "next_deployment"
    assert failed["attributes"]["error.type"] and failed["status"] == 2  # STATUS_CODE_ERROR
    assert answered["attributes"]["http.response.status_code"] == 200 and "error.type" not in answered["attributes"]
    assert answered["attributes"]["server.address"] == "127.0.0.1"
    assert answered["attributes"]["gen_ai.provider.name"] == "openai"


def test_a_client_trace_is_continued_and_the_attempt_context_goes_upstream(binary, upstream, otlp, tmp_path):
    from conftest import OTLPReceiver
    gw = traced(binary, upstream, otlp, tmp_path)
    trace_id, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    try:
        MockOpenAI.seen.clear()
        c = client(gw, default_headers={"traceparent": f"00-{trace_id}-{parent}-01"})
        c.chat.completions.create(model="gpt-4o-mini", messages=HI)
    finally:
        gw.stop()
    server = next(s for s in OTLPReceiver.spans if s["kind"] == SERVER)
    attempt = next(s for s in OTLPReceiver.spans if s["kind"] == CLIENT)
    assert server["trace_id"] == trace_id and server["parent_span_id"] == parent
    sent = MockOpenAI.seen[-1]["headers"]
    traceparent = {k.lower(): v for k, v in sent.items()}["traceparent"]
    assert traceparent == f"00-{trace_id}-{attempt['span_id']}-01"


def test_retries_are_attempts_of_their_own(binary, upstream, otlp, tmp_path):
    from conftest import OTLPReceiver
    gw = traced(binary, upstream, otlp, tmp_path, {"UPSTREAM_MAX_RETRIES": "1"})
    try:
        with pytest.raises(openai.InternalServerError):
            client(gw).chat.completions.create(model="gpt-broken", messages=HI)
    finally:
        gw.stop()
    attempts = [s for s in OTLPReceiver.spans if s["kind"] == CLIENT]
    assert [s["attributes"]["switchyard.attempt.next"] for s in attempts] == ["retry", "next_deployment"]
    server = next(s for s in OTLPReceiver.spans if s["kind"] == SERVER)
    assert server["attributes"]["http.response.status_code"] == 500 and server["attributes"]["error.type"]
    assert server["status"] == 2


def test_prompt_text_is_recorded_only_when_asked_and_capped(binary, upstream, otlp, tmp_path):
    from conftest import OTLPReceiver
    words = "the-secret-prompt-words " * 20
    gw = traced(binary, upstream, otlp, tmp_path)
    try:
        client(gw).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": words}])
    finally:
        gw.stop()
    assert OTLPReceiver.spans and "the-secret-prompt-words" not in repr(OTLPReceiver.spans)

    OTLPReceiver.spans.clear()
    gw = traced(binary, upstream, otlp, tmp_path, {"OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT": "true",
                                                   "TRACE_CONTENT_MAX_BYTES": "400"})
    try:
        client(gw).chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": words}])
    finally:
        gw.stop()
    server = next(s for s in OTLPReceiver.spans if s["kind"] == SERVER)
    details = dict(server["events"])["gen_ai.client.inference.operation.details"]
    assert "the-secret-prompt-words" in details["gen_ai.input.messages"]
    assert len(details["gen_ai.input.messages"].encode()) <= 400 + 3 < len(words)
    assert "Hello from the mock" in details["gen_ai.output.messages"]


def test_budgets_decisions_are_events_and_json_export_works(binary, upstream, otlp, tmp_path):
    from conftest import OTLPReceiver
    gw = traced(binary, upstream, otlp, tmp_path, {"ENABLE_RATE_LIMITING": "true", "MAX_TOKENS": "40",
                                                   "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"})
    try:
        c = client(gw)
        c.chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=5)
        with pytest.raises(openai.RateLimitError):
            c.chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=500)
    finally:
        gw.stop()
    assert OTLPReceiver.requests and all(r["json"] for r in OTLPReceiver.requests)
    assert all(r["path"] == "/v1/traces" for r in OTLPReceiver.requests)
    decisions = [dict(s["events"]).get("switchyard.rate_limit", {}).get("switchyard.rate_limit.decision")
                 for s in OTLPReceiver.spans if s["kind"] == SERVER]
    assert sorted(decisions) == ["admitted", "refused"]
    refused = next(s for s in OTLPReceiver.spans if s["kind"] == SERVER and s["attributes"]["http.response.status_code"] == 429)
    assert refused["attributes"]["error.type"] and refused["status"] != 2  # a 4xx is not a server error


def test_nothing_is_sent_without_an_endpoint_or_when_sampled_out(binary, upstream, otlp, tmp_path):
    from conftest import OTLPReceiver
    gw = traced(binary, upstream, None, tmp_path)
    try:
        client(gw).chat.completions.create(model="gpt-4o-mini", messages=HI)
    finally:
        gw.stop()
    gw = traced(binary, upstream, otlp, tmp_path, {"OTEL_TRACES_SAMPLER": "traceidratio",
                                                   "OTEL_TRACES_SAMPLER_ARG": "0"})
    try:
        client(gw).chat.completions.create(model="gpt-4o-mini", messages=HI)
    finally:
        gw.stop()
    assert OTLPReceiver.requests == [] and OTLPReceiver.spans == []


def test_a_collector_that_is_down_costs_requests_nothing(binary, upstream, tmp_path):
    closed = free_port()
    gw = traced(binary, upstream, None, tmp_path, {"OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{closed}",
                                                   "OTEL_BSP_EXPORT_TIMEOUT": "1000", "LOG_LEVEL": "warning"})
    try:
        c = client(gw)
        started = time.time()
        for _ in range(20):
            c.chat.completions.create(model="gpt-4o-mini", messages=HI)
        assert time.time() - started < 5
        deadline = time.time() + 15
        dropped = 0.0
        while dropped == 0 and time.time() < deadline:
            for line in gw.metrics().splitlines():
                if line.startswith("switchyard_trace_spans_dropped_total"):
                    dropped = float(line.rsplit(" ", 1)[1])
            time.sleep(0.2)
        assert dropped > 0
    finally:
        gw.stop()
    assert gw.process.returncode == 0
