"""Strict mocks of Azure OpenAI, AWS Bedrock and Google Vertex AI, one HTTP server for the three:
each checks what the real service checks (Azure's api-key and api-version, Bedrock's SigV4
signature recomputed here with AWS's algorithm, Vertex's bearer token minted from a JWT whose
RS256 signature is verified with the service account's public key), and answers in the
service's own format: Bedrock's streams as binary event-stream frames with real CRC-32s, written
in random pieces with pauses."""
import base64
import hashlib
import hmac
import http.server
import json
import random
import threading
import time
import urllib.parse
import zlib

from native_mock import NativeMock

AZURE_KEY = "azure-secret-key"
AWS_ACCESS_KEY = "AKIDMOCKEXAMPLE"
AWS_SECRET_KEY = "mock/secret+key"
AWS_SESSION_TOKEN = "mock-session-token"


def sigv4_signature(secret, method, raw_path, query, headers, signed, body, amz_date, scope):
    """AWS Signature Version 4 for services other than S3 (the path's segments encoded again)."""
    def encode(text):
        return urllib.parse.quote(text, safe="-_.~")
    path = "/".join(encode(segment) for segment in raw_path.split("/")) or "/"
    pairs = sorted((encode(urllib.parse.unquote(k)), encode(urllib.parse.unquote(v)))
                   for k, _, v in (p.partition("=") for p in query.split("&") if p))
    canonical = "\n".join([
        method, path, "&".join(f"{k}={v}" for k, v in pairs),
        "".join(f"{name}:{' '.join(headers.get(name, '').split())}\n" for name in signed),
        ";".join(signed), hashlib.sha256(body).hexdigest()])
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()


def frame(event_type, payload, message_type="event", extra=None):
    """One event-stream message with real checksums."""
    headers = [(":event-type", event_type), (":content-type", "application/json"), (":message-type", message_type)]
    headers += extra or []
    block = b""
    for name, value in headers:
        block += bytes([len(name)]) + name.encode() + b"\x07" + len(value.encode()).to_bytes(2, "big") + value.encode()
    body = json.dumps(payload).encode()
    total = 12 + len(block) + len(body) + 4
    prelude = total.to_bytes(4, "big") + len(block).to_bytes(4, "big")
    message = prelude + zlib.crc32(prelude).to_bytes(4, "big") + block + body
    return message + zlib.crc32(message).to_bytes(4, "big")


class CloudMock(NativeMock):
    """The three clouds; the plumbing (JSON answers, chunked streams) is the native mock's."""
    protocol_version = "HTTP/1.1"
    seen: list = []
    token_requests = 0
    public_key_pem = b""

    def log_message(self, *args):
        pass

    def reply(self, status, payload, headers=None):
        self.send_json(status, payload, headers)

    def send_pieces(self, data):
        """`data` as chunked body parts cut at random places, with pauses now and then."""
        index = 0
        while index < len(data):
            size = random.randint(1, 40)
            piece = data[index:index + size]
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.flush()
            index += size
            if random.random() < 0.1:
                time.sleep(0.005)

    def end_stream(self):
        self.wfile.write(b"0\r\n\r\n")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        path, _, query = self.path.partition("?")
        CloudMock.seen.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                               "body": body})
        if path.startswith("/openai/"):
            return self.azure(path, query, body)
        if path.startswith("/model/"):
            return self.bedrock(path, query, body)
        if path == "/token":
            return self.token(body)
        if path.startswith("/v1/projects/"):
            return self.vertex(path, query, body)
        self.reply(404, {"message": f"no route {path}"})

    # Azure OpenAI

    def azure(self, path, query, body):
        if self.headers.get("api-key") != AZURE_KEY:
            return self.reply(401, {"error": {"code": "401", "message": "Access denied due to invalid subscription key."}})
        request = json.loads(body)
        if path.startswith("/openai/deployments/"):
            if "api-version=2024-10-21" not in query:
                return self.reply(404, {"error": {"code": "404", "message": "Resource not found"}})
            deployment = urllib.parse.unquote(path.split("/")[3])
        elif path == "/openai/v1/chat/completions":
            deployment = request["model"]
        else:
            return self.reply(404, {"error": {"code": "404", "message": "Resource not found"}})
        if deployment != "prod-gpt-4o":
            return self.reply(404, {"error": {"code": "DeploymentNotFound", "message": "The API deployment does not exist."}})
        text, tool = "Hello from Azure", self.tool_asked(request)
        if not request.get("stream"):
            message = {"role": "assistant", "content": None if tool else text}
            if tool:
                message["tool_calls"] = [{"id": "call_az1", "type": "function",
                                          "function": {"name": tool, "arguments": '{"city":"Oslo"}'}}]
            return self.reply(200, {"id": "chatcmpl-az", "object": "chat.completion", "created": 1, "model": "gpt-4o",
                                    "choices": [{"index": 0, "message": message,
                                                 "finish_reason": "tool_calls" if tool else "stop"}],
                                    "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12}})
        self.start_stream("text/event-stream")
        def chunk(delta, finish=None, usage=None):
            event = {"id": "chatcmpl-az", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
                     "choices": [] if usage else [{"index": 0, "delta": delta, "finish_reason": finish}]}
            if usage:
                event["usage"] = usage
            return f"data: {json.dumps(event)}\n\n".encode()
        data = chunk({"role": "assistant", "content": ""})
        if tool:
            data += chunk({"tool_calls": [{"index": 0, "id": "call_az1", "type": "function",
                                           "function": {"name": tool, "arguments": ""}}]})
            for part in ['{"city":', '"Oslo"}']:
                data += chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
            data += chunk({}, "tool_calls")
        else:
            for word in ["Hello ", "from ", "Azure"]:
                data += chunk({"content": word})
            data += chunk({}, "stop")
        if (request.get("stream_options") or {}).get("include_usage"):
            data += chunk(None, usage={"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12})
        self.send_pieces(data + b"data: [DONE]\n\n")
        self.end_stream()

    @staticmethod
    def tool_asked(request):
        tools = request.get("tools") or []
        return tools[0]["function"]["name"] if tools else None

    # AWS Bedrock

    def bedrock(self, path, query, body):
        authorization = self.headers.get("authorization", "")
        fields = dict(part.strip().split("=", 1) for part in authorization.removeprefix("AWS4-HMAC-SHA256 ").split(","))
        credential = fields.get("Credential", "").split("/")
        signed = fields.get("SignedHeaders", "").split(";")
        headers = {k.lower(): v for k, v in self.headers.items()}
        if credential[0] != AWS_ACCESS_KEY or len(credential) != 5 or credential[3] != "bedrock":
            return self.reply(403, {"message": "The security token included in the request is invalid."},
                              {"x-amzn-ErrorType": "UnrecognizedClientException"})
        if headers.get("x-amz-security-token") == "expired-token":
            return self.reply(403, {"message": "The security token included in the request is expired"},
                              {"x-amzn-ErrorType": "ExpiredTokenException"})
        expected = sigv4_signature(AWS_SECRET_KEY, "POST", path, query, headers, signed, body,
                                   headers.get("x-amz-date", ""), "/".join(credential[1:]))
        if "host" not in signed or "x-amz-date" not in signed or fields.get("Signature") != expected:
            return self.reply(403, {"message": "The request signature we calculated does not match the signature you provided."},
                              {"x-amzn-ErrorType": "InvalidSignatureException"})
        if headers.get("x-amz-security-token") != AWS_SESSION_TOKEN:
            return self.reply(403, {"message": "The security token included in the request is invalid."})
        _, _, model, operation = path.split("/", 3)
        model = urllib.parse.unquote(model)
        if model.startswith("throttled"):
            return self.reply(429, {"message": "Too many requests, please wait before trying again."},
                              {"x-amzn-ErrorType": "ThrottlingException"})
        if operation == "invoke":
            request = json.loads(body)
            if model.startswith("amazon.titan-embed"):
                return self.reply(200, {"embedding": [0.25, -0.5, 0.75], "inputTextTokenCount": 4})
            return self.reply(200, {"embeddings": [[0.1, 0.2] for _ in request["texts"]], "id": "e1"})
        if model not in ("anthropic.claude-3-5-sonnet-20241022-v2:0",
                         "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-3-haiku-20240307-v1:0"):
            return self.reply(400, {"message": f"The provided model identifier is invalid: {model}"},
                              {"x-amzn-ErrorType": "ValidationException"})
        request = json.loads(body)
        if "messages" not in request or any(m["role"] not in ("user", "assistant") for m in request["messages"]):
            return self.reply(400, {"message": "Malformed input request"}, {"x-amzn-ErrorType": "ValidationException"})
        tools = (request.get("toolConfig") or {}).get("tools") or []
        tool = tools[0]["toolSpec"]["name"] if tools else None
        usage = {"inputTokens": 11, "outputTokens": 4, "totalTokens": 15}
        if operation == "converse":
            content = [{"toolUse": {"toolUseId": "tooluse_br1", "name": tool, "input": {"city": "Oslo"}}}] if tool \
                else [{"text": "Hello from Bedrock"}]
            return self.reply(200, {"output": {"message": {"role": "assistant", "content": content}},
                                    "stopReason": "tool_use" if tool else "end_turn", "usage": usage,
                                    "metrics": {"latencyMs": 12}})
        self.start_stream("application/vnd.amazon.eventstream")
        data = frame("messageStart", {"role": "assistant", "p": "abcdefgh"})
        if tool:
            data += frame("contentBlockStart", {"contentBlockIndex": 0, "start": {
                "toolUse": {"toolUseId": "tooluse_br1", "name": tool}}, "p": "ab"})
            for part in ['{"city":', '"Oslo"}']:
                data += frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"toolUse": {"input": part}}, "p": "x"})
        else:
            for word in ["Hello ", "from ", "Bedrock"]:
                data += frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": word}, "p": "xyz"})
        data += frame("contentBlockStop", {"contentBlockIndex": 0, "p": "a"})
        data += frame("messageStop", {"stopReason": "tool_use" if tool else "end_turn", "p": "abc"})
        data += frame("metadata", {"usage": usage, "metrics": {"latencyMs": 12}, "p": "abcd"})
        self.send_pieces(data)
        self.end_stream()

    # Google Vertex AI

    def token(self, body):
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        form = urllib.parse.parse_qs(body.decode())
        if form.get("grant_type") != ["urn:ietf:params:oauth:grant-type:jwt-bearer"]:
            return self.reply(400, {"error": "unsupported_grant_type"})
        header, claims, signature = form["assertion"][0].split(".")
        def decode(part):
            return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        key = serialization.load_pem_public_key(CloudMock.public_key_pem)
        try:
            key.verify(decode(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
        except Exception:
            return self.reply(400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."})
        payload = json.loads(decode(claims))
        if json.loads(decode(header))["alg"] != "RS256" or payload["scope"] != "https://www.googleapis.com/auth/cloud-platform" \
                or payload["exp"] - payload["iat"] > 3600:
            return self.reply(400, {"error": "invalid_grant"})
        CloudMock.token_requests += 1
        time.sleep(0.2)  # concurrent requests must share this one refresh
        self.reply(200, {"access_token": f"ya29.mock-{CloudMock.token_requests}", "expires_in": 3599,
                         "token_type": "Bearer"})

    def vertex(self, path, query, body):
        if not (self.headers.get("authorization") or "").startswith("Bearer ya29.mock-"):
            return self.reply(401, {"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                                              "status": "UNAUTHENTICATED"}})
        prefix = "/v1/projects/mock-project/locations/us-east5/publishers/"
        if not path.startswith(prefix):
            return self.reply(404, {"error": {"code": 404, "message": "not found", "status": "NOT_FOUND"}})
        publisher, _, rest = path[len(prefix):].partition("/models/")
        model, _, method = urllib.parse.unquote(rest).partition(":")
        request = json.loads(body)
        if publisher == "google":
            return self.vertex_gemini(model, method, query, request)
        if publisher == "anthropic":
            return self.vertex_claude(model, method, request)
        self.reply(404, {"error": {"code": 404, "message": "no publisher", "status": "NOT_FOUND"}})

    def vertex_gemini(self, model, method, query, request):
        tools = request.get("tools") or []
        tool = tools[0]["functionDeclarations"][0]["name"] if tools else None
        parts = [{"functionCall": {"name": tool, "args": {"city": "Oslo"}}}] if tool else None
        usage = {"promptTokenCount": 8, "candidatesTokenCount": 3, "totalTokenCount": 11}
        if method == "generateContent":
            return self.reply(200, {"candidates": [{"content": {"role": "model", "parts": parts or [{"text": "Hello from Vertex Gemini"}]},
                                                    "finishReason": "STOP"}], "usageMetadata": usage,
                                    "modelVersion": model})
        if method != "streamGenerateContent" or query != "alt=sse":
            return self.reply(400, {"error": {"code": 400, "message": "bad method", "status": "INVALID_ARGUMENT"}})
        self.start_stream("text/event-stream")
        events = [{"candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP"}], "usageMetadata": usage}] \
            if tool else [{"candidates": [{"content": {"role": "model", "parts": [{"text": word}]}}]}
                          for word in ["Hello ", "from ", "Vertex ", "Gemini"]] + \
            [{"candidates": [{"content": {"role": "model", "parts": [{"text": ""}]}, "finishReason": "STOP"}], "usageMetadata": usage}]
        self.send_pieces(b"".join(f"data: {json.dumps(e)}\r\n\r\n".encode() for e in events))
        self.end_stream()

    def vertex_claude(self, model, method, request):
        if request.get("anthropic_version") != "vertex-2023-10-16" or "model" in request:
            return self.reply(400, {"type": "error", "error": {"type": "invalid_request_error",
                                                               "message": "anthropic_version: vertex-2023-10-16 is required"}})
        tools = request.get("tools") or []
        tool = tools[0]["name"] if tools else None
        usage = {"input_tokens": 10, "output_tokens": 5}
        if method == "rawPredict":
            content = [{"type": "tool_use", "id": "toolu_vx1", "name": tool, "input": {"city": "Oslo"}}] if tool \
                else [{"type": "text", "text": "Hello from Vertex Claude"}]
            return self.reply(200, {"id": "msg_vx", "type": "message", "role": "assistant", "model": model,
                                    "content": content, "stop_reason": "tool_use" if tool else "end_turn",
                                    "stop_sequence": None, "usage": usage})
        if method != "streamRawPredict" or not request.get("stream"):
            return self.reply(400, {"type": "error", "error": {"type": "invalid_request_error", "message": "stream"}})
        self.start_stream("text/event-stream")
        def event(name, data):
            return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
        data = event("message_start", {"type": "message_start", "message": {
            "id": "msg_vx", "type": "message", "role": "assistant", "model": model, "content": [],
            "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}})
        if tool:
            data += event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {
                "type": "tool_use", "id": "toolu_vx1", "name": tool, "input": {}}})
            for part in ['{"city":', '"Oslo"}']:
                data += event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                      "delta": {"type": "input_json_delta", "partial_json": part}})
        else:
            data += event("content_block_start", {"type": "content_block_start", "index": 0,
                                                  "content_block": {"type": "text", "text": ""}})
            for word in ["Hello ", "from ", "Vertex ", "Claude"]:
                data += event("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                      "delta": {"type": "text_delta", "text": word}})
        data += event("content_block_stop", {"type": "content_block_stop", "index": 0})
        data += event("message_delta", {"type": "message_delta", "delta": {
            "stop_reason": "tool_use" if tool else "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 5}})
        data += event("message_stop", {"type": "message_stop"})
        self.send_pieces(data)
        self.end_stream()


def start(port):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), CloudMock)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
