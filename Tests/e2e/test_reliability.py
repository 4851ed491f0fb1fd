"""Reliability through the official SDK: a dead deployment falls back, an upstream that does not
answer in time is a 504 the SDK raises, and the metrics count what happened."""
import socket
import urllib.request

import openai
import pytest

from conftest import start_gateway


@pytest.fixture
def refusing_port():
    """A loopback port that refuses connections: bound, never listening."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]


def test_a_dead_deployment_falls_back_and_the_answer_arrives(binary, upstream, refusing_port, tmp_path):
    config = tmp_path / "switchyard.yaml"
    config.write_text(f"""
providers:
  - {{name: dead, kind: openai, base_url: "http://127.0.0.1:{refusing_port}/v1"}}
  - {{name: mock, kind: openai, base_url: "http://127.0.0.1:{upstream.server_address[1]}/v1"}}
routes:
  - match: "gpt-4o"
    deployments:
      - {{provider: dead}}
    fallbacks:
      - {{provider: mock, model: gpt-4o-mini}}
""")
    gw = start_gateway(binary, upstream.server_address[1],
                       {"SWITCHYARD_CONFIG": str(config), "ALLOW_UNAUTHENTICATED": "true"})
    try:
        client = openai.OpenAI(base_url=gw.base_url, api_key="sk-e2e", max_retries=0,
                               http_client=openai.DefaultHttpxClient())
        reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
        assert reply.choices[0].message.content == "Hello from the mock"
        assert upstream.RequestHandlerClass.seen[-1]["body"]["model"] == "gpt-4o-mini"
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{gw.metrics_port}/metrics").read().decode()
        assert 'switchyard_upstream_fallbacks_total{provider="mock"} 1' in metrics
        assert 'switchyard_upstream_errors_total{provider="dead",kind="connect"} 3' in metrics
    finally:
        gw.process.terminate()
        gw.process.wait(timeout=20)


def test_an_upstream_slower_than_the_first_byte_timeout_is_a_504(binary, upstream):
    gw = start_gateway(binary, upstream.server_address[1], {
        "UPSTREAM_FIRST_BYTE_TIMEOUT_SECONDS": "0.5", "ALLOW_UNAUTHENTICATED": "true"})
    try:
        client = openai.OpenAI(base_url=gw.base_url, api_key="sk-e2e", max_retries=0,
                               http_client=openai.DefaultHttpxClient())
        with pytest.raises(openai.APIStatusError) as raised:
            client.chat.completions.create(model="gpt-hang", messages=[{"role": "user", "content": "hi"}])
        assert raised.value.status_code == 504
        assert raised.value.body["code"] == "upstream_timeout"
    finally:
        gw.process.terminate()
        gw.process.wait(timeout=20)
