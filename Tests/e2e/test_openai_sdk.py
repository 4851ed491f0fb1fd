"""The official openai Python SDK, as users run it, through the real switchyard binary."""
import urllib.request

import openai
import pytest

from conftest import MockOpenAI


@pytest.fixture
def client(gateway):
    return openai.OpenAI(base_url=gateway.base_url, api_key="sk-e2e-client", max_retries=0, timeout=20)


def test_chat(client):
    completion = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert completion.choices[0].message.content == "Hello from the mock"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.total_tokens == 13
    seen = MockOpenAI.seen[-1]
    assert seen["headers"]["authorization"] == "Bearer sk-e2e-client"


def test_provider_prefix_is_stripped_upstream(client):
    client.chat.completions.create(model="openai/gpt-4o-mini", messages=[{"role": "user", "content": "Hi"}])
    assert MockOpenAI.seen[-1]["body"]["model"] == "gpt-4o-mini"


def test_streaming_chat(client):
    stream = client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Count"}], stream=True)
    pieces = [c.choices[0].delta.content for c in stream if c.choices and c.choices[0].delta.content]
    assert "".join(pieces) == "one two three four five"


def test_models(client):
    assert [m.id for m in client.models.list().data] == ["gpt-4o"]


def test_embeddings(client):
    result = client.embeddings.create(model="text-embedding-3-small", input="hello")
    assert result.data[0].embedding == [0.5, -0.5]


def test_upstream_error_keeps_status_and_message(client):
    with pytest.raises(openai.InternalServerError) as raised:
        client.chat.completions.create(model="gpt-broken", messages=[{"role": "user", "content": "Hi"}])
    assert raised.value.status_code == 500
    assert "upstream exploded" in str(raised.value)


def test_bad_request_is_a_400(client):
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=[])
    assert raised.value.body["type"] == "invalid_request_error"
    assert raised.value.body["param"] == "messages"


def test_cut_stream_raises_instead_of_ending_cleanly(client):
    stream = client.chat.completions.create(
        model="gpt-cut", messages=[{"role": "user", "content": "Count"}], stream=True)
    with pytest.raises(openai.APIError) as raised:
        for _ in stream:
            pass
    assert "[DONE]" in str(raised.value)


def test_unknown_route_is_a_404(gateway):
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(f"http://127.0.0.1:{gateway.port}/v2/nothing", timeout=5)
    assert raised.value.code == 404
    assert b'"code":"unknown_url"' in raised.value.read()


def test_metrics_are_served(gateway, client):
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    text = urllib.request.urlopen(f"http://127.0.0.1:{gateway.metrics_port}/metrics", timeout=5).read().decode()
    assert 'switchyard_requests_total{route="chat",provider="openai",model="gpt-4o",status="200",status_class="2xx"}' in text
    assert "switchyard_gateway_overhead_seconds_bucket" in text


def test_rate_limit_is_an_openai_rate_limit_error(binary, upstream):
    from conftest import start_gateway
    gw = start_gateway(binary, upstream.server_address[1], {"ENABLE_RATE_LIMITING": "true", "MAX_TOKENS": "20"})
    try:
        client = openai.OpenAI(base_url=gw.base_url, api_key="sk-rl", max_retries=0, timeout=20)
        raw = client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        assert raw.headers["x-ratelimit-limit-tokens"] == "20"
        raw.parse()  # the mock reports 13 tokens of usage: 7 of the 20 remain
        with pytest.raises(openai.RateLimitError) as raised:
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        assert raised.value.response.headers["retry-after"]
        assert raised.value.body["code"] == "rate_limit_exceeded"
    finally:
        gw.process.terminate()
        gw.process.wait(timeout=20)
