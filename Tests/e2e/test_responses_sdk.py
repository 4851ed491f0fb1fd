"""The OpenAI Responses API as a front door, driven by the official `openai` SDK against the four
providers' strict mocks: OpenAI serves `/v1/responses` itself (passed through), the others are
translated. Text, streams, a function-call round trip, kept responses and `previous_response_id`
(also across two instances sharing Redis), `text.format`, errors as typed exceptions."""
import hashlib
import http.server
import json
import threading
import urllib.request

import openai
import pytest

from conftest import free_port, start_gateway
from native_mock import NativeMock

MODELS = {"openai": "gpt-4o", "gemini": "gemini-2.0-flash", "anthropic": "claude-3-5-haiku-latest",
          "ollama": "llama3.2"}
GREETING = {"openai": "Hello from OpenAI", "gemini": "Hello from Gemini", "anthropic": "Hello from Claude",
            "ollama": "Hello from Ollama"}
WEATHER = {"type": "function", "name": "get_weather", "description": "Current weather",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
KEYS = {"team": "sk-team-e2e", "other": "sk-other-e2e"}


def start(binary, tmp_path_factory, extra=None):
    """A gateway with two gateway keys in front of the four mocks (server-side provider keys)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), NativeMock)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = str(server.server_address[1])
    config = tmp_path_factory.mktemp("responses") / "switchyard.yaml"
    config.write_text("gateway_keys:\n" + "".join(
        f"  - name: {name}\n    sha256: {hashlib.sha256(key.encode()).hexdigest()}\n" for name, key in KEYS.items()))
    env = {"SWITCHYARD_CONFIG": str(config), "OPENAI_API_KEY": "o-server", "GEMINI_API_KEY": "g-server",
           "ANTHROPIC_API_KEY": "a-server"}
    for name in ("OPENAI", "GEMINI", "ANTHROPIC", "OLLAMA"):
        env.update({f"{name}_DOMAIN": "127.0.0.1", f"{name}_PORT": port, f"{name}_TLS": "false"})
    env.update(extra or {})
    return server, start_gateway(binary, int(port), env)


@pytest.fixture(scope="module")
def native(binary, tmp_path_factory):
    server, gateway = start(binary, tmp_path_factory)
    yield gateway
    gateway.process.terminate()
    gateway.process.wait(timeout=20)
    server.shutdown()
    NativeMock.seen.clear()  # the record is shared with the other modules that use the mock


def client(gateway, key="team"):
    return openai.OpenAI(base_url=gateway.base_url, api_key=KEYS[key], max_retries=0, timeout=20)


@pytest.mark.parametrize("provider", MODELS)
def test_create(native, provider):
    r = client(native).responses.create(model=MODELS[provider], instructions="Be brief.", input="Say hi")
    assert r.id.startswith("resp_") and r.object == "response" and r.status == "completed"
    assert r.model == MODELS[provider]
    assert r.output_text == GREETING[provider]
    assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens


@pytest.mark.parametrize("provider", MODELS)
def test_stream(native, provider):
    with client(native).responses.stream(model=MODELS[provider], input="Say hi") as stream:
        events = list(stream)
        final = stream.get_final_response()
    # (Ollama's mock streams a space after every word.)
    assert final.output_text.strip() == GREETING[provider] and final.status == "completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[-1].type == "response.completed"
    assert events[0].response.id == final.id
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == final.output_text


@pytest.mark.parametrize("provider", MODELS)
@pytest.mark.parametrize("stream", [False, True])
def test_function_call_round_trip(native, provider, stream):
    c = client(native)
    request = dict(model=MODELS[provider], input=[{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER])
    if stream:
        with c.responses.stream(**request) as s:
            first = s.get_final_response()
    else:
        first = c.responses.create(**request)
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1 and calls[0].name == "get_weather" and json.loads(calls[0].arguments) == {"city": "Paris"}
    assert calls[0].id != calls[0].call_id
    # Stateless, as Codex does: the whole history again, with the call's output.
    history = request["input"] + [item.model_dump(exclude_none=True) for item in first.output] + [
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": json.dumps({"temp": 21})}]
    final = c.responses.create(model=MODELS[provider], input=history, tools=[WEATHER])
    assert final.output_text == "It is 21 degrees."
    # Chained: only the output, continuing the kept response.
    chained = c.responses.create(model=MODELS[provider], previous_response_id=first.id, tools=[WEATHER], input=[
        {"type": "function_call_output", "call_id": calls[0].call_id, "output": json.dumps({"temp": 21})}])
    assert chained.output_text == "It is 21 degrees." and chained.previous_response_id == first.id


@pytest.mark.parametrize("provider", ["gemini", "anthropic", "ollama"])
def test_kept_responses_are_the_callers(native, provider):
    c, other = client(native), client(native, "other")
    r = c.responses.create(model=MODELS[provider], input="Say hi")
    assert c.responses.retrieve(r.id).output_text == GREETING[provider]
    items = c.responses.input_items.list(r.id)
    assert [i.type for i in items.data] == ["message"] and items.data[0].id
    with pytest.raises(openai.NotFoundError):
        other.responses.retrieve(r.id)
    with pytest.raises(openai.BadRequestError) as refused:
        other.responses.create(model=MODELS[provider], previous_response_id=r.id, input="again")
    assert refused.value.code == "previous_response_not_found"
    unkept = c.responses.create(model=MODELS[provider], input="Say hi", store=False)
    with pytest.raises(openai.NotFoundError):
        c.responses.retrieve(unkept.id)
    c.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError):
        c.responses.retrieve(r.id)


def test_unsupported_and_errors(native):
    c = client(native)
    with pytest.raises(openai.BadRequestError) as hosted:
        c.responses.create(model=MODELS["gemini"], input="news?", tools=[{"type": "web_search"}])
    assert hosted.value.param == "tools[0]"
    with pytest.raises(openai.BadRequestError) as unknown:
        c.responses.create(model=MODELS["ollama"], input="hi", previous_response_id="resp_nope")
    assert unknown.value.code == "previous_response_not_found"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=native.base_url, api_key="wrong", max_retries=0).responses.create(
            model="gpt-4o", input="hi")


def test_text_format_reaches_the_provider(native):
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"],
              "additionalProperties": False}
    before = len(NativeMock.seen)
    client(native).responses.create(model=MODELS["ollama"], input="Where?",
                                    text={"format": {"type": "json_schema", "name": "place", "schema": schema,
                                                     "strict": True}})
    sent = [s for s in NativeMock.seen[before:] if s["path"] == "/api/chat"]
    assert sent and sent[0]["body"]["format"]["properties"] == schema["properties"]


def test_input_tokens(native):
    def count(**body):
        request = urllib.request.Request(f"{native.base_url}/responses/input_tokens", method="POST",
                                         data=json.dumps(body).encode(),
                                         headers={"authorization": f"Bearer {KEYS['team']}",
                                                  "content-type": "application/json"})
        with urllib.request.urlopen(request, timeout=20) as response:
            answer = json.loads(response.read())
        assert answer["object"] == "response.input_tokens"
        return answer["input_tokens"]
    before = len(NativeMock.seen)
    plain = count(model="gemini-2.0-flash", input="What is the weather like in Paris today?")
    assert 0 < plain < count(model="gemini-2.0-flash", input="What is the weather like in Paris today?",
                             instructions="Be brief and exact.", tools=[WEATHER])
    assert len(NativeMock.seen) == before


def test_chains_across_two_instances_sharing_redis(binary, tmp_path_factory, redis):
    extra = {"REDIS_URL": redis[1]}
    (server_a, a), (server_b, b) = start(binary, tmp_path_factory, extra), start(binary, tmp_path_factory, extra)
    try:
        first = client(a).responses.create(model=MODELS["gemini"], input=[{"role": "user", "content": "Weather?"}],
                                           tools=[WEATHER])
        call = [item for item in first.output if item.type == "function_call"][0]
        chained = client(b).responses.create(model=MODELS["gemini"], previous_response_id=first.id, tools=[WEATHER],
                                             input=[{"type": "function_call_output", "call_id": call.call_id,
                                                     "output": "21"}])
        assert chained.output_text == "It is 21 degrees."
        assert client(b).responses.retrieve(first.id).id == first.id
    finally:
        for gw, server in ((a, server_a), (b, server_b)):
            gw.process.terminate()
            gw.process.wait(timeout=20)
            server.shutdown()
        NativeMock.seen.clear()


def test_an_openai_server_without_responses_is_translated_for(gateway):
    """The conftest mock serves Chat Completions only: the first Responses request finds no
    `/v1/responses` and is translated, and later ones go straight to Chat Completions."""
    from conftest import MockOpenAI
    sdk = openai.OpenAI(base_url=gateway.base_url, api_key="sk-e2e", max_retries=0, timeout=20)
    before = len(MockOpenAI.seen)
    first = sdk.responses.create(model="gpt-4o", input="Say hi")
    assert first.output_text == "Hello from the mock" and first.status == "completed"
    with sdk.responses.stream(model="gpt-4o", input="Say hi") as stream:
        assert stream.get_final_response().output_text == "one two three four five"
    paths = [s["path"] for s in MockOpenAI.seen[before:]]
    assert paths == ["/v1/responses", "/v1/chat/completions", "/v1/chat/completions"], paths
