"""The official openai SDK through the gateway to an upstream that writes every answer event by
event, back to back, in arbitrary pieces (segmenting_upstream.py): every answer complete, none
stalled, for every provider, streamed and not, on reused upstream connections."""
import openai
import pytest

from conftest import start_gateway
from segmenting_upstream import TEXT, start_in_thread

MODELS = ["gpt-4o", "gemini-2.0-flash", "claude-3-5-haiku-latest", "llama3.2"]


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
