"""Each provider behind the OpenAI API, through the real binary, with the official openai SDK:
chat, streaming chat, a tool-call round trip and embeddings."""
import http.server
import json
import threading

import openai
import pytest

from conftest import free_port, start_gateway
from native_mock import NativeMock

TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Current weather",
    "parameters": {"$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": False,
                   "properties": {"city": {"type": "string", "default": "Paris"}}, "required": ["city"]}}}]

MODELS = {"gemini": "gemini-2.0-flash", "anthropic": "claude-3-5-haiku-latest", "ollama": "llama3.2"}
GREETING = {"gemini": "Hello from Gemini", "anthropic": "Hello from Claude", "ollama": "Hello from Ollama"}


def serve_native_mock():
    """Starts the native mock; returns it and the environment pointing all three providers at it."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), NativeMock)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = str(server.server_address[1])
    env = {}
    for name in ("GEMINI", "ANTHROPIC", "OLLAMA"):
        env.update({f"{name}_DOMAIN": "127.0.0.1", f"{name}_PORT": port, f"{name}_TLS": "false"})
    return server, env


@pytest.fixture(scope="module")
def native(binary):
    server, env = serve_native_mock()
    # Server-side keys for two providers (so the model list asks them); no gateway keys here.
    env.update({"GEMINI_API_KEY": "g-server", "ANTHROPIC_API_KEY": "a-server", "ALLOW_UNAUTHENTICATED": "true"})
    gateway = start_gateway(binary, free_port(), env)
    yield openai.OpenAI(base_url=gateway.base_url, api_key="sk-e2e", max_retries=0, timeout=20)
    gateway.process.terminate()
    gateway.process.wait(timeout=20)
    server.shutdown()


@pytest.mark.parametrize("provider", MODELS)
def test_chat(native, provider):
    completion = native.chat.completions.create(
        model=MODELS[provider], messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    assert completion.choices[0].message.content == GREETING[provider]
    assert completion.choices[0].finish_reason == "stop"
    assert completion.model == MODELS[provider]
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0


@pytest.mark.parametrize("provider", MODELS)
def test_streaming_chat(native, provider):
    stream = native.chat.completions.create(
        model=MODELS[provider], messages=[{"role": "user", "content": "Hi"}], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip() == GREETING[provider]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens > 0
    assert len({c.id for c in chunks}) == 1


@pytest.mark.parametrize("provider", MODELS)
@pytest.mark.parametrize("stream", [False, True])
def test_tool_call_round_trip(native, provider, stream):
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    if stream:
        calls = {}
        for chunk in native.chat.completions.create(model=MODELS[provider], messages=messages, tools=TOOLS, stream=True):
            for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
                entry = calls.setdefault(call.index, {"id": None, "name": None, "arguments": ""})
                entry["id"] = call.id or entry["id"]
                entry["name"] = (call.function.name if call.function else None) or entry["name"]
                entry["arguments"] += (call.function.arguments or "") if call.function else ""
        assert list(calls) == [0]
        call_id, name, arguments = calls[0]["id"], calls[0]["name"], calls[0]["arguments"]
    else:
        first = native.chat.completions.create(model=MODELS[provider], messages=messages, tools=TOOLS)
        assert first.choices[0].finish_reason == "tool_calls"
        call = first.choices[0].message.tool_calls[0]
        call_id, name, arguments = call.id, call.function.name, call.function.arguments
    assert name == "get_weather"
    assert json.loads(arguments) == {"city": "Paris"}
    messages += [
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}]},
        {"role": "tool", "tool_call_id": call_id, "content": json.dumps({"temp": 21})},
    ]
    final = native.chat.completions.create(model=MODELS[provider], messages=messages, tools=TOOLS)
    assert final.choices[0].message.content == "It is 21 degrees."


@pytest.mark.parametrize("model", ["text-embedding-004", "ollama/nomic-embed-text"])
def test_embeddings(native, model):
    # The SDK asks for base64 by default and decodes it; the gateway must answer in kind.
    result = native.embeddings.create(model=model, input=["a", "b"])
    assert len(result.data) == 2
    assert [round(x, 3) for x in result.data[0].embedding] in ([0.5, -0.5], [0.25, 0.75])
    result = native.embeddings.create(model=model, input="a", encoding_format="float")
    assert len(result.data[0].embedding) == 2


def test_anthropic_has_no_embeddings(native):
    with pytest.raises(openai.BadRequestError):
        native.embeddings.create(model="claude-3-5-haiku-latest", input="a")


def test_provider_validation_errors_come_back_as_openai_errors(native):
    # A remote image URL cannot be sent to Gemini: the gateway answers 400 itself.
    with pytest.raises(openai.BadRequestError) as raised:
        native.chat.completions.create(model="gemini-2.0-flash", messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": "https://example.invalid/cat.png"}}]}])
    assert "data URL" in str(raised.value)


def test_models_lists_every_provider(native):
    ids = {m.id for m in native.models.list().data}
    assert {"gemini-2.0-flash", "claude-3-5-haiku-latest", "llama3.2:latest"} <= ids
    gemini = [s["headers"] for s in NativeMock.seen if s["path"].startswith("/v1beta/models?")]
    anthropic = [s["headers"] for s in NativeMock.seen if s["path"].startswith("/v1/models")]
    # The server keys were used, never the client's own key.
    assert gemini and all(h.get("x-goog-api-key") == "g-server" for h in gemini)
    assert anthropic and all(h.get("x-api-key") == "a-server" for h in anthropic)


def test_client_key_is_not_fanned_out_to_other_providers(binary):
    """In passthrough mode the client's key goes only where its model routes."""
    server, env = serve_native_mock()
    gateway = start_gateway(binary, free_port(), env)
    try:
        client = openai.OpenAI(base_url=gateway.base_url, api_key="sk-client-openai-key", max_retries=0, timeout=20)
        ids = {m.id for m in client.models.list().data}
        assert "llama3.2:latest" in ids
        assert "gemini-2.0-flash" not in ids and "claude-3-5-haiku-latest" not in ids
    finally:
        gateway.process.terminate()
        gateway.process.wait(timeout=20)
        server.shutdown()
