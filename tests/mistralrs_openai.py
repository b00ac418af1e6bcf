"""A real OpenAI-compatible chat-completions server on 127.0.0.1 that serves the packaged local model through
mistralrs, so the `openai` answerer and the LLM judge are exercised against a real model, not a script.

    with MistralrsOpenAI(runner) as server:   # server.url -> "http://127.0.0.1:PORT/v1"
        ...

`POST /v1/chat/completions` with `stream` true answers as server-sent events, otherwise as one JSON body.
"""
from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class MistralrsOpenAI:
    def __init__(self, runner, model: str = "qwen2.5-1.5b-local"):
        self.runner, self.model, self.requests = runner, model, []
        self.lock = threading.Lock()  # one generation at a time, as the in-process answerer does
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def complete(self, body: dict):
        import mistralrs

        self.requests.append(body)
        request = mistralrs.ChatCompletionRequest(
            messages=[{"role": m["role"], "content": m["content"]} for m in body["messages"]], model="local",
            max_tokens=body.get("max_tokens") or 128, temperature=0.0, top_k=1, stream=True)
        with self.lock:
            for chunk in self.runner.send_chat_completion_request(request):
                delta = chunk.choices[0].delta.content if chunk.choices else None
                if delta:
                    yield delta

    def __enter__(self) -> "MistralrsOpenAI":
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _handler(owner: MistralrsOpenAI):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet test output
            pass

        def do_POST(self):
            if self.path.rstrip("/") != "/v1/chat/completions":
                self.send_error(404)
                return
            body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
            created, rid = int(time.time()), f"chatcmpl-{time.monotonic_ns()}"
            if body.get("stream"):
                self.send_response(200)
                self.send_header("content-type", "text/event-stream")
                self.end_headers()
                for delta in owner.complete(body):
                    self._event({"id": rid, "object": "chat.completion.chunk", "created": created,
                                 "model": owner.model, "choices": [{"index": 0, "delta": {"content": delta},
                                                                   "finish_reason": None}]})
                self._event({"id": rid, "object": "chat.completion.chunk", "created": created, "model": owner.model,
                             "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
                self.wfile.write(b"data: [DONE]\n\n")
                return
            text = "".join(owner.complete(body))
            payload = json.dumps({"id": rid, "object": "chat.completion", "created": created, "model": owner.model,
                                  "choices": [{"index": 0, "finish_reason": "stop",
                                               "message": {"role": "assistant", "content": text}}],
                                  "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _event(self, data: dict) -> None:
            self.wfile.write(f"data: {json.dumps(data)}\n\n".encode())
            self.wfile.flush()

    return Handler
