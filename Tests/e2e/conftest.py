"""Fixtures for the end-to-end tests: a mock OpenAI upstream in a thread and the real
`switchyard` binary as a subprocess, both on loopback ports."""
import http.server
import json
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def binary() -> Path:
    """The built gateway (`swift build` is a no-op when it is up to date)."""
    subprocess.run(["swift", "build", "--product", "switchyard"], cwd=ROOT, check=True, capture_output=True)
    path = ROOT / ".build" / "debug" / "switchyard"
    assert path.exists(), path
    return path


def chunk(model: str, finish_reason=None, **delta) -> bytes:
    event = {"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "created": 1, "model": model,
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
    return f"data: {json.dumps(event)}\n\n".encode()


class MockOpenAI(http.server.BaseHTTPRequestHandler):
    """Answers like OpenAI. The model name selects a behaviour (see `do_POST`)."""
    protocol_version = "HTTP/1.1"
    seen: list = []

    def log_message(self, *args):
        pass

    def send_json(self, status: int, payload) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def send_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def do_GET(self):
        if self.path == "/v1/models":
            self.send_json(200, {"object": "list", "data": [
                {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "openai"}]})
        else:
            self.send_json(404, {"error": {"message": "nope", "type": "invalid_request_error"}})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        MockOpenAI.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        if self.path == "/v1/embeddings":
            return self.send_json(200, {"object": "list", "model": body["model"],
                                        "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -0.5]}],
                                        "usage": {"prompt_tokens": 1, "total_tokens": 1}})
        if self.path != "/v1/chat/completions":
            return self.send_json(404, {"error": {"message": f"Unknown request URL: POST {self.path}.",
                                                  "type": "invalid_request_error", "param": None,
                                                  "code": "unknown_url"}})
        model = body["model"]
        if model == "gpt-hang":
            time.sleep(3)
        if model == "gpt-broken":
            return self.send_json(500, {"error": {"message": "upstream exploded", "type": "server_error",
                                                  "param": None, "code": None}})
        if not body.get("stream"):
            return self.send_json(200, {
                "id": "chatcmpl-e2e", "object": "chat.completion", "created": 1, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the mock"},
                             "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}})
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        pause = 0.2 if model == "gpt-slow" else 0.01
        self.send_chunk(chunk(model, role="assistant", content=""))
        for word in ["one ", "two ", "three ", "four ", "five"]:
            self.send_chunk(chunk(model, content=word))
            time.sleep(pause)
        if model == "gpt-cut":
            self.wfile.write(b"0\r\n\r\n")
            return
        self.send_chunk(chunk(model, finish_reason="stop"))
        self.send_chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture(scope="session")
def upstream():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), MockOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()


class Gateway:
    def __init__(self, process: subprocess.Popen, port: int, metrics_port: int, scheme: str = "http",
                 env=None):
        self.process, self.port, self.metrics_port = process, port, metrics_port
        self.base_url = f"{scheme}://127.0.0.1:{port}/v1"
        self.env = env or {}

    def metrics(self) -> str:
        return urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5).read().decode()

    def stop(self) -> None:
        """Graceful shutdown (SIGTERM), as an orchestrator stops it."""
        self.process.terminate()
        self.process.wait(timeout=30)


def start_gateway(binary: Path, upstream_port: int, extra_env=None) -> Gateway:
    """Starts `switchyard serve` on free ports; with TLS_CERT_FILE in `extra_env` it serves HTTPS,
    and the health check trusts that certificate."""
    port, metrics_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.update({"HOST": "127.0.0.1", "PROXY_PORT": str(port), "METRICS_PORT": str(metrics_port),
                "OPENAI_DOMAIN": "127.0.0.1", "OPENAI_PORT": str(upstream_port), "OPENAI_TLS": "false",
                "LOG_LEVEL": "warning",
                # Each gateway keeps its own ledger file unless the test names a database.
                "DATABASE_URL": f"sqlite:{tempfile.mkdtemp(prefix='switchyard-e2e-')}/ledger.sqlite"})
    env.update(extra_env or {})
    process = subprocess.Popen([str(binary), "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    tls = "TLS_CERT_FILE" in env
    scheme = "https" if tls else "http"
    context = ssl.create_default_context(cafile=env["TLS_CERT_FILE"]) if tls else None
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{scheme}://127.0.0.1:{port}/health", timeout=1, context=context).read()
            return Gateway(process, port, metrics_port, scheme, env)
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(process.stderr.read().decode())
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the gateway did not start")


@pytest.fixture(scope="session")
def gateway(binary, upstream):
    gw = start_gateway(binary, upstream.server_address[1])
    yield gw
    gw.process.terminate()
    gw.process.wait(timeout=20)


@pytest.fixture
def redis():
    """A redis-server on a free loopback port: (its process, its URL)."""
    path = shutil.which("redis-server")
    assert path, "redis-server is needed: apt-get install -y redis-server"
    port = free_port()
    process = subprocess.Popen([path, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    yield process, f"redis://127.0.0.1:{port}/0"
    process.kill()
    process.wait()


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server (Debian's package) on a temporary directory and a free loopback port,
    trusting local connections: (its controller, its URL). Run as the `postgres` user when the
    tests run as root, as PostgreSQL refuses root."""
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    initdb = shutil.which("initdb") or (str(bins[-1] / "initdb") if bins else None)
    assert initdb, "PostgreSQL is needed: apt-get install -y postgresql"
    server = str(Path(initdb).with_name("postgres"))
    base = Path(tempfile.mkdtemp(prefix="switchyard-pg-"))
    as_owner = []
    if os.getuid() == 0:
        shutil.chown(base, user="postgres")
        as_owner = ["runuser", "-u", "postgres", "--"]
    subprocess.run(as_owner + [initdb, "-D", str(base / "data"), "-U", "switchyard", "--auth=trust", "-E", "UTF8"],
                   check=True, capture_output=True)
    port = free_port()

    class Controller:
        process = None

        def start(self):
            self.process = subprocess.Popen(
                as_owner + [server, "-D", str(base / "data"), "-p", str(port), "-k", str(base),
                            "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "max_connections=100"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.time() + 20
            while time.time() < deadline:
                with socket.socket() as s:
                    if s.connect_ex(("127.0.0.1", port)) == 0:
                        time.sleep(0.3)
                        return
                time.sleep(0.1)
            raise RuntimeError("PostgreSQL did not start")

        def stop(self):
            self.process.terminate()
            self.process.wait(timeout=20)

        def sql(self, statement: str) -> str:
            psql = str(Path(initdb).with_name("psql"))
            if not Path(psql).exists():
                psql = shutil.which("psql")
            return subprocess.run([psql, "-h", "127.0.0.1", "-p", str(port), "-U", "switchyard", "-d", "postgres",
                                   "-At", "-c", statement], check=True, capture_output=True, text=True).stdout

    controller = Controller()
    controller.start()
    yield controller, f"postgres://switchyard@127.0.0.1:{port}/postgres"
    controller.stop()


@pytest.fixture(scope="session")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1, made now with openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                    "-out", str(cert), "-days", "1", "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


ADMIN_KEY = "admin-e2e-secret"


class Admin:
    """Calls the admin API of a gateway started by `start_admin_gateway`."""

    def __init__(self, port: int, scheme: str = "http", context=None):
        self.base = f"{scheme}://127.0.0.1:{port}"
        self.context = context

    def call(self, method: str, path: str, body=None, key: str | None = ADMIN_KEY):
        """(status, parsed JSON body) of one admin request."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if key is not None:
            request.add_header("Authorization", f"Bearer {key}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.context) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


def start_admin_gateway(binary: Path, upstream_port: int, extra_env=None):
    """A gateway with the admin listener on (and a server-side provider key, so clients need
    gateway keys): (gateway, admin client)."""
    admin_port = free_port()
    env = {"ADMIN_PORT": str(admin_port), "ADMIN_KEY": ADMIN_KEY, "OPENAI_API_KEY": "sk-server-side"}
    env.update(extra_env or {})
    gw = start_gateway(binary, upstream_port, env)
    context = None
    if "TLS_CERT_FILE" in gw.env:
        context = ssl.create_default_context(cafile=gw.env["TLS_CERT_FILE"])
    admin = Admin(admin_port, "https" if context else "http", context)
    deadline = time.time() + 10
    while admin.call("GET", "/admin/status")[0] != 200:
        assert time.time() < deadline, "the admin listener did not answer"
        time.sleep(0.05)
    # The listener can answer before the ledger has opened its database; until then the key
    # routes answer 503 ("retry shortly"), which the tests are not about.
    while admin.call("GET", "/admin/keys")[0] == 503:
        assert time.time() < deadline, "the database did not open"
        time.sleep(0.05)
    return gw, admin


class OTLPReceiver(http.server.BaseHTTPRequestHandler):
    """An OTLP/HTTP trace receiver (protobuf or JSON, decoded with the `opentelemetry-proto`
    package): every span it is sent, as plain dicts, in `spans`."""
    spans: list = []
    requests: list = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        from google.protobuf import json_format
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.headers.get("content-encoding") == "gzip":
            import gzip
            body = gzip.decompress(body)
        export = trace_service_pb2.ExportTraceServiceRequest()
        json_mode = "json" in (self.headers.get("content-type") or "")
        if json_mode:
            json_format.Parse(body, export)
        else:
            export.ParseFromString(body)
        OTLPReceiver.requests.append({"path": self.path, "headers": dict(self.headers), "json": json_mode})
        for resource in export.resource_spans:
            resource_attributes = {a.key: value_of(a.value) for a in resource.resource.attributes}
            for scope in resource.scope_spans:
                for span in scope.spans:
                    OTLPReceiver.spans.append({
                        "name": span.name, "trace_id": span.trace_id.hex(), "span_id": span.span_id.hex(),
                        "parent_span_id": span.parent_span_id.hex(), "kind": span.kind,
                        "attributes": {a.key: value_of(a.value) for a in span.attributes},
                        "events": [(e.name, {a.key: value_of(a.value) for a in e.attributes}) for e in span.events],
                        "status": span.status.code, "resource": resource_attributes})
        reply = b"{}" if json_mode else trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
        self.send_response(200)
        self.send_header("content-type", "application/json" if json_mode else "application/x-protobuf")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)


def value_of(value):
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [value_of(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


@pytest.fixture
def otlp():
    """A fresh OTLP/HTTP receiver on a free loopback port: (server, its spans list)."""
    OTLPReceiver.spans = []
    OTLPReceiver.requests = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), OTLPReceiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
