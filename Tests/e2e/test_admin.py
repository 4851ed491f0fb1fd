"""The admin API: every route refused without or with a wrong admin key; gateway keys made,
used with the official SDK, changed, rotated and revoked without a restart; keys shared by two
instances through one database (PostgreSQL) within seconds, also while a stream is running; the
configuration reloaded on SIGHUP and through the API, a bad file refused; the status and log
routes; the admin listener over TLS."""
import signal
import time

import openai
import pytest

from conftest import ADMIN_KEY, start_admin_gateway, start_gateway

HI = [{"role": "user", "content": "Hi"}]

ROUTES = [
    ("GET", "/admin/status"), ("GET", "/admin/spend"), ("GET", "/admin/logs"), ("POST", "/admin/reload"),
    ("GET", "/admin/keys"), ("POST", "/admin/keys"), ("GET", "/admin/keys/key_x"),
    ("GET", "/admin/keys/key_x/usage"), ("PATCH", "/admin/keys/key_x"), ("POST", "/admin/keys/key_x/revoke"),
    ("POST", "/admin/keys/key_x/rotate"), ("GET", "/admin/nothing"),
]


def client(gw, key):
    return openai.OpenAI(base_url=gw.base_url, api_key=key, max_retries=0, timeout=20)


def wait_until(check, seconds: float, what: str):
    deadline = time.time() + seconds
    while not check():
        assert time.time() < deadline, what
        time.sleep(0.05)
    return time.time()


def works(gw, key) -> bool:
    try:
        client(gw, key).chat.completions.create(model="gpt-4o-mini", messages=HI)
        return True
    except openai.AuthenticationError:
        return False


@pytest.fixture(scope="module")
def admin_gateway(binary, upstream):
    gw, admin = start_admin_gateway(binary, upstream.server_address[1], {"LOG_LEVEL": "info"})
    yield gw, admin
    gw.stop()


def test_every_admin_route_refuses_a_missing_or_wrong_admin_key(admin_gateway):
    gw, admin = admin_gateway
    for method, path in ROUTES:
        for key in (None, "wrong", ADMIN_KEY + "x", ""):
            status, body = admin.call(method, path, {} if method in ("POST", "PATCH") else None, key=key)
            assert status == 401, (method, path, key, status)
            assert body["error"]["type"] == "authentication_error"
            assert ADMIN_KEY not in str(body)
    # The client listener never serves admin routes, even with the admin key.
    status, _ = admin.__class__(gw.port).call("GET", "/admin/status")
    assert status == 404


def test_a_key_is_made_used_changed_rotated_and_revoked_without_a_restart(admin_gateway):
    gw, admin = admin_gateway
    # Provider keys live on the server, so a client needs a gateway key even before one exists.
    with pytest.raises(openai.AuthenticationError):
        client(gw, "sk-anything").chat.completions.create(model="gpt-4o-mini", messages=HI)

    status, made = admin.call("POST", "/admin/keys", {"name": "colleague", "team": "research", "budget_usd": 20,
                                                      "models": ["gpt-4o*"], "max_requests": 1000})
    assert status == 201, made
    secret = made["key"]
    assert secret.startswith("sy-") and len(secret) == 43
    assert made["budget_usd"] == 20 and made["budget_period"] == "month" and made["team"] == "research"
    assert made["hint"] == "…" + secret[-4:]

    # Shown once: neither the list nor the key's page has the secret.
    status, listed = admin.call("GET", "/admin/keys")
    assert status == 200 and [k["name"] for k in listed["data"]] == ["colleague"]
    assert secret not in str(listed) and secret not in str(admin.call("GET", f"/admin/keys/{made['id']}")[1])

    # It works at once on this instance, with the official SDK; a model outside its list is refused.
    c = client(gw, secret)
    raw = c.chat.completions.with_raw_response.create(model="gpt-4o-mini", messages=HI)
    assert raw.parse().choices[0].message.content == "Hello from the mock"
    assert float(raw.headers["x-switchyard-cost-usd"]) > 0
    with pytest.raises(openai.PermissionDeniedError):
        c.chat.completions.create(model="gpt-3.5-turbo", messages=HI)

    # Its spend shows in its usage once the ledger has written the row.
    def spent():
        return admin.call("GET", f"/admin/keys/{made['id']}/usage")[1]
    wait_until(lambda: spent()["requests"] >= 1, 10, "the key's usage did not show its request")
    usage = spent()
    assert usage["spent_usd"] > 0 and usage["budget_usd"] == 20
    assert usage["by_model"]["data"][0]["model"] == "gpt-4o-mini"

    # Update: one request per window is used up by the request above.
    status, changed = admin.call("PATCH", f"/admin/keys/{made['id']}", {"max_requests": 1, "models": None})
    assert status == 200 and changed["max_requests"] == 1 and changed["models"] is None
    with pytest.raises(openai.RateLimitError):
        c.chat.completions.create(model="gpt-3.5-turbo", messages=HI)
    status, changed = admin.call("PATCH", f"/admin/keys/{made['id']}", {"max_requests": None})
    assert status == 200 and works(gw, secret)

    # Rotate: the old secret stops at once, the new one works.
    status, rotated = admin.call("POST", f"/admin/keys/{made['id']}/rotate")
    assert status == 200 and rotated["key"] != secret and rotated["id"] == made["id"]
    assert not works(gw, secret) and works(gw, rotated["key"])

    # Revoke: refused on its next request, here at once.
    status, revoked = admin.call("POST", f"/admin/keys/{made['id']}/revoke")
    assert status == 200 and revoked["revoked_at"]
    with pytest.raises(openai.AuthenticationError):
        client(gw, rotated["key"]).chat.completions.create(model="gpt-4o-mini", messages=HI)
    assert admin.call("POST", f"/admin/keys/{made['id']}/revoke")[0] == 409
    assert admin.call("GET", "/admin/keys")[1]["data"] == []
    assert [k["name"] for k in admin.call("GET", "/admin/keys?include_revoked=true")[1]["data"]] == ["colleague"]
    # The name is free again once revoked.
    assert admin.call("POST", "/admin/keys", {"name": "colleague"})[0] == 201


@pytest.mark.parametrize("body, field", [
    ({}, "name"), ({"name": "has space"}, "name"), ({"name": "x", "budget_usd": -1}, "budget_usd"),
    ({"name": "x", "max_tokens": 0}, "max_tokens"), ({"name": "x", "colour": "red"}, "colour"),
    ({"name": "x", "expires": "tomorrow"}, "expires"), ({"name": "x", "models": []}, "models"),
    ({"name": "x", "budget_period": "day"}, "budget_period"),
    ({"name": "x", "budget_usd": 5, "budget_period": "year"}, "budget_period"),
])
def test_a_bad_key_request_is_refused_with_the_field_named(admin_gateway, body, field):
    _, admin = admin_gateway
    status, answer = admin.call("POST", "/admin/keys", body)
    assert status == 400 and answer["error"]["type"] == "invalid_request_error"
    assert answer["error"]["message"].startswith(field), answer


def test_refusals_for_unknown_duplicate_and_config_file_keys(binary, upstream, tmp_path):
    config = tmp_path / "switchyard.yaml"
    config.write_text("gateway_keys:\n  - name: from-file\n    key_env: FILE_KEY\n")
    gw, admin = start_admin_gateway(binary, upstream.server_address[1],
                                    {"SWITCHYARD_CONFIG": str(config), "FILE_KEY": "sk-file-key"})
    try:
        assert admin.call("GET", "/admin/keys/key_nope")[0] == 404
        assert admin.call("PATCH", "/admin/keys/key_nope", {"max_tokens": 5})[0] == 404
        status, body = admin.call("POST", "/admin/keys", {"name": "from-file"})
        assert status == 409 and body["error"]["code"] == "key_exists"
        listed = admin.call("GET", "/admin/keys")[1]["data"]
        assert listed[0]["source"] == "config" and listed[0]["id"] == "config:from-file"
        status, body = admin.call("POST", "/admin/keys/config:from-file/revoke")
        assert status == 409 and body["error"]["code"] == "key_in_config_file"
        assert admin.call("POST", "/admin/keys", {"name": "twice"})[0] == 201
        assert admin.call("POST", "/admin/keys", {"name": "twice"})[0] == 409
        assert works(gw, "sk-file-key")
    finally:
        gw.stop()


def test_a_key_dollar_budget_holds(admin_gateway):
    gw, admin = admin_gateway
    status, made = admin.call("POST", "/admin/keys", {"name": "tiny-budget", "budget_usd": 0.00002})
    assert status == 201
    c = client(gw, made["key"])
    refused = None
    for _ in range(20):
        try:
            c.chat.completions.create(model="gpt-4o-mini", messages=HI, max_tokens=5)
        except openai.RateLimitError as error:
            refused = error
            break
    assert refused is not None, "a $0.00002 budget let 20 requests through"
    assert refused.body["code"] == "budget_exceeded"


def test_keys_reach_every_instance_on_one_database_within_seconds(binary, upstream, postgres):
    _, url = postgres
    one, admin = start_admin_gateway(binary, upstream.server_address[1], {"DATABASE_URL": url})
    two, _ = start_admin_gateway(binary, upstream.server_address[1], {"DATABASE_URL": url})
    try:
        status, made = admin.call("POST", "/admin/keys", {"name": "shared-key"})
        assert status == 201
        made_at = time.time()
        seen = wait_until(lambda: works(two, made["key"]), 10, "the other instance never took the new key")
        assert seen - made_at < 4, f"the other instance took {seen - made_at:.1f} s"

        # A long stream on the other instance runs to its end; its next request is refused.
        stream = client(two, made["key"]).chat.completions.create(model="gpt-slow", messages=HI, stream=True)
        first = next(iter(stream))
        assert first.choices[0].delta.role == "assistant"
        assert admin.call("POST", f"/admin/keys/{made['id']}/revoke")[0] == 200
        revoked_at = time.time()
        text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
        assert text == "one two three four five"
        refused = wait_until(lambda: not works(two, made["key"]), 10, "the other instance kept a revoked key")
        assert refused - revoked_at < 4
    finally:
        one.stop()
        two.stop()


def test_sighup_and_the_admin_call_reload_the_file_and_a_bad_file_is_refused(binary, upstream, tmp_path):
    port = upstream.server_address[1]
    config = tmp_path / "switchyard.yaml"
    provider = (f"providers:\n  - name: mock\n    kind: openai\n    base_url: http://127.0.0.1:{port}/v1\n"
                "    api_key_env: MOCK_KEY\n")
    config.write_text(provider + "routes:\n  - match: alias-one\n    provider: mock\n    model: gpt-4o-mini\n"
                      "gateway_keys:\n  - name: first\n    key_env: FIRST_KEY\n")
    gw, admin = start_admin_gateway(binary, port, {"SWITCHYARD_CONFIG": str(config), "MOCK_KEY": "sk-mock",
                                                   "FIRST_KEY": "sk-first", "SECOND_KEY": "sk-second",
                                                   "LOG_LEVEL": "info"})
    try:
        c = client(gw, "sk-first")
        assert c.chat.completions.create(model="alias-one", messages=HI).model == "gpt-4o-mini"
        assert not works(gw, "sk-second")

        # A stream started before the reload finishes on the configuration it started with.
        config.write_text(provider + "routes:\n  - match: alias-slow\n    provider: mock\n    model: gpt-slow\n"
                          "gateway_keys:\n  - name: first\n    key_env: FIRST_KEY\n")
        assert admin.call("POST", "/admin/reload")[0] == 200
        stream = c.chat.completions.create(model="alias-slow", messages=HI, stream=True)
        next(iter(stream))

        # SIGHUP: a new route and a new key, the old route gone.
        config.write_text(provider + "routes:\n  - match: alias-two\n    provider: mock\n    model: gpt-4o\n"
                          "gateway_keys:\n  - name: second\n    key_env: SECOND_KEY\n")
        gw.process.send_signal(signal.SIGHUP)
        wait_until(lambda: works(gw, "sk-second"), 10, "SIGHUP did not reload the keys")
        assert "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices) == \
            "one two three four five"
        c2 = client(gw, "sk-second")
        assert c2.chat.completions.create(model="alias-two", messages=HI).model == "gpt-4o"
        assert not works(gw, "sk-first")

        # A bad file is refused with its reason, and the running configuration is kept.
        config.write_text(provider + "routes:\n  - match: alias-three\n    provider: nowhere\n")
        status, body = admin.call("POST", "/admin/reload")
        assert status == 400 and "nowhere" in body["error"]["message"], body
        config.write_text("providers: [unclosed\n")
        status, body = admin.call("POST", "/admin/reload")
        assert status == 400 and body["error"]["code"] == "invalid_configuration"
        gw.process.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        assert gw.process.poll() is None
        assert c2.chat.completions.create(model="alias-two", messages=HI).model == "gpt-4o"
        logs = admin.call("GET", "/admin/logs")[1]["data"]
        assert any("configuration reloaded" in line and "SIGHUP" in line for line in logs)
        assert any("configuration reload refused" in line for line in logs)
        assert not any("sk-second" in line or "sk-mock" in line for line in logs)
    finally:
        gw.stop()


def test_status_shows_providers_health_and_in_flight_work(admin_gateway):
    gw, admin = admin_gateway
    status, made = admin.call("POST", "/admin/keys", {"name": "status-probe"})
    c = client(gw, made["key"])
    c.chat.completions.create(model="gpt-4o-mini", messages=HI)
    with pytest.raises(openai.InternalServerError):
        c.chat.completions.create(model="gpt-broken", messages=HI)
    status, body = admin.call("GET", "/admin/status")
    assert status == 200
    openai_status = next(p for p in body["providers"] if p["name"] == "openai")
    assert openai_status["recent_attempts"] >= 2 and 0 < openai_status["recent_error_rate"] < 1
    assert openai_status["latency_p50_seconds"] > 0
    assert any(d["deployment"].startswith("openai") for d in body["deployments"])
    assert body["requests_in_flight"] == 0 and body["budget_store"] == "memory"


def test_the_admin_listener_speaks_tls_like_the_client_listener(binary, upstream, certificate):
    cert, key = certificate
    gw, admin = start_admin_gateway(binary, upstream.server_address[1],
                                    {"TLS_CERT_FILE": str(cert), "TLS_KEY_FILE": str(key)})
    try:
        assert admin.base.startswith("https://")
        assert admin.call("GET", "/admin/status")[0] == 200
        assert admin.call("GET", "/admin/status", key="wrong")[0] == 401
    finally:
        gw.stop()


def test_the_admin_key_may_be_given_as_its_sha256(binary, upstream):
    import hashlib
    digest = hashlib.sha256(ADMIN_KEY.encode()).hexdigest()
    gw, admin = start_admin_gateway(binary, upstream.server_address[1], {"ADMIN_KEY": f"sha256:{digest}"})
    try:
        assert admin.call("GET", "/admin/status")[0] == 200
        assert admin.call("GET", "/admin/status", key=f"sha256:{digest}")[0] == 401
    finally:
        gw.stop()
