"""The Anthropic Messages API as a front door, driven by the official `anthropic` SDK against the
four providers' strict mocks (OpenAI, Gemini, Anthropic, Ollama): text, streams, a tool round trip,
images and system prompts, errors as typed exceptions, and `count_tokens`."""
import hashlib
import http.server
import json
import re
import threading
import time
import urllib.error
import urllib.request

import anthropic
import pytest

from conftest import free_port, start_gateway
from native_mock import NativeMock

MODELS = {"openai": "gpt-4o", "gemini": "gemini-2.0-flash", "anthropic": "claude-3-5-haiku-latest",
          "ollama": "llama3.2"}
GREETING = {"openai": "Hello from OpenAI", "gemini": "Hello from Gemini", "anthropic": "Hello from Claude",
            "ollama": "Hello from Ollama"}
WEATHER = {"name": "get_weather", "description": "Current weather",
           "input_schema": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object",
                            "additionalProperties": False, "properties": {"city": {"type": "string"}},
                            "required": ["city"]}}
PIXEL = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
GATEWAY_KEY = "sk-gateway-e2e"


@pytest.fixture(scope="module")
def native(binary, tmp_path_factory):
    """A gateway with a gateway key in front of the four mocks, which hold server-side keys."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), NativeMock)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = str(server.server_address[1])
    config = tmp_path_factory.mktemp("anthropic") / "switchyard.yaml"
    config.write_text(f"gateway_keys:\n  - name: team\n    sha256: {hashlib.sha256(GATEWAY_KEY.encode()).hexdigest()}\n")
    env = {"SWITCHYARD_CONFIG": str(config), "OPENAI_API_KEY": "o-server", "GEMINI_API_KEY": "g-server",
           "ANTHROPIC_API_KEY": "a-server", "MAX_CONCURRENT_REQUESTS": "0"}
    for name in ("OPENAI", "GEMINI", "ANTHROPIC", "OLLAMA"):
        env.update({f"{name}_DOMAIN": "127.0.0.1", f"{name}_PORT": port, f"{name}_TLS": "false"})
    gateway = start_gateway(binary, int(port), env)
    gateway.root = gateway.base_url[:-len("/v1")]
    yield gateway
    gateway.process.terminate()
    gateway.process.wait(timeout=20)
    server.shutdown()
    NativeMock.seen.clear()  # the record is shared with the other modules that use the mock


def post(url, headers, body):
    """A raw POST: (status, headers, text)."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers=dict(headers, **{"content-type": "application/json"}))
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def client(gateway, **options):
    return anthropic.Anthropic(base_url=gateway.root, api_key=GATEWAY_KEY, max_retries=0, timeout=20, **options)


@pytest.mark.parametrize("provider", MODELS)
def test_message(native, provider):
    m = client(native).messages.create(model=MODELS[provider], max_tokens=64, system="Be brief.",
                                        messages=[{"role": "user", "content": "Say hi"}])
    assert m.id.startswith("msg_") and m.type == "message" and m.role == "assistant"
    assert m.model == MODELS[provider]
    assert [b.type for b in m.content] == ["text"] and m.content[0].text == GREETING[provider]
    assert m.stop_reason == "end_turn"
    assert m.usage.input_tokens > 0 and m.usage.output_tokens > 0


@pytest.mark.parametrize("provider", MODELS)
def test_stream(native, provider):
    with client(native).messages.stream(model=MODELS[provider], max_tokens=64,
                                        messages=[{"role": "user", "content": "Say hi"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text.strip() == GREETING[provider]
    assert final.content[0].text == text and final.stop_reason == "end_turn"
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0


@pytest.mark.parametrize("provider", MODELS)
def test_raw_events_are_in_order(native, provider):
    """Every event has its `event:` line; blocks are started before their deltas and stopped once."""
    status, headers, text = post(f"{native.root}/v1/messages",
                                 {"x-api-key": GATEWAY_KEY, "anthropic-version": "2023-06-01"},
                                 {"model": MODELS[provider], "max_tokens": 64, "stream": True,
                                  "messages": [{"role": "user", "content": "Say hi"}]})
    assert status == 200 and headers["content-type"].startswith("text/event-stream")
    events = [block for block in text.split("\n\n") if block.strip()]
    names = []
    started, stopped = set(), set()
    for block in events:
        lines = block.split("\n")
        assert lines[0].startswith("event: "), block
        name, data = lines[0][len("event: "):], json.loads(lines[1][len("data: "):])
        assert data["type"] == name
        names.append(name)
        if name == "content_block_start":
            assert data["index"] == len(started)
            started.add(data["index"])
        if name == "content_block_delta":
            assert data["index"] in started and data["index"] not in stopped
        if name == "content_block_stop":
            assert data["index"] not in stopped
            stopped.add(data["index"])
    assert names[0] == "message_start" and names[-1] == "message_stop" and names[-2] == "message_delta"
    assert started == stopped


@pytest.mark.parametrize("provider", MODELS)
@pytest.mark.parametrize("stream", [False, True])
def test_tool_round_trip(native, provider, stream):
    c = client(native)
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    request = dict(model=MODELS[provider], max_tokens=256, tools=[WEATHER],
                   tool_choice={"type": "tool", "name": "get_weather"}, messages=messages)
    if stream:
        with c.messages.stream(**request) as s:
            first = s.get_final_message()
    else:
        first = c.messages.create(**request)
    assert first.stop_reason == "tool_use"
    call = [b for b in first.content if b.type == "tool_use"][0]
    assert re.fullmatch(r"[a-zA-Z0-9_-]+", call.id), call.id
    assert call.name == "get_weather" and call.input == {"city": "Paris"}
    for is_error in (False, True):
        follow = messages + [
            {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "is_error": is_error,
                                          "content": json.dumps({"temp": 21})}]}]
        final = c.messages.create(model=MODELS[provider], max_tokens=256, tools=[WEATHER], messages=follow)
        assert final.stop_reason == "end_turn" and final.content[0].text == "It is 21 degrees."


@pytest.mark.parametrize("provider", ["openai", "gemini", "ollama"])
def test_system_blocks_image_long_tool_name(native, provider):
    long_name = "mcp__filesystem_server__read_a_file_with_a_rather_long_name_indeed_ok"
    assert len(long_name) > 64
    tool = dict(WEATHER, name=long_name)
    m = client(native).messages.create(
        model=MODELS[provider], max_tokens=64, tools=[tool], tool_choice={"type": "tool", "name": long_name},
        system=[{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}},
            {"type": "text", "text": "Weather in Paris?", "cache_control": {"type": "ephemeral"}}]}])
    assert m.stop_reason == "tool_use"
    if provider == "openai":  # its mock calls the tool it was given, by the name it was given
        assert [b.name for b in m.content if b.type == "tool_use"] == [long_name]


def test_anthropic_upstream_is_passed_through(native):
    """Same family: the body goes to Anthropic as sent (model renamed), with the client's version
    and beta headers, and the answer comes back as Anthropic wrote it."""
    before = len(NativeMock.seen)
    m = client(native).beta.messages.create(model=MODELS["anthropic"], max_tokens=64, betas=["interleaved-thinking-2025-05-14"],
                                            messages=[{"role": "user", "content": "Say hi"}])
    assert m.content[0].text == "Hello from Claude" and m.id == "msg_1"
    sent = NativeMock.seen[before:]
    assert [s["path"] for s in sent] == ["/v1/messages"]
    assert sent[0]["headers"].get("anthropic-beta") == "interleaved-thinking-2025-05-14"
    assert sent[0]["headers"].get("x-api-key") == "a-server"


def test_errors_are_typed(native):
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(base_url=native.root, api_key="wrong", max_retries=0).messages.create(
            model="gpt-4o", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    # Bearer credentials (auth_token) are accepted as well.
    m = anthropic.Anthropic(base_url=native.root, auth_token=GATEWAY_KEY, max_retries=0).messages.create(
        model="gpt-4o", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    assert m.content[0].text == GREETING["openai"]
    status, _, text = post(f"{native.root}/v1/messages", {"x-api-key": GATEWAY_KEY},
                           {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]})
    assert status == 400
    body = json.loads(text)
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in body["error"]["message"]
    with pytest.raises(anthropic.BadRequestError):
        client(native).messages.create(model="gpt-4o", max_tokens=8, messages=[{"role": "user", "content": [
            {"type": "document", "source": {"type": "url", "url": "https://example.com/a.pdf"}}]}])
    # A provider's context overflow in the words Claude Code compacts on.
    with pytest.raises(anthropic.BadRequestError) as overflow:
        client(native).messages.create(model="gpt-overflow", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    assert overflow.value.body["error"]["message"] == "prompt is too long: 130512 tokens > 128000 maximum"


def test_count_tokens(native):
    c = client(native)
    before = len(NativeMock.seen)
    messages = [{"role": "user", "content": "What is the weather like in Paris today?"}]
    plain = c.messages.count_tokens(model="gpt-4o", messages=messages).input_tokens
    with_system = c.messages.count_tokens(model="gpt-4o", messages=messages, system="Be brief and exact.").input_tokens
    with_tools = c.messages.count_tokens(model="gpt-4o", messages=messages, system="Be brief and exact.",
                                         tools=[WEATHER]).input_tokens
    assert 0 < plain < with_system < with_tools
    assert c.messages.count_tokens(model="gemini-2.0-flash", messages=messages).input_tokens > 0
    assert len(NativeMock.seen) == before, "count_tokens went upstream"
    # A route to Anthropic asks Anthropic's count.
    assert c.messages.count_tokens(model=MODELS["anthropic"], messages=messages).input_tokens == 42
    assert [s["path"] for s in NativeMock.seen[before:]] == ["/v1/messages/count_tokens"]


def test_models_in_anthropic_shape_and_request_id(native):
    page = client(native).models.list()
    ids = [m.id for m in page.data]
    assert "claude-3-5-haiku-latest" in ids and all(m.type == "model" for m in page.data)
    raw = client(native).messages.with_raw_response.create(
        model="gpt-4o", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
    assert raw.headers["request-id"].startswith("req_")


def test_openai_side_unchanged(native):
    import openai
    completion = openai.OpenAI(base_url=native.base_url, api_key=GATEWAY_KEY, max_retries=0).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert completion.choices[0].message.content == "Hello from OpenAI"


def test_budgets_apply(binary, upstream):
    gw = start_gateway(binary, upstream.server_address[1], {"ENABLE_RATE_LIMITING": "true", "MAX_REQUESTS": "1"})
    try:
        c = anthropic.Anthropic(base_url=gw.base_url[:-len("/v1")], api_key="sk-e2e", max_retries=0, timeout=20)
        c.messages.create(model="gpt-4o", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(anthropic.RateLimitError) as refused:
            c.messages.create(model="gpt-4o", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
        assert int(refused.value.response.headers["retry-after"]) > 0
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{gw.metrics_port}/metrics", timeout=5).read().decode()
        assert re.search(r'switchyard_requests_total\{[^}]*route="messages"[^}]*status="429"', metrics)
    finally:
        gw.process.terminate()
        gw.process.wait(timeout=20)


def test_overload_is_529_and_a_cut_stream_raises(binary, upstream):
    gw = start_gateway(binary, upstream.server_address[1], {"MAX_CONCURRENT_REQUESTS": "1"})
    try:
        c = anthropic.Anthropic(base_url=gw.base_url[:-len("/v1")], api_key="sk-e2e", max_retries=0, timeout=20)
        held = threading.Thread(target=lambda: c.messages.create(
            model="gpt-hang", max_tokens=8, messages=[{"role": "user", "content": "hi"}]))
        held.start()
        time.sleep(0.5)
        with pytest.raises(anthropic.OverloadedError):
            c.messages.create(model="gpt-4o", max_tokens=8, messages=[{"role": "user", "content": "hi"}])
        held.join()
        with pytest.raises(anthropic.APIStatusError):
            with c.messages.stream(model="gpt-cut", max_tokens=8, messages=[{"role": "user", "content": "hi"}]) as s:
                "".join(s.text_stream)
    finally:
        gw.process.terminate()
        gw.process.wait(timeout=20)
