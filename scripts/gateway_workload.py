"""A gateway serving every kind of request, for the scripts that record what the release binary runs
(scripts/symbol-order, scripts/profile-training): each front door's requests to each provider,
streamed and not, embeddings, the model list, the metrics and one request that is not JSON, through
the end-to-end tests' upstream (Tests/e2e/segmenting_upstream.py), which plays every provider.
Loopback only; every request and the run are bounded by timeouts."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "Tests" / "e2e"))
from segmenting_upstream import start_in_thread  # noqa: E402

CHAT_MODELS = ["gpt-4o", "gemini-2.0-flash", "claude-3-5-haiku-latest", "llama3.2"]
EMBEDDING_MODELS = ["text-embedding-3-small", "text-embedding-004", "ollama/nomic-embed-text"]


def requests():
    """(path, body) of every kind of request: each front door to each provider, streamed and not,
    and one whose body is not JSON (a `None` body)."""
    out = []
    for model in CHAT_MODELS:
        for stream in [False, True]:
            out.append(("/v1/chat/completions", {"model": model, "stream": stream, "max_tokens": 50,
                                                 "messages": [{"role": "system", "content": "Be terse."},
                                                              {"role": "user", "content": "Say hello."}]}))
            out.append(("/v1/messages", {"model": model, "stream": stream, "max_tokens": 50,
                                         "messages": [{"role": "user", "content": "Say hello."}]}))
            out.append(("/v1/responses", {"model": model, "stream": stream, "input": "Say hello."}))
    out += [("/v1/embeddings", {"model": model, "input": "hello"}) for model in EMBEDDING_MODELS]
    out.append(("/v1/chat/completions", None))  # a body that is not JSON: the error path
    return out


def call(port, path, body, timeout):
    """Sends one request and reads its answer whole; returns the status."""
    data = b"{" if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, headers={
        "content-type": "application/json", "authorization": "Bearer sk-order", "user": "order"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            answer.read()
            return answer.status
    except urllib.error.HTTPError as error:
        error.read()
        return error.code


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_every_kind(command, work, *, name, rounds, timeout, clients=1, whole=False, env=None):
    """Runs `command` (the gateway's `serve`, possibly under a tool) with every provider at one upstream
    (whose answers come event by event, or each in one piece with `whole`), sends `rounds` of every
    request from `clients` threads at once, then stops it with SIGTERM and waits for it to exit.
    Exits with a message naming `name` when the gateway does not start or a request fails, since the
    record would then miss that request's path."""
    _, up_port = start_in_thread(seed=1, whole=whole)
    port, metrics_port = free_port(), free_port()
    environment = {"PATH": os.environ.get("PATH", ""), "HOST": "127.0.0.1", "PROXY_PORT": str(port),
                   "METRICS_PORT": str(metrics_port), "LOG_LEVEL": "error", "ENABLE_RATE_LIMITING": "true",
                   "MAX_TOKENS": "2000000000", "ALLOW_UNAUTHENTICATED": "true",
                   "DATABASE_URL": f"sqlite:{work}/ledger.sqlite", **(env or {})}
    for provider in ["OPENAI", "GEMINI", "ANTHROPIC", "OLLAMA"]:
        environment.update({f"{provider}_DOMAIN": "127.0.0.1", f"{provider}_PORT": str(up_port),
                            f"{provider}_TLS": "false", f"{provider}_API_KEY": "sk-upstream"})
    gateway = subprocess.Popen(command, env=environment, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline or gateway.poll() is not None:
                    raise SystemExit(f"{name}: the gateway did not start")
                time.sleep(0.5)

        def one_client(_):
            statuses = Counter()
            for _ in range(rounds):
                for path, body in requests():
                    statuses[call(port, path, body, timeout)] += 1
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/models", timeout=timeout).read()
                urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=timeout).read()
            return statuses

        with ThreadPoolExecutor(clients) as pool:
            statuses = sum(pool.map(one_client, range(clients)), Counter())
        gateway.send_signal(signal.SIGTERM)
        gateway.wait(timeout=timeout)
        print(f"{name}: answers by status: {dict(sorted(statuses.items()))}")
        # Only the request that is not JSON is refused; any other error means a path went unrecorded.
        if statuses[200] != sum(statuses.values()) - rounds * clients:
            raise SystemExit(f"{name}: some requests failed; the record would miss their paths")
    finally:
        if gateway.poll() is None:
            gateway.kill()
            gateway.wait()
