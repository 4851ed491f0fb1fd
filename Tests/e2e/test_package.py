"""What users run without a checkout: the packaged binary (`scripts/package`) unpacked into an
empty directory, and the runtime image's exported root filesystem under chroot. Each runs with a
clean environment, the toolchain out of reach and, when the tests run as root, as an unprivileged
user (the image's 65532): it links only the C library and its companions, and `version`,
`count-tokens` (exact on tiktoken's golden rows), `check-config` and `serve` (health, the image's
own health probe, a streamed and a whole chat request against a mock upstream, exit 0 on SIGTERM)
work. `scripts/check-package` builds both and sets `SWITCHYARD_PACKAGE` (the archive) and
`SWITCHYARD_IMAGE_ROOT` (the exported image); without them these tests are skipped."""
import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, free_port

ARCHIVE = os.environ.get("SWITCHYARD_PACKAGE")
IMAGE_ROOT = os.environ.get("SWITCHYARD_IMAGE_ROOT")
# The image's user; also used for the archive when the tests run as root.
UNPRIVILEGED = 65532
CLEAN = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent"}


class Installed:
    """How to run the switchyard of one installation: a command line, in which directory."""

    def __init__(self, prefix, cwd, config, as_user):
        self.prefix, self.cwd, self.config, self.as_user = prefix, cwd, config, as_user

    def command(self, *args):
        return [*self.prefix, *args]

    def popen(self, args, env, **kwargs):
        user = {"user": UNPRIVILEGED, "group": UNPRIVILEGED, "extra_groups": []} if self.as_user else {}
        return subprocess.Popen(self.command(*args), cwd=self.cwd, env={**CLEAN, **env}, **user, **kwargs)

    def run(self, *args, env=None, **kwargs):
        with self.popen(args, env or {}, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                        stderr=subprocess.PIPE) as process:
            out, err = process.communicate(kwargs.get("input"), timeout=60)
        return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def unpacked_archive():
    if not ARCHIVE:
        pytest.skip("set SWITCHYARD_PACKAGE to a packaged archive (scripts/check-package does)")
    # World-readable, so the unprivileged user can reach it.
    empty = Path(tempfile.mkdtemp(prefix="switchyard-empty-"))
    os.chmod(empty, 0o755)
    with tarfile.open(ARCHIVE) as tar:
        tar.extractall(empty, filter="data")
    (folder,) = list(empty.iterdir())
    assert sorted(p.name for p in folder.iterdir()) == ["LICENSE", "README", "switchyard", "switchyard.yaml"]
    return empty, Installed(["./switchyard"], folder, "switchyard.yaml", as_user=os.geteuid() == 0)


def exported_image():
    if not IMAGE_ROOT:
        pytest.skip("set SWITCHYARD_IMAGE_ROOT to an exported image (scripts/check-package does, as root)")
    # The image has no `env`: chroot runs as the image's user with only the variables given.
    chroot = shutil.which("chroot")
    prefix = [chroot, f"--userspec={UNPRIVILEGED}:{UNPRIVILEGED}", IMAGE_ROOT, "/usr/local/bin/switchyard"]
    return None, Installed(prefix, "/", "/etc/switchyard/switchyard.yaml", as_user=False)


@pytest.fixture(scope="module", params=["archive", "image"])
def installed(request):
    made, installation = unpacked_archive() if request.param == "archive" else exported_image()
    yield installation
    if made:
        shutil.rmtree(made)


def inspected(*tool):
    """What `tool` (ldd, readelf) prints about the unpacked archive's binary."""
    made, installation = unpacked_archive()
    try:
        return subprocess.run([*tool, str(installation.cwd / "switchyard")], capture_output=True, text=True).stdout
    finally:
        shutil.rmtree(made)


def test_the_archive_links_only_the_c_library_and_its_companions():
    libraries = inspected("ldd")
    names = {line.split()[0] for line in libraries.splitlines() if line.strip()}
    allowed = {"linux-vdso.so.1", "libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1", "libz.so.1",
               "/lib64/ld-linux-x86-64.so.2", "/lib/ld-linux-aarch64.so.1", "ld-linux-aarch64.so.1"}
    assert names <= allowed, names - allowed
    assert "swift" not in libraries


def test_the_archive_packs_its_relative_relocations():
    """scripts/build-release links with packed relative relocations: the loader reads a table of a
    few tens of kilobytes at start, not the 3.7 MB of one entry per pointer that a plain link has."""
    dynamic = inspected("readelf", "--dynamic")
    sizes = {match[0]: int(match[1]) for match in re.findall(r"\((RELASZ|RELRSZ)\)\s+(\d+) \(bytes\)", dynamic)}
    assert "RELRSZ" in sizes, dynamic
    assert sizes["RELASZ"] + sizes["RELRSZ"] < 256 * 1024, sizes


def test_version_count_tokens_and_check_config(installed):
    assert installed.run("version").stdout.decode().strip().startswith("switchyard ")
    rows = [json.loads(line) for line in open(ROOT / "Tests/SwitchyardTokenizerTests/Fixtures/golden.jsonl")]
    for row in rows[:60]:
        for encoding in ("cl100k_base", "o200k_base"):
            out = installed.run("count-tokens", "--encoding", encoding, "--ids", input=row["text"].encode())
            ids = [int(i) for i in out.stdout.split()]
            assert ids == row[encoding], (row["text"], encoding)
    checked = installed.run("check-config", "--config", installed.config)
    assert checked.returncode == 0, checked.stderr
    assert b"gpt-4o" in checked.stdout


def test_it_serves_health_and_chat_requests(installed, upstream):
    port = free_port()
    env = {"HOST": "127.0.0.1", "PROXY_PORT": str(port), "METRICS_PORT": str(free_port()),
           "OPENAI_DOMAIN": "127.0.0.1", "OPENAI_PORT": str(upstream.server_address[1]), "OPENAI_TLS": "false",
           "DATABASE_URL": "none", "SWITCHYARD_CONFIG": installed.config}
    process = installed.popen(["serve"], env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 20
        while True:
            try:
                assert urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).status == 200
                break
            except OSError:
                assert time.time() < deadline and process.poll() is None, process.stderr.read()
                time.sleep(0.1)
        # The container's health check: the binary's own probe, from inside the installation.
        probe = installed.run("probe", f"http://127.0.0.1:{port}/health")
        assert probe.returncode == 0, probe.stderr
        assert installed.run("probe", f"http://127.0.0.1:{port}/nowhere").returncode == 1
        for stream in (False, True):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/v1/chat/completions", method="POST",
                data=json.dumps({"model": "gpt-4o-mini", "stream": stream,
                                 "messages": [{"role": "user", "content": "Hi"}]}).encode(),
                headers={"content-type": "application/json", "authorization": "Bearer sk-client"})
            body = urllib.request.urlopen(request, timeout=10).read().decode()
            if stream:
                assert body.rstrip().endswith("data: [DONE]"), body
                text = "".join(json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
                               for line in body.splitlines()
                               if line.startswith("data: {") and json.loads(line[6:])["choices"])
            else:
                text = json.loads(body)["choices"][0]["message"]["content"]
            assert text == ("one two three four five" if stream else "Hello from the mock"), body
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
