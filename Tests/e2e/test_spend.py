"""Spend: the cost of each request (header, metric, log line), unpriced models, dollar budgets
(per team, shared by two instances through Redis), and the spend ledger in SQLite and in a real
PostgreSQL, read back with `switchyard spend` and `GET /admin/spend`."""
import hashlib
import json
import re
import sqlite3
import subprocess
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import anthropic
import openai
import pytest

from conftest import free_port, start_gateway

HI = [{"role": "user", "content": "Hi"}]
# The mock reports 9 prompt + 4 completion tokens for a whole answer; gpt-4o-mini costs $0.15 and
# $0.60 per million: 9 * 0.15e-6 + 4 * 0.60e-6.
MINI_COST = 0.00000375


def metric_sum(text: str, name: str, **labels) -> float:
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def spend(binary, database_url: str, *args) -> dict:
    out = subprocess.run([str(binary), "spend", "--json", *args], env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def ledger_requests(binary, database_url: str) -> int:
    return sum(row["requests"] for row in spend(binary, database_url)["data"])


def client(gw, key="sk-anything", **options):
    return openai.OpenAI(base_url=gw.base_url, api_key=key, max_retries=0, timeout=20, **options)


def test_cost_in_header_metric_log_line_and_sqlite_ledger(binary, upstream, tmp_path):
    database = f"sqlite:{tmp_path}/ledger.sqlite"
    gw = start_gateway(binary, upstream.server_address[1], {"DATABASE_URL": database, "LOG_LEVEL": "info"})
    try:
        c = client(gw)
        raw = c.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HI)
        assert float(raw.headers["x-switchyard-cost-usd"]) == pytest.approx(MINI_COST)
        # A mixed run: whole answers, streams (usage counted here: the mock reports none),
        # embeddings, the Messages door, an unpriced model and an upstream failure.
        c.chat.completions.create(model="gpt-4o-mini-2024-07-18", messages=HI)
        for chunk in c.chat.completions.create(model="gpt-4o", messages=HI, stream=True):
            pass
        c.embeddings.create(model="text-embedding-3-small", input="hello")
        anthropic.Anthropic(base_url=f"http://127.0.0.1:{gw.port}", api_key="sk-x", max_retries=0).messages.create(
            model="gpt-4o-mini", max_tokens=10, messages=HI)
        c.chat.completions.create(model="gpt-unpriced-e2e", messages=HI)
        with pytest.raises(openai.InternalServerError):
            c.chat.completions.create(model="gpt-broken", messages=HI)
        metrics = gw.metrics()
    finally:
        gw.stop()
    log = gw.process.stdout.read().decode() + gw.process.stderr.read().decode()
    assert re.search(r"cost_usd=0\.00000375\b", log), log[-2000:]
    # The date-suffixed name is priced as its family.
    assert metric_sum(metrics, "switchyard_cost_usd_total", model="gpt-4o-mini-2024-07-18") == pytest.approx(MINI_COST)
    assert metric_sum(metrics, "switchyard_unpriced_requests_total", model="gpt-unpriced-e2e") == 1
    report = spend(binary, database, "--by", "model")
    rows = {row["model"]: row for row in report["data"]}
    assert report["total_usd"] == pytest.approx(metric_sum(metrics, "switchyard_cost_usd_total"))
    assert sum(r["tokens_in"] for r in rows.values()) == metric_sum(metrics, "switchyard_prompt_tokens_total")
    assert sum(r["tokens_out"] for r in rows.values()) == metric_sum(metrics, "switchyard_completion_tokens_total")
    assert sum(r["requests"] for r in rows.values()) == metric_sum(metrics, "switchyard_requests_total")
    assert rows["gpt-unpriced-e2e"]["unpriced_requests"] == 1
    assert rows["gpt-4o"]["tokens_out"] > 0  # the stream's completion, counted from its text
    # One row per request, and no prompt or completion text anywhere in it.
    with sqlite3.connect(f"{tmp_path}/ledger.sqlite") as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE name LIKE 'spend_%'")]
        assert len(tables) == 1 and re.fullmatch(r"spend_\d{8}", tables[0])
        stored = db.execute(f"SELECT * FROM {tables[0]}").fetchall()
    assert len(stored) == 7
    assert not any("Hi" == cell or "Hello" in str(cell) or "one two" in str(cell) for row in stored for cell in row)


def test_unpriced_models_warn_once_and_can_be_refused(binary, upstream):
    gw = start_gateway(binary, upstream.server_address[1])
    try:
        for _ in range(3):
            client(gw).chat.completions.create(model="gpt-unpriced-warn", messages=HI)
        assert metric_sum(gw.metrics(), "switchyard_unpriced_requests_total", model="gpt-unpriced-warn") == 3
    finally:
        gw.stop()
    log = gw.process.stdout.read().decode() + gw.process.stderr.read().decode()
    assert log.count("model has no price") == 1, log
    strict = start_gateway(binary, upstream.server_address[1], {"REFUSE_UNPRICED": "true"})
    try:
        with pytest.raises(openai.PermissionDeniedError) as refused:
            client(strict).chat.completions.create(model="gpt-unpriced-warn", messages=HI)
        assert refused.value.code == "model_not_priced"
        assert client(strict).chat.completions.create(model="gpt-4o-mini", messages=HI).choices
    finally:
        strict.stop()


def test_team_budget_in_dollars_refuses_with_remaining_and_reset(binary, upstream, tmp_path):
    keys = {"alice": "sk-alice-key", "bob": "sk-bob-key"}
    config = tmp_path / "switchyard.yaml"
    config.write_text(
        "gateway_keys:\n" + "".join(
            f"  - {{name: {name}, team: research, sha256: {hashlib.sha256(secret.encode()).hexdigest()}}}\n"
            for name, secret in keys.items())
        + "budgets:\n  - {name: research-monthly, team: research, usd: 0.00001, period: month}\n")
    gw = start_gateway(binary, upstream.server_address[1], {"SWITCHYARD_CONFIG": str(config)})
    try:
        # Each request reserves its counted prompt and max_tokens at gpt-4o-mini's price and is
        # settled at $0.00000375: two fit in $0.00001, the third does not, whichever key sends it.
        for name in ("alice", "alice"):
            client(gw, keys[name]).chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=4)
        with pytest.raises(openai.RateLimitError) as refused:
            client(gw, keys["bob"]).chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=4)
        error = refused.value
        assert error.code == "budget_exceeded" and error.type == "insufficient_quota"
        assert "research-monthly" in error.message
        headers = error.response.headers
        assert headers["x-ratelimit-limit-usd"] == "0.00001"
        assert float(headers["x-ratelimit-remaining-usd"]) == pytest.approx(0.00001 - 2 * MINI_COST)
        assert headers["x-ratelimit-reset-usd"] and int(headers["retry-after"]) > 0
        # The Messages door goes through the same budget and answers in Anthropic's shape.
        with pytest.raises(anthropic.RateLimitError) as shaped:
            anthropic.Anthropic(base_url=f"http://127.0.0.1:{gw.port}", api_key=keys["bob"], max_retries=0).messages.create(
                model="gpt-4o-mini", max_tokens=4, messages=HI)
        assert shaped.value.body["error"]["type"] == "rate_limit_error"
    finally:
        gw.stop()


def test_two_instances_hold_one_dollar_budget_under_200_concurrent_requests(binary, upstream, redis, postgres, tmp_path):
    controller, url = postgres
    controller.sql("DROP DATABASE IF EXISTS shared_budget")
    controller.sql("CREATE DATABASE shared_budget")
    database = url.rsplit("/", 1)[0] + "/shared_budget"
    config = tmp_path / "switchyard.yaml"
    # gpt-slow streams for about a second, so the 200 requests overlap; its price makes each
    # request reserve about $0.02 of a $1 budget per user.
    config.write_text(
        "prices:\n  - {provider: openai, model: gpt-slow, input: 1000, output: 2000}\n"
        "budgets:\n  - {name: per-user, user: '*', usd: 1, period: month}\n")
    env = {"SWITCHYARD_CONFIG": str(config), "REDIS_URL": redis[1], "DATABASE_URL": database,
           "MAX_CONNECTIONS_PER_ADDRESS": "0", "MAX_CONCURRENT_REQUESTS": "0"}
    gateways = [start_gateway(binary, upstream.server_address[1], env) for _ in range(2)]
    clients = [client(gw, default_headers={"user": "carol"}) for gw in gateways]

    def one(index: int) -> int:
        try:
            for _ in clients[index % 2].chat.completions.create(model="gpt-slow", messages=HI, stream=True, max_tokens=5):
                pass
            return 200
        except openai.APIStatusError as error:
            return error.status_code

    try:
        with ThreadPoolExecutor(max_workers=200) as pool:
            statuses = list(pool.map(one, range(200)))
        metrics = [gw.metrics() for gw in gateways]
    finally:
        for gw in gateways:
            gw.stop()
    assert set(statuses) <= {200, 429}, statuses
    admitted = statuses.count(200)
    report = spend(binary, database, "--by", "user")
    assert report["data"][0]["requests"] == 200
    spent = report["total_usd"]
    reservation = (8 * 1000 + 5 * 2000) / 1e6  # the counted prompt and max_tokens at the price
    assert spent <= 1 + reservation, (spent, admitted)
    assert admitted >= 40, statuses
    assert spent == pytest.approx(sum(metric_sum(m, "switchyard_cost_usd_total") for m in metrics))


def test_postgres_ledger_catches_up_after_an_outage_and_counts_what_it_drops(binary, upstream, postgres):
    controller, url = postgres
    for name in ("outage_kept", "outage_dropped"):
        controller.sql(f"DROP DATABASE IF EXISTS {name}")
        controller.sql(f"CREATE DATABASE {name}")
    base = url.rsplit("/", 1)[0]
    kept = start_gateway(binary, upstream.server_address[1], {"DATABASE_URL": f"{base}/outage_kept"})
    small = start_gateway(binary, upstream.server_address[1],
                          {"DATABASE_URL": f"{base}/outage_dropped", "LEDGER_QUEUE_ROWS": "10"})
    try:
        for gw in (kept, small):
            for _ in range(10):
                client(gw).chat.completions.create(model="gpt-4o-mini", messages=HI)
        time.sleep(1.5)
        controller.stop()
        # The database is down: requests are served as ever, their rows wait (or, past the
        # small queue's 10 rows, are dropped and counted).
        for gw in (kept, small):
            for _ in range(30):
                assert client(gw).chat.completions.create(model="gpt-4o-mini", messages=HI).choices
        assert metric_sum(kept.metrics(), "switchyard_ledger_dropped_rows_total") == 0
        assert metric_sum(small.metrics(), "switchyard_ledger_dropped_rows_total") == 20
        controller.start()
        # The writer retries every few seconds; the queued rows arrive without a restart.
        deadline = time.time() + 30
        while time.time() < deadline and ledger_requests(binary, f"{base}/outage_kept") < 40:
            time.sleep(0.5)
        assert ledger_requests(binary, f"{base}/outage_kept") == 40
    finally:
        for gw in (kept, small):
            gw.stop()
    assert spend(binary, f"{base}/outage_kept", "--by", "model")["data"][0]["requests"] == 40
    assert spend(binary, f"{base}/outage_kept")["total_usd"] == pytest.approx(40 * MINI_COST)
    # The small queue kept its last 10 rows of the outage: 10 before, 10 after, 20 counted as dropped.
    assert spend(binary, f"{base}/outage_dropped", "--by", "day")["data"][0]["requests"] == 20


def test_spend_command_and_admin_api(binary, upstream, tmp_path):
    keys = {"alice": "sk-alice-2", "bob": "sk-bob-2"}
    config = tmp_path / "switchyard.yaml"
    config.write_text("gateway_keys:\n" + "".join(
        f"  - {{name: {name}, team: {'ops' if name == 'bob' else 'research'}, sha256: {hashlib.sha256(secret.encode()).hexdigest()}}}\n"
        for name, secret in keys.items()))
    admin_port = free_port()
    database = f"sqlite:{tmp_path}/ledger.sqlite"
    gw = start_gateway(binary, upstream.server_address[1], {
        "SWITCHYARD_CONFIG": str(config), "DATABASE_URL": database, "ADMIN_PORT": str(admin_port),
        "ADMIN_KEY": "admin-secret"})

    def admin(path: str, key: str | None):
        request = urllib.request.Request(f"http://127.0.0.1:{admin_port}{path}")
        if key:
            request.add_header("authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read())

    try:
        for name, count in (("alice", 3), ("bob", 1)):
            for _ in range(count):
                client(gw, keys[name]).chat.completions.create(model="gpt-4o-mini", messages=HI)
        time.sleep(1.5)  # the ledger writes off the request path
        status, body = admin("/admin/spend?by=key", None)
        assert status == 401 and body["error"]["type"] == "authentication_error"
        assert admin("/admin/spend?by=key", "wrong")[0] == 401
        assert admin("/admin/spend?by=nothing", "admin-secret")[0] == 400
        status, body = admin("/admin/spend?by=key", "admin-secret")
        assert status == 200
        by_key = {row["key"]: row for row in body["data"]}
        assert by_key["alice"]["requests"] == 3 and by_key["bob"]["requests"] == 1
        assert by_key["alice"]["cost_usd"] == pytest.approx(3 * MINI_COST)
        status, body = admin("/admin/spend?by=team", "admin-secret")
        assert {row["team"] for row in body["data"]} == {"research", "ops"}
        status, body = admin("/admin/status", "admin-secret")
        assert status == 200 and body["object"] == "status"
        assert {p["name"] for p in body["providers"]} >= {"openai", "anthropic", "gemini", "ollama"}
        # With the admin listener on, keys made through it may carry budgets: the store is there.
        assert body["budget_store"] == "memory" and body["requests_in_flight"] == 0
        assert admin("/admin/status", None)[0] == 401
        # The client listener never serves admin routes.
        with pytest.raises(urllib.error.HTTPError) as hidden:
            urllib.request.urlopen(f"http://127.0.0.1:{gw.port}/admin/spend", timeout=5)
        assert hidden.value.code == 404
    finally:
        gw.stop()
    table = subprocess.run([str(binary), "spend", "--by", "key", "--since", time.strftime("%Y-%m-%d", time.gmtime())],
                           env={"DATABASE_URL": database}, check=True, capture_output=True, text=True).stdout
    assert re.search(r"^alice\s+3\s", table, re.M) and re.search(r"^bob\s+1\s", table, re.M), table
    bad = subprocess.run([str(binary), "spend", "--since", "yesterday"], env={"DATABASE_URL": database},
                         capture_output=True, text=True)
    assert bad.returncode == 1 and "since" in bad.stderr


def test_check_config_prints_the_price_of_each_route(binary, tmp_path):
    config = tmp_path / "switchyard.yaml"
    config.write_text(
        "routes:\n  - {match: smart, provider: anthropic, model: claude-sonnet-4-5-20250929}\n"
        "  - {match: house, provider: openai, model: house-model}\n"
        "prices:\n  - {provider: openai, model: house-model, input: 1, output: 2, source: our contract, date: 2026-11}\n")
    out = subprocess.run([str(binary), "check-config", "--config", str(config)], capture_output=True, text=True,
                         check=True).stdout
    assert "smart -> anthropic: `claude-sonnet-4-5-20250929` as claude-sonnet-4-5: $3.00 in / $15.00 out" in out
    assert "house -> openai: `house-model` as house-model: $1.00 in / $2.00 out" in out
    assert "anything else -> ollama: free unless the model is priced" in out
    assert "openai/house-model: $1.00 in / $2.00 out per 1M tokens; our contract, 2026-11" in out
