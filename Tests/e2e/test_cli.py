"""The switchyard command line: subcommands, exit codes, graceful shutdown."""
import signal
import socket
import subprocess
import threading
import time

import openai

from conftest import start_gateway


def run(binary, *args, input=b"", env=None):
    return subprocess.run([str(binary), *args], input=input, capture_output=True, env=env, timeout=60)


def test_version(binary):
    result = run(binary, "version")
    assert result.returncode == 0
    assert result.stdout.decode().startswith("switchyard ")


def test_count_tokens(binary):
    assert run(binary, "count-tokens", "--model", "gpt-4o", input=b"Hello, world!").stdout == b"4\n"
    assert run(binary, "count-tokens", "--encoding", "cl100k_base", "--ids", input=b"Hello, world!").stdout \
        == b"9906 11 1917 0\n"
    # Byte for byte: the trailing newline counts.
    assert run(binary, "count-tokens", "--model", "gpt-4", input=b"hello world\n").stdout == b"3\n"


def test_count_tokens_invalid_utf8_does_not_crash(binary):
    result = run(binary, "count-tokens", "--model", "gpt-4", input=b"\xff\xfeabc\xc3")
    assert result.returncode == 0
    assert int(result.stdout) > 0


def test_count_tokens_unknown_encoding_exits_1(binary):
    result = run(binary, "count-tokens", "--encoding", "p50k_nope", input=b"x")
    assert result.returncode == 1
    assert b"unknown encoding" in result.stderr


def test_check_config_prints_routing_table(binary):
    result = run(binary, "check-config", "--config", "examples/switchyard.yaml",
                 env={"PATH": "/usr/bin:/bin"})  # as on a fresh machine: nothing else set
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "routes (first match wins):" in out
    assert "fast" in out and "openai as `gpt-4o-mini` [config]" in out


def test_invalid_port_stops_with_one_line(binary):
    result = run(binary, "check-config", env={"PROXY_PORT": "abc", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 1
    assert result.stderr.decode().strip().count("\n") == 0
    assert "PROXY_PORT" in result.stderr.decode()
    result = run(binary, "serve", "--config", "/nonexistent.yaml")
    assert result.returncode == 1
    assert b"cannot be read" in result.stderr


def test_sigterm_drains_an_in_flight_stream(binary, upstream):
    gateway = start_gateway(binary, upstream.server_address[1])
    client = openai.OpenAI(base_url=gateway.base_url, api_key="x", max_retries=0, timeout=20)
    stream = client.chat.completions.create(
        model="gpt-slow", messages=[{"role": "user", "content": "Count"}], stream=True)
    pieces = []
    first = threading.Event()

    def consume():
        for c in stream:
            if c.choices and c.choices[0].delta.content:
                pieces.append(c.choices[0].delta.content)
                first.set()

    reader = threading.Thread(target=consume)
    reader.start()
    assert first.wait(10)
    gateway.process.send_signal(signal.SIGTERM)
    reader.join(20)
    assert "".join(pieces) == "one two three four five"
    assert gateway.process.wait(timeout=20) == 0


def test_sigterm_closes_idle_keep_alive_connections_at_once(binary, upstream):
    # The default grace period is 30 s: an idle connection that held the listener open would
    # make the gateway wait for all of it.
    gateway = start_gateway(binary, upstream.server_address[1])
    idle = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
    idle.sendall(b"GET /health HTTP/1.1\r\nhost: x\r\n\r\n")
    assert idle.recv(4096).startswith(b"HTTP/1.1 200")
    started = time.monotonic()
    gateway.process.send_signal(signal.SIGTERM)
    assert idle.recv(4096) == b"", "the idle connection is closed"
    assert gateway.process.wait(timeout=20) == 0
    assert time.monotonic() - started < 5
    idle.close()


def test_hash_key(binary):
    result = run(binary, "hash-key", input=b"abc\n")
    assert result.stdout == b"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\n"


def test_refuses_to_start_with_server_keys_and_no_gateway_keys(binary, upstream):
    env = {"PATH": "/usr/bin:/bin", "OPENAI_API_KEY": "sk-server", "PROXY_PORT": "0", "METRICS_PORT": "0"}
    result = run(binary, "serve", env=env)
    assert result.returncode == 1
    assert b"refusing to start" in result.stderr and b"ALLOW_UNAUTHENTICATED" in result.stderr
    assert b"sk-server" not in result.stderr
    gateway = start_gateway(binary, upstream.server_address[1],
                            {"OPENAI_API_KEY": "sk-server", "ALLOW_UNAUTHENTICATED": "true", "LOG_LEVEL": "info"})
    gateway.process.terminate()
    assert gateway.process.wait(timeout=20) == 0
    stderr = gateway.process.stderr.read()
    assert b"WITHOUT gateway keys" in stderr
    assert b"sk-server" not in stderr
