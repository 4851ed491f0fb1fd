"""The packaged binary (`scripts/package`) from an empty directory with a clean environment and
the toolchain out of reach: it links only the C library and its companions, and `version`,
`count-tokens` (exact on tiktoken's golden rows), `check-config` and `serve` (health and a chat
request against a mock upstream) work. Slow (a static release build): run with
`SWITCHYARD_PACKAGE_TEST=1`, as `scripts/check-package` does."""
import json
import os
import subprocess
import tarfile
import time
import urllib.request

import pytest

from conftest import ROOT, free_port

pytestmark = pytest.mark.skipif(os.environ.get("SWITCHYARD_PACKAGE_TEST") != "1",
                                reason="builds a static release binary; run with SWITCHYARD_PACKAGE_TEST=1")
CLEAN = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


@pytest.fixture(scope="module")
def unpacked(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    archive = subprocess.run([str(ROOT / "scripts/package"), str(out)], check=True, capture_output=True,
                             text=True, timeout=3600).stdout.strip()
    empty = tmp_path_factory.mktemp("empty")
    with tarfile.open(archive) as tar:
        tar.extractall(empty, filter="data")
    (folder,) = list(empty.iterdir())
    assert sorted(p.name for p in folder.iterdir()) == ["LICENSE", "README", "switchyard", "switchyard.yaml"]
    return folder


def run(folder, *args, **kwargs):
    return subprocess.run(["./switchyard", *args], cwd=folder, env=CLEAN, capture_output=True, timeout=60, **kwargs)


def test_it_links_only_the_c_library_and_its_companions(unpacked):
    libraries = subprocess.run(["ldd", str(unpacked / "switchyard")], capture_output=True, text=True).stdout
    names = {line.split()[0] for line in libraries.splitlines() if line.strip()}
    allowed = {"linux-vdso.so.1", "libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1",
               "/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1", "ld-linux-aarch64.so.1"}
    assert names <= allowed, names - allowed
    assert "swift" not in libraries


def test_version_count_tokens_and_check_config_from_an_empty_directory(unpacked):
    assert run(unpacked, "version", text=True).stdout.strip().startswith("switchyard ")
    rows = [json.loads(line) for line in open(ROOT / "Tests/SwitchyardTokenizerTests/Fixtures/golden.jsonl")]
    for row in rows[:60]:
        for encoding in ("cl100k_base", "o200k_base"):
            out = run(unpacked, "count-tokens", "--encoding", encoding, "--ids", input=row["text"].encode())
            ids = [int(i) for i in out.stdout.split()]
            assert ids == row[encoding], (row["text"], encoding)
    checked = run(unpacked, "check-config", "--config", "switchyard.yaml", text=True)
    assert checked.returncode == 0, checked.stderr
    assert "gpt-4o" in checked.stdout


def test_it_serves_health_and_a_chat_request(unpacked, upstream):
    port = free_port()
    env = {**CLEAN, "HOST": "127.0.0.1", "PROXY_PORT": str(port), "METRICS_PORT": str(free_port()),
           "OPENAI_DOMAIN": "127.0.0.1", "OPENAI_PORT": str(upstream.server_address[1]), "OPENAI_TLS": "false",
           "DATABASE_URL": "none"}
    process = subprocess.Popen(["./switchyard", "serve"], cwd=unpacked, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while True:
            try:
                assert urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).status == 200
                break
            except OSError:
                assert time.time() < deadline and process.poll() is None, process.stderr.read()
                time.sleep(0.1)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/chat/completions", method="POST",
            data=json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi"}]}).encode(),
            headers={"content-type": "application/json", "authorization": "Bearer sk-client"})
        answer = json.loads(urllib.request.urlopen(request, timeout=10).read())
        assert answer["choices"][0]["message"]["content"] == "Hello from the mock"
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
