"""TLS on the listener with the official SDK, and no secret in the logs at any level."""
import hashlib
import socket
import ssl
import subprocess

import openai
import pytest

from conftest import MockOpenAI, start_gateway


@pytest.fixture(scope="module")
def tls_gateway(binary, upstream, certificate):
    cert, key = certificate
    gw = start_gateway(binary, upstream.server_address[1], {"TLS_CERT_FILE": str(cert), "TLS_KEY_FILE": str(key)})
    yield gw
    gw.process.terminate()
    gw.process.wait(timeout=20)


def handshake(port: int, cert, maximum: ssl.TLSVersion) -> str:
    """The negotiated TLS version, with a client allowed everything from TLS 1.0 up to `maximum`."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cafile=str(cert))
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = maximum
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            return tls.version()


def test_sdk_over_tls(tls_gateway, certificate):
    client = openai.OpenAI(base_url=tls_gateway.base_url, api_key="sk-client",
                           http_client=openai.DefaultHttpxClient(verify=ssl.create_default_context(cafile=str(certificate[0]))))
    answer = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "Hello from the mock"
    stream = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}],
                                            stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == "one two three four five"


def test_tls_12_and_13_only(tls_gateway, certificate):
    cert = certificate[0]
    assert handshake(tls_gateway.port, cert, ssl.TLSVersion.TLSv1_3) == "TLSv1.3"
    # The same client completes a TLS 1.2 handshake, so a refusal of 1.1 is the server's doing.
    assert handshake(tls_gateway.port, cert, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    with pytest.raises(ssl.SSLError):
        handshake(tls_gateway.port, cert, ssl.TLSVersion.TLSv1_1)


def test_plain_http_on_the_tls_port_gets_no_http_answer(tls_gateway):
    with socket.create_connection(("127.0.0.1", tls_gateway.port), timeout=5) as raw:
        raw.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
        answer = b""
        try:
            while chunk := raw.recv(4096):
                answer += chunk
        except OSError:
            pass
    assert not answer.startswith(b"HTTP/")


def test_unusable_certificate_stops_serve_with_one_line(binary, tmp_path):
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("not a certificate\n")
    result = subprocess.run([str(binary), "serve"], capture_output=True, timeout=60,
                            env={"PATH": "/usr/bin:/bin", "PROXY_PORT": "0", "METRICS_PORT": "0",
                                 "TLS_CERT_FILE": str(bogus), "TLS_KEY_FILE": str(bogus)})
    assert result.returncode == 1
    assert b"TLS_CERT_FILE" in result.stderr


def test_no_secret_in_logs_at_trace_level(binary, upstream, tmp_path):
    """Gateway keys (right and wrong) and the provider key, sent and used on every path, never
    appear in what the gateway writes, even at trace level; the provider still gets its key."""
    gateway_key, wrong_key, provider_key = "sk-gw-LEAKCHECK-1", "sk-gw-LEAKCHECK-wrong", "sk-prov-LEAKCHECK-2"
    config = tmp_path / "keys.yaml"
    config.write_text(f"gateway_keys:\n  - name: team\n    sha256: {hashlib.sha256(gateway_key.encode()).hexdigest()}\n")
    gw = start_gateway(binary, upstream.server_address[1],
                       {"SWITCHYARD_CONFIG": str(config), "OPENAI_API_KEY": provider_key, "LOG_LEVEL": "trace",
                        "ENABLE_RATE_LIMITING": "true"})
    try:
        good = openai.OpenAI(base_url=gw.base_url, api_key=gateway_key, max_retries=0)
        messages = [{"role": "user", "content": "hi"}]
        MockOpenAI.seen.clear()
        good.chat.completions.create(model="gpt-4o", messages=messages)
        list(good.chat.completions.create(model="gpt-4o", messages=messages, stream=True))
        with pytest.raises(openai.InternalServerError):
            good.chat.completions.create(model="gpt-broken", messages=messages)
        good.embeddings.create(model="text-embedding-3-small", input="x")
        good.models.list()
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=gw.base_url, api_key=wrong_key, max_retries=0).chat.completions.create(
                model="gpt-4o", messages=messages)
        upstream_auth = {value for seen in MockOpenAI.seen for name, value in seen["headers"].items()
                         if name.lower() == "authorization"}
        assert len(MockOpenAI.seen) == 6  # the failing request is tried 3 times (2 retries)
        assert upstream_auth == {f"Bearer {provider_key}"}
    finally:
        gw.process.terminate()
        gw.process.wait(timeout=20)
    logs = gw.process.stdout.read() + gw.process.stderr.read()
    assert b"request failed" in logs  # the 500 was logged, so the logs were captured
    for secret in (gateway_key, wrong_key, provider_key, "LEAKCHECK"):
        assert secret.encode() not in logs
