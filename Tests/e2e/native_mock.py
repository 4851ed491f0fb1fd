"""A strict mock of the OpenAI, Gemini, Anthropic and Ollama native APIs on one loopback port.

Each handler validates the request as the real API would (unknown fields, roles, required
headers and fields) and answers 400 in that provider's error shape when something is wrong, so a
conversion mistake fails the end-to-end test. Behaviour: with tools and no tool result yet, the
model calls get_weather(city=Paris); after a tool result it answers with the temperature;
otherwise it says hello."""
import http.server
import json
import re
import time

WEATHER_ARGS = {"city": "Paris"}


class Invalid(Exception):
    pass


def require(condition, message):
    if not condition:
        raise Invalid(message)


class NativeMock(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: list = []

    def log_message(self, *args):
        pass

    # -- plumbing ---------------------------------------------------------------------------
    def send_json(self, status, payload, headers=None):
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def start_stream(self, content_type):
        self.send_response(200)
        self.send_header("content-type", content_type)
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()

    def chunk(self, data: bytes):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()
        time.sleep(0.005)

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")

    def do_GET(self):
        NativeMock.seen.append({"path": self.path, "headers": dict(self.headers), "body": None})
        if self.path.startswith("/v1beta/models"):
            return self.send_json(200, {"models": [{"name": "models/gemini-2.0-flash"}]})
        if self.path.startswith("/v1/models"):
            return self.send_json(200, {"data": [{"id": "claude-3-5-haiku-latest", "type": "model"}]})
        if self.path == "/api/tags":
            return self.send_json(200, {"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest"}]})
        self.send_json(404, {"error": "not found"})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))))
        NativeMock.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        try:
            if self.path.startswith("/v1beta/models/"):
                return self.gemini(body)
            if self.path == "/v1/messages":
                return self.anthropic(body)
            if self.path == "/v1/messages/count_tokens":
                require(self.headers.get("x-api-key"), "missing x-api-key")
                require(set(body) <= {"model", "messages", "system", "tools", "tool_choice", "thinking"}, "unknown fields")
                return self.send_json(200, {"input_tokens": 42})
            if self.path == "/v1/chat/completions":
                return self.openai_chat(body)
            if self.path == "/v1/responses":
                return self.openai_responses(body)
            if self.path == "/api/chat":
                return self.ollama_chat(body)
            if self.path == "/api/embed":
                return self.ollama_embed(body)
        except Invalid as problem:
            if self.path.startswith("/v1beta"):
                return self.send_json(400, {"error": {"code": 400, "message": str(problem), "status": "INVALID_ARGUMENT"}})
            if self.path == "/v1/messages":
                return self.send_json(400, {"type": "error", "error": {"type": "invalid_request_error", "message": str(problem)}})
            return self.send_json(400, {"error": str(problem)})
        self.send_json(404, {"error": "unknown path"})

    # -- Gemini -----------------------------------------------------------------------------
    def gemini(self, body):
        require(self.headers.get("x-goog-api-key"), "missing x-goog-api-key")
        model, _, method = self.path.split("/v1beta/models/")[1].partition(":")
        if method.startswith("batchEmbedContents"):
            require(set(body) == {"requests"}, f"unexpected fields {set(body)}")
            for r in body["requests"]:
                require(r["model"] == f"models/{model}", "request model must match the URL")
                require(r["content"]["parts"][0]["text"], "empty text")
            return self.send_json(200, {"embeddings": [{"values": [0.5, -0.5]} for _ in body["requests"]]})
        allowed = {"contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings"}
        require(set(body) <= allowed, f"Invalid JSON payload: unknown fields {set(body) - allowed}")
        contents = body["contents"]
        require(contents and all(c["role"] in ("user", "model") and c["parts"] for c in contents), "bad contents")
        for a, b in zip(contents, contents[1:]):
            require(a["role"] != b["role"], "consecutive turns of one role")
        text = json.dumps(body)
        for word in ("additionalProperties", "$schema", "$ref", '"default"'):
            require(word not in text, f"schema keyword {word} is not supported")
        last = contents[-1]["parts"]
        answered = any("functionResponse" in p for p in last)
        calls_tool = "tools" in body and not answered
        parts = [{"functionCall": {"name": "get_weather", "args": WEATHER_ARGS}, "thoughtSignature": "sig/abc=="}] \
            if calls_tool else [{"text": "It is 21 degrees." if answered else "Hello from Gemini"}]
        if answered:
            # The signature given out with the call must come back on the model turn.
            model_turn = [p for c in contents if c["role"] == "model" for p in c["parts"] if "functionCall" in p]
            require(model_turn and model_turn[0].get("thoughtSignature") == "sig/abc==", "thoughtSignature missing")
        usage = {"promptTokenCount": 11, "candidatesTokenCount": 5, "totalTokenCount": 16}
        if method.startswith("streamGenerateContent"):
            require("alt=sse" in method, "streaming needs alt=sse")
            self.start_stream("text/event-stream")
            if calls_tool:
                events = [{"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}],
                           "usageMetadata": usage}]
            else:
                words = parts[0]["text"].split(" ")
                events = [{"candidates": [{"content": {"role": "model", "parts": [{"text": w + (" " if i < len(words) - 1 else "")}]}}]}
                          for i, w in enumerated(words)]
                events[-1]["candidates"][0]["finishReason"] = "STOP"
                events[-1]["usageMetadata"] = usage
            for e in events:
                self.chunk(b"data: " + json.dumps(e).encode() + b"\r\n\r\n")
            return self.end_stream()
        self.send_json(200, {"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
                             "usageMetadata": usage, "modelVersion": model})

    # -- Anthropic --------------------------------------------------------------------------
    def anthropic(self, body):
        require(self.headers.get("x-api-key"), "missing x-api-key")
        require(re.fullmatch(r"20\d\d-\d\d-\d\d", self.headers.get("anthropic-version", "")), "missing anthropic-version")
        allowed = {"model", "max_tokens", "messages", "system", "stream", "temperature", "top_p", "top_k",
                   "stop_sequences", "metadata", "tools", "tool_choice"}
        require(set(body) <= allowed, f"unknown fields {set(body) - allowed}")
        require(isinstance(body.get("max_tokens"), int), "max_tokens: Field required")
        messages = body["messages"]
        require(messages[0]["role"] == "user", "first message must use the user role")
        for a, b in zip(messages, messages[1:]):
            require(a["role"] != b["role"], "roles must alternate between user and assistant")
        require(isinstance(body.get("system", ""), str), "system must be a string")
        for m in messages:
            for block in m["content"] if isinstance(m["content"], list) else []:
                require(block["type"] != "text" or block["text"], "text content blocks must be non-empty")
        last = messages[-1]["content"]
        answered = isinstance(last, list) and any(b["type"] == "tool_result" for b in last)
        calls_tool = "tools" in body and not answered
        if body.get("stream"):
            self.start_stream("text/event-stream")
            def event(name, data):
                self.chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
            event("message_start", {"type": "message_start", "message": {"id": "msg_1", "type": "message", "role": "assistant",
                                                                          "content": [], "usage": {"input_tokens": 13, "output_tokens": 1}}})
            if calls_tool:
                event("content_block_start", {"type": "content_block_start", "index": 0,
                                              "content_block": {"type": "tool_use", "id": "toolu_e2e", "name": "get_weather", "input": {}}})
                for piece in ['{"city": ', '"Paris"}']:
                    event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                  "delta": {"type": "input_json_delta", "partial_json": piece}})
            else:
                event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}})
                event("ping", {"type": "ping"})
                for piece in ["Hello ", "from ", "Claude"]:
                    event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": piece}})
            event("content_block_stop", {"type": "content_block_stop", "index": 0})
            event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "tool_use" if calls_tool else "end_turn"},
                                    "usage": {"output_tokens": 6}})
            event("message_stop", {"type": "message_stop"})
            return self.end_stream()
        content = [{"type": "tool_use", "id": "toolu_e2e", "name": "get_weather", "input": WEATHER_ARGS}] if calls_tool \
            else [{"type": "text", "text": "It is 21 degrees." if answered else "Hello from Claude"}]
        self.send_json(200, {"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"], "content": content,
                             "stop_reason": "tool_use" if calls_tool else "end_turn",
                             "usage": {"input_tokens": 13, "output_tokens": 6}})

    # -- OpenAI -----------------------------------------------------------------------------
    def openai_chat(self, body):
        require(self.headers.get("authorization", "").startswith("Bearer "), "missing bearer credentials")
        if body["model"] == "gpt-overflow":
            return self.send_json(400, {"error": {
                "message": "This model's maximum context length is 128000 tokens. However, your messages resulted "
                           "in 130512 tokens. Please reduce the length of the messages.",
                "type": "invalid_request_error", "param": "messages", "code": "context_length_exceeded"}})
        for m in body["messages"]:
            require(m["role"] in ("system", "developer", "user", "assistant", "tool"), f"bad role {m['role']}")
            if m["role"] == "tool":
                require(m.get("tool_call_id"), "tool message without tool_call_id")
        last = body["messages"][-1]
        answered = last["role"] == "tool"
        calls_tool = "tools" in body and not answered
        usage = {"prompt_tokens": 15, "completion_tokens": 5, "total_tokens": 20}
        names = [t["function"]["name"] for t in body.get("tools", [])]
        require(all(re.fullmatch(r"[a-zA-Z0-9_-]{1,64}", n) for n in names), f"invalid tool names {names}")
        call = {"id": "call_e2e:1", "type": "function",
                "function": {"name": names[0] if names else "get_weather", "arguments": json.dumps(WEATHER_ARGS)}}
        text = "It is 21 degrees." if answered else "Hello from OpenAI"
        if not body.get("stream"):
            message = {"role": "assistant", "content": None, "tool_calls": [call]} if calls_tool \
                else {"role": "assistant", "content": text}
            return self.send_json(200, {"id": "chatcmpl-e2e", "object": "chat.completion", "created": 1,
                                        "model": body["model"], "usage": usage,
                                        "choices": [{"index": 0, "message": message,
                                                     "finish_reason": "tool_calls" if calls_tool else "stop"}]})
        self.start_stream("text/event-stream")
        def chunk(delta, finish=None):
            self.chunk(b"data: " + json.dumps({"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "created": 1,
                                                "model": body["model"], "choices": [
                                                    {"index": 0, "delta": delta, "finish_reason": finish}]}).encode()
                       + b"\n\n")
        chunk({"role": "assistant", "content": ""})
        if calls_tool:
            arguments = call["function"]["arguments"]
            chunk({"tool_calls": [{"index": 0, "id": call["id"], "type": "function",
                                   "function": {"name": call["function"]["name"], "arguments": ""}}]})
            for piece in (arguments[:5], arguments[5:]):
                chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
            chunk({}, "tool_calls")
        else:
            for word in text.split(" "):
                chunk({"content": word + (" " if not word.endswith(".") and word != "OpenAI" else "")})
            chunk({}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            self.chunk(b"data: " + json.dumps({"id": "chatcmpl-e2e", "object": "chat.completion.chunk", "created": 1,
                                                "model": body["model"], "choices": [], "usage": usage}).encode()
                       + b"\n\n")
        self.chunk(b"data: [DONE]\n\n")
        self.end_stream()

    # -- OpenAI Responses (served natively, so the gateway passes requests through) -----------
    responses: dict = {}

    def openai_responses(self, body):
        require(self.headers.get("authorization", "").startswith("Bearer "), "missing bearer credentials")
        previous = body.get("previous_response_id")
        if previous and previous not in NativeMock.responses:
            return self.send_json(400, {"error": {"message": f"Previous response with id '{previous}' not found.",
                                                  "type": "invalid_request_error", "param": "previous_response_id",
                                                  "code": "previous_response_not_found"}})
        items = body["input"] if isinstance(body["input"], list) else [{"role": "user", "content": body["input"]}]
        answered = any(i.get("type") == "function_call_output" for i in items)
        calls_tool = "tools" in body and not answered
        rid = "resp_mock%d" % len(NativeMock.responses)
        if calls_tool:
            output = [{"type": "function_call", "id": "fc_mock", "call_id": "call_mock", "name": body["tools"][0]["name"],
                       "arguments": json.dumps(WEATHER_ARGS), "status": "completed"}]
        else:
            text = "It is 21 degrees." if answered else "Hello from OpenAI"
            output = [{"type": "message", "id": "msg_mock", "status": "completed", "role": "assistant",
                       "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]}]
        response = {"id": rid, "object": "response", "created_at": 1, "status": "completed", "error": None,
                    "incomplete_details": None, "instructions": body.get("instructions"), "model": body["model"],
                    "output": output, "parallel_tool_calls": True, "previous_response_id": previous,
                    "tool_choice": body.get("tool_choice", "auto"), "tools": body.get("tools", []),
                    "text": body.get("text", {"format": {"type": "text"}}), "metadata": {}, "store": True,
                    "temperature": 1.0, "top_p": 1.0, "truncation": "disabled", "reasoning": {"effort": None, "summary": None},
                    "usage": {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 5,
                              "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 17}}
        NativeMock.responses[rid] = response
        if not body.get("stream"):
            return self.send_json(200, response)
        self.start_stream("text/event-stream")
        sequence = iter(range(1000))
        def event(name, **data):
            data = dict(type=name, sequence_number=next(sequence), **data)
            self.chunk(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode())
        event("response.created", response=dict(response, status="in_progress", output=[], usage=None))
        item = output[0]
        event("response.output_item.added", output_index=0, item=dict(item, status="in_progress"))
        if item["type"] == "message":
            text = item["content"][0]["text"]
            words = text.split(" ")
            for index, word in enumerate(words):
                event("response.output_text.delta", item_id=item["id"], output_index=0, content_index=0,
                      delta=word + (" " if index < len(words) - 1 else ""), logprobs=[])
        else:
            event("response.function_call_arguments.delta", item_id=item["id"], output_index=0, delta=item["arguments"])
        event("response.output_item.done", output_index=0, item=item)
        event("response.completed", response=response)
        self.end_stream()

    # -- Ollama -----------------------------------------------------------------------------
    def ollama_chat(self, body):
        allowed = {"model", "messages", "tools", "format", "options", "stream", "keep_alive", "think"}
        require(set(body) <= allowed, f"unknown fields {set(body) - allowed}")
        require("stream" in body, "stream must be given (Ollama defaults to streaming)")
        for m in body["messages"]:
            require(m["role"] in ("system", "user", "assistant", "tool"), f"bad role {m['role']}")
            require(isinstance(m.get("content", ""), str), "content must be a string")
            for call in m.get("tool_calls", []):
                require(isinstance(call["function"]["arguments"], dict), "tool call arguments must be an object")
        last = body["messages"][-1]
        answered = last["role"] == "tool"
        if answered:
            require(last.get("tool_name") == "get_weather", "tool result without tool_name")
        calls_tool = "tools" in body and not answered
        done = {"model": body["model"], "created_at": "2026-11-24T12:00:00Z", "done": True, "done_reason": "stop",
                "prompt_eval_count": 17, "eval_count": 4}
        message = {"role": "assistant", "content": "",
                   "tool_calls": [{"function": {"name": "get_weather", "arguments": WEATHER_ARGS}}]} if calls_tool \
            else {"role": "assistant", "content": "It is 21 degrees." if answered else "Hello from Ollama"}
        if body["stream"]:
            self.start_stream("application/x-ndjson")
            if calls_tool:
                lines = [{"model": body["model"], "message": message, "done": False}]
            else:
                lines = [{"model": body["model"], "message": {"role": "assistant", "content": w + " "}, "done": False}
                         for w in message["content"].split(" ")]
            for line in lines + [dict(done, message={"role": "assistant", "content": ""})]:
                self.chunk(json.dumps(line).encode() + b"\n")
            return self.end_stream()
        self.send_json(200, dict(done, message=message))

    def ollama_embed(self, body):
        require(set(body) <= {"model", "input", "truncate", "dimensions", "keep_alive", "options"}, "unknown fields")
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        self.send_json(200, {"model": body["model"], "embeddings": [[0.25, 0.75] for _ in inputs], "prompt_eval_count": 3})


def enumerated(items):
    return enumerate(items)
