"""The official openai and anthropic SDKs through the gateway to an upstream that writes every
answer event by event, back to back, in arbitrary pieces (segmenting_upstream.py): every answer
complete, none stalled, for every provider, streamed and not, on reused upstream connections."""
import json
import urllib.request

import anthropic
import openai
import pytest

from conftest import start_gateway
from segmenting_upstream import TEXT, anthropic_stream, openai_responses_stream, start_in_thread

MODELS = ["gpt-4o", "gpt-4o-mini", "gemini-2.0-flash", "claude-3-5-haiku-latest", "llama3.2"]


@pytest.fixture(scope="module")
def segmented_gateway(binary):
    upstream, port = start_in_thread(seed=7)
    env = {}
    for provider in ["OPENAI", "GEMINI", "ANTHROPIC", "OLLAMA"]:
        env.update({f"{provider}_DOMAIN": "127.0.0.1", f"{provider}_PORT": str(port), f"{provider}_TLS": "false"})
    gw = start_gateway(binary, port, env)
    yield gw, upstream
    gw.process.terminate()
    gw.process.wait(timeout=20)


def client(gw):
    # No retries: a stalled answer must show as a timeout, not be hidden by a second try.
    return openai.OpenAI(base_url=gw.base_url, api_key="sk-e2e", timeout=10, max_retries=0)


@pytest.mark.parametrize("model", MODELS)
def test_streams_arrive_whole(segmented_gateway, model):
    gw, upstream = segmented_gateway
    sdk = client(gw)
    for _ in range(25):
        stream = sdk.chat.completions.create(model=model, stream=True, stream_options={"include_usage": True},
                                             messages=[{"role": "user", "content": "Say hello."}])
        text, usage = "", None
        for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
            if chunk.usage:
                usage = chunk.usage
        assert text == TEXT
        assert usage is not None and usage.completion_tokens == 24


@pytest.mark.parametrize("model", MODELS)
def test_answers_arrive_whole(segmented_gateway, model):
    gw, _ = segmented_gateway
    sdk = client(gw)
    for _ in range(25):
        answer = sdk.chat.completions.create(model=model, messages=[{"role": "user", "content": "Say hello."}])
        assert answer.choices[0].message.content == TEXT
        assert answer.usage.completion_tokens == 24


@pytest.mark.parametrize("model", ["text-embedding-3-small", "text-embedding-004", "ollama/nomic-embed-text"])
def test_embeddings_arrive_whole(segmented_gateway, model):
    gw, _ = segmented_gateway
    sdk = client(gw)
    for _ in range(25):
        assert len(sdk.embeddings.create(model=model, input="hello").data[0].embedding) >= 2


def messages_client(gw):
    return anthropic.Anthropic(base_url=gw.base_url[:-len("/v1")], api_key="sk-e2e", timeout=10, max_retries=0)


@pytest.mark.parametrize("model", MODELS)
def test_messages_streams_arrive_whole(segmented_gateway, model):
    gw, _ = segmented_gateway
    sdk = messages_client(gw)
    for _ in range(25):
        with sdk.messages.stream(model=model, max_tokens=64, messages=[{"role": "user", "content": "Say hello."}]) as s:
            text = "".join(s.text_stream)
            final = s.get_final_message()
        assert text == TEXT and final.stop_reason == "end_turn"
        assert final.usage.output_tokens == 24


@pytest.mark.parametrize("model", MODELS)
def test_messages_answers_arrive_whole(segmented_gateway, model):
    gw, _ = segmented_gateway
    sdk = messages_client(gw)
    for _ in range(25):
        message = sdk.messages.create(model=model, max_tokens=64, messages=[{"role": "user", "content": "Say hello."}])
        assert message.content[0].text == TEXT and message.usage.output_tokens == 24


def test_anthropic_stream_passes_through_byte_for_byte(segmented_gateway):
    """To an Anthropic upstream, the stream the client reads is the one Anthropic wrote."""
    gw, _ = segmented_gateway
    model = "claude-3-5-haiku-latest"
    body = {"model": model, "max_tokens": 64, "stream": True, "messages": [{"role": "user", "content": "Say hello."}]}
    for _ in range(10):
        request = urllib.request.Request(gw.base_url + "/messages", data=json.dumps(body).encode(), method="POST",
                                         headers={"content-type": "application/json", "x-api-key": "sk-e2e",
                                                  "anthropic-version": "2023-06-01"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.read().decode() == "".join(anthropic_stream(model))


@pytest.mark.parametrize("model", MODELS)
def test_responses_streams_arrive_whole(segmented_gateway, model):
    gw, _ = segmented_gateway
    sdk = client(gw)
    for _ in range(25):
        with sdk.responses.stream(model=model, input="Say hello.") as stream:
            events = list(stream)
            final = stream.get_final_response()
        assert final.output_text == TEXT and final.usage.output_tokens == 24
        assert [e.sequence_number for e in events] == list(range(len(events)))


@pytest.mark.parametrize("model", MODELS)
def test_responses_answers_arrive_whole(segmented_gateway, model):
    gw, _ = segmented_gateway
    sdk = client(gw)
    for _ in range(25):
        response = sdk.responses.create(model=model, input="Say hello.", store=False)
        assert response.output_text == TEXT and response.usage.output_tokens == 24


def test_openai_responses_stream_passes_through_byte_for_byte(segmented_gateway):
    gw, _ = segmented_gateway
    body = {"model": "gpt-4o", "stream": True, "input": "Say hello."}
    for _ in range(10):
        request = urllib.request.Request(gw.base_url + "/responses", data=json.dumps(body).encode(), method="POST",
                                         headers={"content-type": "application/json", "authorization": "Bearer sk-e2e"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.read().decode() == "".join(openai_responses_stream("gpt-4o"))
