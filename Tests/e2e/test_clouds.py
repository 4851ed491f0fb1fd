"""Azure OpenAI, AWS Bedrock and Google Vertex AI through the official `openai` and `anthropic`
SDKs, against strict mocks (`cloud_mocks.py`): text and tool calls, streamed and whole, for
every cloud; Bedrock's signatures (model ids with `:` and `/`), throttling, bad requests and
expired credentials; Vertex's token minted once for concurrent requests; `check-config`."""
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor

import anthropic
import openai
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import cloud_mocks
from conftest import free_port, start_gateway

HI = [{"role": "user", "content": "Hi"}]
WEATHER = [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
                                             "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]
GREETINGS = {"azure-gpt": "Hello from Azure", "azure-v1": "Hello from Azure", "bedrock-claude": "Hello from Bedrock",
             "bedrock-profile": "Hello from Bedrock", "vertex-gemini": "Hello from Vertex Gemini",
             "vertex-claude": "Hello from Vertex Claude"}


@pytest.fixture(scope="module")
def clouds(tmp_path_factory):
    """The mock (on a free port), a config file with one provider per cloud and one route per
    case, and the environment holding the credentials."""
    folder = tmp_path_factory.mktemp("clouds")
    port = free_port()
    server = cloud_mocks.start(port)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cloud_mocks.CloudMock.public_key_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    keyfile = folder / "service-account.json"
    keyfile.write_text(json.dumps({
        "type": "service_account", "project_id": "mock-project", "private_key_id": "k1",
        "private_key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()).decode(),
        "client_email": "gateway@mock-project.iam.gserviceaccount.com", "token_uri": f"http://127.0.0.1:{port}/token"}))
    base = f"http://127.0.0.1:{port}"
    config = folder / "switchyard.yaml"
    config.write_text(f"""
providers:
  - {{name: azure-east, kind: azure, base_url: "{base}", api_key_env: AZURE_KEY, deployments: {{gpt-4o: prod-gpt-4o}}}}
  - {{name: azure-v1, kind: azure, base_url: "{base}", api_key_env: AZURE_KEY, api_version: v1, deployments: {{gpt-4o: prod-gpt-4o}}}}
  - {{name: bedrock, kind: bedrock, base_url: "{base}", region: us-east-1}}
  - {{name: vertex, kind: vertex, base_url: "{base}", project: mock-project, location: us-east5, credentials_file: "{keyfile}"}}
routes:
  - {{match: azure-gpt, provider: azure-east, model: gpt-4o}}
  - {{match: azure-v1, provider: azure-v1, model: gpt-4o}}
  - {{match: bedrock-claude, provider: bedrock, model: "anthropic.claude-3-5-sonnet-20241022-v2:0"}}
  - {{match: bedrock-profile, provider: bedrock, model: "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0"}}
  - {{match: bedrock-throttled, provider: bedrock, model: throttled-model}}
  - {{match: bedrock-unknown, provider: bedrock, model: "meta.llama-unknown-v1:0"}}
  - {{match: titan, provider: bedrock, model: "amazon.titan-embed-text-v2:0"}}
  - {{match: vertex-gemini, provider: vertex, model: gemini-2.5-flash}}
  - {{match: vertex-claude, provider: vertex, model: "claude-sonnet-4-5@20250929"}}
""")
    env = {"SWITCHYARD_CONFIG": str(config), "AZURE_KEY": cloud_mocks.AZURE_KEY,
           "AWS_ACCESS_KEY_ID": cloud_mocks.AWS_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": cloud_mocks.AWS_SECRET_KEY,
           "AWS_SESSION_TOKEN": cloud_mocks.AWS_SESSION_TOKEN, "ALLOW_UNAUTHENTICATED": "true",
           "UPSTREAM_MAX_RETRIES": "0"}
    yield port, config, env
    server.shutdown()


@pytest.fixture(scope="module")
def gateway(binary, clouds):
    _, _, env = clouds
    gw = start_gateway(binary, free_port(), env)
    yield gw
    gw.stop()


def client(gw):
    return openai.OpenAI(base_url=gw.base_url, api_key="sk-client", max_retries=0, timeout=20)


@pytest.mark.parametrize("model", list(GREETINGS))
def test_text_streamed_and_whole_through_the_openai_sdk(gateway, model):
    c = client(gateway)
    stream = c.chat.completions.create(model=model, messages=HI, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == GREETINGS[model]
    assert [ch.choices[0].finish_reason for ch in chunks if ch.choices and ch.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage.prompt_tokens > 0 and chunks[-1].usage.completion_tokens > 0
    whole = c.chat.completions.create(model=model, messages=HI)
    assert whole.choices[0].message.content == GREETINGS[model]
    assert whole.usage.total_tokens > 0


@pytest.mark.parametrize("model", list(GREETINGS))
def test_tool_calls_streamed_and_whole_through_the_openai_sdk(gateway, model):
    c = client(gateway)
    calls = {}
    finish = []
    for ch in c.chat.completions.create(model=model, messages=HI, tools=WEATHER, stream=True):
        if not ch.choices:
            continue
        for call in ch.choices[0].delta.tool_calls or []:
            entry = calls.setdefault(call.index, {"id": None, "name": "", "arguments": ""})
            entry["id"] = call.id or entry["id"]
            entry["name"] += call.function.name or "" if call.function else ""
            entry["arguments"] += call.function.arguments or "" if call.function else ""
        if ch.choices[0].finish_reason:
            finish.append(ch.choices[0].finish_reason)
    assert len(calls) == 1 and calls[0]["name"] == "get_weather" and calls[0]["id"]
    assert json.loads(calls[0]["arguments"]) == {"city": "Oslo"} and finish == ["tool_calls"]
    whole = c.chat.completions.create(model=model, messages=HI, tools=WEATHER)
    call = whole.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Oslo"}
    assert whole.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("model", list(GREETINGS))
def test_the_anthropic_sdk_streams_through_every_cloud(gateway, model):
    c = anthropic.Anthropic(base_url=gateway.base_url.removesuffix("/v1"), api_key="sk-client", max_retries=0)
    with c.messages.stream(model=model, max_tokens=100, messages=HI) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == GREETINGS[model] and final.stop_reason == "end_turn"


@pytest.mark.parametrize("model", list(GREETINGS))
def test_the_anthropic_sdk_streams_tool_use_through_every_cloud(gateway, model):
    c = anthropic.Anthropic(base_url=gateway.base_url.removesuffix("/v1"), api_key="sk-client", max_retries=0)
    tools = [{"name": "get_weather", "description": "Weather in a city",
              "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    with c.messages.stream(model=model, max_tokens=100, messages=HI, tools=tools) as stream:
        final = stream.get_final_message()
    uses = [block for block in final.content if block.type == "tool_use"]
    assert len(uses) == 1 and uses[0].name == "get_weather" and uses[0].input == {"city": "Oslo"}
    assert final.stop_reason == "tool_use"


def test_bedrock_errors_in_the_clients_shape(gateway, binary, clouds):
    c = client(gateway)
    with pytest.raises(openai.RateLimitError) as throttled:
        c.chat.completions.create(model="bedrock-throttled", messages=HI)
    assert throttled.value.response.headers["retry-after"] == "1"
    with pytest.raises(openai.BadRequestError) as invalid:
        c.chat.completions.create(model="bedrock-unknown", messages=HI)
    assert "model identifier is invalid" in str(invalid.value)
    # Expired temporary credentials: a 502 that names the provider and the cause, never the secret.
    _, _, env = clouds
    expired = start_gateway(binary, free_port(), {**env, "AWS_SESSION_TOKEN": "expired-token"})
    try:
        with pytest.raises(openai.InternalServerError) as refused:
            client(expired).chat.completions.create(model="bedrock-claude", messages=HI)
        assert refused.value.status_code == 502
        message = str(refused.value)
        assert "Bedrock" in message and "expired" in message
        assert cloud_mocks.AWS_SECRET_KEY not in message and "expired-token" not in message
    finally:
        expired.stop()


def test_titan_embeddings_on_bedrock(gateway):
    answer = client(gateway).embeddings.create(model="titan", input="four tokens right here")
    assert answer.data[0].embedding == [0.25, -0.5, 0.75] and answer.usage.prompt_tokens == 4


def test_vertex_refuses_a_bad_token_as_the_gateways_problem(binary, clouds):
    _, _, env = clouds
    config = open(env["SWITCHYARD_CONFIG"]).read().replace(
        'credentials_file: "', 'access_token_env: VERTEX_TOKEN, unused: "')
    with open(env["SWITCHYARD_CONFIG"] + ".token.yaml", "w") as f:
        f.write(config)
    gw = start_gateway(binary, free_port(), {**env, "SWITCHYARD_CONFIG": env["SWITCHYARD_CONFIG"] + ".token.yaml",
                                             "VERTEX_TOKEN": "not-a-valid-token"})
    try:
        with pytest.raises(openai.InternalServerError) as refused:
            client(gw).chat.completions.create(model="vertex-gemini", messages=HI)
        assert refused.value.status_code == 502 and "Vertex AI" in str(refused.value)
        assert "not-a-valid-token" not in str(refused.value)
    finally:
        gw.stop()


def test_vertex_mints_one_token_for_concurrent_requests(binary, clouds):
    _, _, env = clouds
    gw = start_gateway(binary, free_port(), env)
    try:
        before = cloud_mocks.CloudMock.token_requests
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(lambda _: client(gw).chat.completions.create(model="vertex-gemini", messages=HI),
                                    range(8)))
        assert all(a.choices[0].message.content == "Hello from Vertex Gemini" for a in answers)
        assert cloud_mocks.CloudMock.token_requests - before == 1
    finally:
        gw.stop()


def test_check_config_shows_each_clouds_endpoint_and_credential_source(binary, clouds):
    _, config, env = clouds
    out = subprocess.run([str(binary), "check-config", "--config", str(config)], env={**env, "PATH": "/usr/bin:/bin"},
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    assert "deployments gpt-4o->prod-gpt-4o" in text and "api-key from AZURE_KEY" in text
    assert "region us-east-1, AWS credentials from environment (AWS_ACCESS_KEY_ID, temporary with AWS_SESSION_TOKEN)" in text
    assert "project mock-project, location us-east5, service account key from" in text
    for secret in (cloud_mocks.AZURE_KEY, cloud_mocks.AWS_SECRET_KEY, cloud_mocks.AWS_SESSION_TOKEN, "PRIVATE KEY"):
        assert secret not in text


@pytest.mark.parametrize("model", list(GREETINGS))
def test_the_responses_api_through_every_cloud(gateway, model):
    c = client(gateway)
    events = list(c.responses.create(model=model, input="Hi", stream=True))
    assert [e.type for e in events][0] == "response.created" and events[-1].type == "response.completed"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == GREETINGS[model]
    assert events[-1].response.output_text == GREETINGS[model]
    whole = c.responses.create(model=model, input="Hi")
    assert whole.output_text == GREETINGS[model] and whole.status == "completed"
    tools = [{"type": "function", "name": "get_weather", "description": "Weather in a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]
    for stream in (True, False):
        answer = c.responses.create(model=model, input="Hi", tools=tools, stream=stream)
        if stream:
            answer = [e for e in answer if e.type == "response.completed"][0].response
        calls = [item for item in answer.output if item.type == "function_call"]
        assert len(calls) == 1 and calls[0].name == "get_weather" and calls[0].call_id
        assert json.loads(calls[0].arguments) == {"city": "Oslo"}
