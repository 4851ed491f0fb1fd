"""Two gateway processes on one real Redis enforce one shared token budget, and Redis going
away mid-test is survived (fail-open by default)."""
import openai
import pytest

from conftest import start_gateway


def test_two_instances_share_one_budget(binary, upstream, redis):
    process, url = redis
    env = {"ENABLE_RATE_LIMITING": "true", "MAX_TOKENS": "30", "REDIS_URL": url}
    a = start_gateway(binary, upstream.server_address[1], env)
    b = start_gateway(binary, upstream.server_address[1], env)
    try:
        clients = [openai.OpenAI(base_url=gw.base_url, api_key="sk-shared", max_retries=0, timeout=20) for gw in (a, b)]
        hi = [{"role": "user", "content": "Hi"}]
        # The mock reports 13 tokens per answer: two answers (one through each instance) leave 4.
        clients[0].chat.completions.create(model="gpt-4o", messages=hi)
        clients[1].chat.completions.create(model="gpt-4o", messages=hi)
        with pytest.raises(openai.RateLimitError):
            clients[0].chat.completions.create(model="gpt-4o", messages=hi)
        with pytest.raises(openai.RateLimitError):
            clients[1].chat.completions.create(model="gpt-4o", messages=hi)
        # Redis dies: the default is fail-open, so requests are served.
        process.kill()
        process.wait()
        assert clients[0].chat.completions.create(model="gpt-4o", messages=hi).choices[0].message.content
    finally:
        for gw in (a, b):
            gw.process.terminate()
            gw.process.wait(timeout=20)
