"""A keep-alive upstream that plays all four providers (OpenAI, Gemini, Anthropic, Ollama: chat,
streamed and not, and embeddings) and writes every answer event by event: one write per SSE event
or NDJSON line, now and then cut inside one, back to back with short random pauses, chunked or
content-length framing, now and then `connection: close`. With `whole` set it writes each answer
in one piece instead, for reference answers. Used by the end-to-end tests and by `bench/soak`."""
import asyncio
import json
import random
import socket
import threading

# -- the answers, in each provider's wire format ----------------------------------------------
WORDS = [f"café{i}" if i % 6 == 1 else f"naïve🙂{i}" if i % 6 == 3 else f"日本{i}" if i % 6 == 5 else f"word{i}"
         for i in range(24)]
TEXT = " ".join(WORDS)
DELTAS = [("" if i == 0 else " ") + w for i, w in enumerate(WORDS)]


def js(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def openai_stream(model):
    # A `-mini` model's events end in \r\n\r\n, as servers built on sse-starlette write them.
    end = "\r\n\r\n" if model.endswith("-mini") else "\n\n"

    def chunk(delta, finish=None):
        return "data: " + js({"id": "chatcmpl-soak", "object": "chat.completion.chunk", "created": 1, "model": model,
                              "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}) + end
    usage = {"prompt_tokens": 9, "completion_tokens": 24, "total_tokens": 33}
    return ([chunk({"role": "assistant", "content": ""})] + [chunk({"content": d}) for d in DELTAS]
            + [chunk({}, "stop"), "data: " + js({"id": "chatcmpl-soak", "object": "chat.completion.chunk", "created": 1,
                                                 "model": model, "choices": [], "usage": usage}) + end,
               "data: [DONE]" + end])


def gemini_event(text, last):
    candidate = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
    event = {"candidates": [candidate], "modelVersion": "gemini-2.0-flash"}
    if last:
        candidate["finishReason"] = "STOP"
        event["usageMetadata"] = {"promptTokenCount": 9, "candidatesTokenCount": 24, "totalTokenCount": 33}
    return event


def anthropic_message(model, text):
    return {"id": "msg_soak", "type": "message", "role": "assistant", "model": model,
            "content": [{"type": "text", "text": text}] if text else [], "stop_reason": "end_turn" if text else None,
            "stop_sequence": None, "usage": {"input_tokens": 9, "output_tokens": 24 if text else 1}}


def anthropic_stream(model):
    def event(name, data):
        return f"event: {name}\ndata: {js(data)}\n\n"
    return ([event("message_start", {"type": "message_start", "message": anthropic_message(model, "")}),
             event("content_block_start", {"type": "content_block_start", "index": 0,
                                           "content_block": {"type": "text", "text": ""}}),
             event("ping", {"type": "ping"})]
            + [event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                             "delta": {"type": "text_delta", "text": d}}) for d in DELTAS]
            + [event("content_block_stop", {"type": "content_block_stop", "index": 0}),
               event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn",
                                                                          "stop_sequence": None},
                                       "usage": {"output_tokens": 24}}),
               event("message_stop", {"type": "message_stop"})])


def openai_response(model, status="completed", text=TEXT):
    message = {"type": "message", "id": "msg_soak", "status": status, "role": "assistant",
               "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]}
    return {"id": "resp_soak", "object": "response", "created_at": 1, "status": status, "error": None,
            "incomplete_details": None, "instructions": None, "model": model,
            "output": [message] if text else [], "parallel_tool_calls": True, "previous_response_id": None,
            "tool_choice": "auto", "tools": [], "text": {"format": {"type": "text"}}, "metadata": {}, "store": True,
            "temperature": 1.0, "top_p": 1.0, "truncation": "disabled", "reasoning": {"effort": None, "summary": None},
            "usage": {"input_tokens": 9, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 24,
                      "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 33} if text else None}


def openai_responses_stream(model):
    at = {"item_id": "msg_soak", "output_index": 0, "content_index": 0}
    part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
    events = [("response.created", {"response": openai_response(model, "in_progress", "")}),
              ("response.output_item.added", {"output_index": 0, "item": {
                  "type": "message", "id": "msg_soak", "status": "in_progress", "role": "assistant", "content": []}}),
              ("response.content_part.added", dict(at, part=part))]
    events += [("response.output_text.delta", dict(at, delta=d, logprobs=[])) for d in DELTAS]
    events += [("response.output_text.done", dict(at, text=TEXT, logprobs=[])),
               ("response.content_part.done", dict(at, part=dict(part, text=TEXT))),
               ("response.output_item.done", {"output_index": 0, "item": openai_response(model)["output"][0]}),
               ("response.completed", {"response": openai_response(model)})]
    return [f"event: {name}\ndata: {js(dict(type=name, sequence_number=i, **data))}\n\n"
            for i, (name, data) in enumerate(events)]


def ollama_line(model, content, done):
    line = {"model": model, "created_at": "2026-11-24T12:00:00Z", "done": done,
            "message": {"role": "assistant", "content": content}}
    if done:
        line.update(done_reason="stop", prompt_eval_count=9, eval_count=24)
    return js(line) + "\n"


def answer(path: str, body: dict):
    """(content type, pieces) for a request, or None for a path no provider serves."""
    model, stream = body.get("model", "?"), body.get("stream", False)
    if path == "/v1/chat/completions":
        if stream:
            return "text/event-stream", openai_stream(model)
        return "application/json", [js({"id": "chatcmpl-soak", "object": "chat.completion", "created": 1,
                                        "model": model, "choices": [{"index": 0, "finish_reason": "stop",
                                                                     "message": {"role": "assistant", "content": TEXT}}],
                                        "usage": {"prompt_tokens": 9, "completion_tokens": 24, "total_tokens": 33}})]
    if path == "/v1/responses":
        if stream:
            return "text/event-stream", openai_responses_stream(model)
        return "application/json", [js(openai_response(model))]
    if path == "/v1/embeddings":
        return "application/json", [js({"object": "list", "model": model, "usage": {"prompt_tokens": 2, "total_tokens": 2},
                                        "data": [{"object": "embedding", "index": 0, "embedding": [0.5, -0.5, 0.125]}]})]
    if path == "/v1/messages":
        if stream:
            return "text/event-stream", anthropic_stream(model)
        return "application/json", [js(anthropic_message(model, TEXT))]
    if path == "/api/chat":
        if body.get("stream", True):
            return "application/x-ndjson", [ollama_line(model, d, False) for d in DELTAS] + [ollama_line(model, "", True)]
        return "application/json", [ollama_line(model, TEXT, True).strip()]
    if path == "/api/embed":
        return "application/json", [js({"model": model, "embeddings": [[0.25, 0.75]], "prompt_eval_count": 3})]
    if path.startswith("/v1beta/models/"):
        method = path.rsplit(":", 1)[-1]
        if method == "streamGenerateContent":
            return "text/event-stream", ["data: " + js(gemini_event(d, i == len(DELTAS) - 1)) + "\r\n\r\n"
                                         for i, d in enumerate(DELTAS)]
        if method == "generateContent":
            return "application/json", [js(gemini_event(TEXT, True))]
        if method == "batchEmbedContents":
            return "application/json", [js({"embeddings": [{"values": [0.5, -0.5]} for _ in body.get("requests", [1])]})]
    return None


# -- the upstream ---------------------------------------------------------------------------------
class Upstream:
    def __init__(self, seed: int, whole: bool = False):
        self.whole = whole
        self.random = random.Random(seed)
        self.answers = 0

    async def serve(self, reader, writer):
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                target = lines[0].split(" ")[1]
                length = next((int(l.split(":", 1)[1]) for l in lines[1:] if l.lower().startswith("content-length:")), 0)
                body = json.loads(await reader.readexactly(length) or b"{}")
                found = answer(target.split("?")[0], body)
                content_type, pieces = found or ("application/json", ['{"error":"unknown path"}'])
                pieces = [p.encode() for p in pieces]
                rnd = self.random
                chunked = rnd.random() < 0.5
                close = rnd.random() < 0.05
                head = f"HTTP/1.1 {'200 OK' if found else '404 Not Found'}\r\ncontent-type: {content_type}\r\n"
                head += "transfer-encoding: chunked\r\n" if chunked else f"content-length: {sum(map(len, pieces))}\r\n"
                head += "connection: close\r\n\r\n" if close else "\r\n"
                framed = [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces] + [b"0\r\n\r\n"] if chunked else pieces
                writes = [head.encode()] + framed
                if self.whole:
                    writes = [b"".join(writes)]
                for data in writes:
                    # Now and then a write is cut in two, so that an event or a frame arrives in pieces.
                    cuts = [data] if len(data) < 2 or rnd.random() < 0.8 else \
                        [data[:(k := rnd.randrange(1, len(data)))], data[k:]]
                    for piece in cuts:
                        writer.write(piece)
                        await writer.drain()
                        if rnd.random() < 0.05:
                            await asyncio.sleep(rnd.random() * 0.002)
                self.answers += 1
                if close:
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass  # the gateway closed the connection, or the soak is over
        finally:
            writer.close()


def start_in_thread(seed: int = 0, whole: bool = False) -> tuple[Upstream, int]:
    """Runs an upstream on a loopback port in a thread of its own (each answer in one piece with
    `whole`); returns it and its port."""
    upstream = Upstream(seed, whole)
    loop = asyncio.new_event_loop()
    started = threading.Event()
    port = []

    async def run():
        server = await asyncio.start_server(upstream.serve, "127.0.0.1", 0)
        port.append(server.sockets[0].getsockname()[1])
        started.set()
        await asyncio.Event().wait()

    threading.Thread(target=loop.run_until_complete, args=(run(),), daemon=True).start()
    started.wait(10)
    return upstream, port[0]
