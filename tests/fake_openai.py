"""A real HTTP server speaking the OpenAI chat-completions API, scriptable so tests can inject faults.

Use in-process:

    with FakeOpenAI(api_key="sk-test") as fake:          # fake.url -> "http://127.0.0.1:PORT/v1"
        fake.script(429, {"status": 500}, "The answer [1].")   # consumed one per request
        fake.default = "fallback reply"                     # used when the script is empty

or as a subprocess (`python tests/fake_openai.py --port 8011`) scripted over HTTP:
`POST /_control {"script": [...], "default": ..., "reset": true}`, `GET /_control` -> received requests.

A step is a reply text, an HTTP status code, a callable `body -> step` (e.g. to echo the prompt), or a dict:
    {"text": "...", "sleep": 2.0, "status": 429, "retry_after": "1", "malformed": true}
"""
from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class FakeOpenAI:
    def __init__(self, api_key: str | None = None, host: str = "127.0.0.1", port: int = 0, model: str = "fake-model"):
        self.api_key, self.model = api_key, model
        self.default: object = "I could not find this in the indexed articles."
        self.requests: list[dict] = []
        self._steps: list = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer((host, port), _handler(self))
        self.server.daemon_threads = True
        self.url = f"http://{host}:{self.server.server_address[1]}/v1"
        self._thread: threading.Thread | None = None

    def script(self, *steps) -> "FakeOpenAI":
        with self._lock:
            self._steps = list(steps)
        return self

    def reset(self) -> None:
        with self._lock:
            self._steps, self.requests = [], []

    def next_step(self, body: dict):
        with self._lock:
            self.requests.append(body)
            step = self._steps.pop(0) if self._steps else self.default
        step = step(body) if callable(step) else step
        if isinstance(step, int):
            return {"status": step}
        return {"text": step} if isinstance(step, str) else dict(step)

    def start(self) -> "FakeOpenAI":
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> "FakeOpenAI":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def server_fixtures(api_key: str, default):
    """A module's `fake` server and the autouse fixture that resets it before each test to answer `default`
    (a reply, or a function of the request body)."""

    @pytest.fixture(scope="module")
    def fake():
        with FakeOpenAI(api_key=api_key) as server:
            yield server

    @pytest.fixture(autouse=True)
    def _fresh(fake):
        fake.reset()
        fake.default = default

    return fake, _fresh


def _handler(fake: FakeOpenAI):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _send(self, status: int, body: str | bytes, headers: dict | None = None, ctype="application/json"):
            data = body.encode() if isinstance(body, str) else body
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, message: str, headers: dict | None = None):
            kind = {401: "invalid_request_error", 429: "rate_limit_error"}.get(status, "server_error")
            self._send(status, json.dumps({"error": {"message": message, "type": kind, "code": None}}), headers)

        def _body(self) -> dict:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            return json.loads(raw or b"{}")

        def do_GET(self):
            if self.path == "/_control":
                return self._send(200, json.dumps({"requests": fake.requests}))
            if self.path.rstrip("/").endswith("/models"):
                return self._send(200, json.dumps({"object": "list", "data": [{"id": fake.model, "object": "model"}]}))
            self._error(404, "not found")

        def do_POST(self):
            try:
                if self.path == "/_control":
                    return self._control(self._body())
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    return self._error(404, "not found")
                body = self._body()
                auth = self.headers.get("Authorization", "")
                body["_headers"] = {"authorization": auth}
                step = fake.next_step(body)
                if fake.api_key and auth != f"Bearer {fake.api_key}":
                    step = {"status": 401}
                self._reply(body, step, auth)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (e.g. its timeout fired first)

        def _control(self, cmd: dict):
            if cmd.get("reset"):
                fake.reset()
            if "script" in cmd:
                fake.script(*cmd["script"])
            if "default" in cmd:
                fake.default = cmd["default"]
            self._send(200, json.dumps({"ok": True}))

        def _reply(self, body: dict, step: dict, auth: str):
            time.sleep(step.get("sleep", 0))
            status = step.get("status", 200)
            if status == 401:
                # Like OpenAI, echo the key back in the message: the client must never surface it.
                return self._error(401, f"Incorrect API key provided: {auth.removeprefix('Bearer ')}.")
            if status != 200:
                headers = {"Retry-After": str(step["retry_after"])} if "retry_after" in step else None
                return self._error(status, step.get("text") or f"fake error {status}", headers)
            text = step.get("text", "")
            if body.get("stream"):
                return self._stream(text, step)
            if step.get("malformed"):
                return self._send(200, '{"id": "chatcmpl-1", "choices": [ {"message": ')
            self._send(200, json.dumps(_completion(fake.model, text)))

        def _stream(self, text: str, step: dict):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()  # HTTP/1.0: the body ends when the connection closes
            events = [_chunk(fake.model, {"role": "assistant", "content": ""})]
            events += [_chunk(fake.model, {"content": piece}) for piece in re.findall(r"\s*\S+", text)]
            events.append(_chunk(fake.model, {}, finish="stop"))
            for i, event in enumerate(events):
                if step.get("malformed") and i == 2:
                    self.wfile.write(b"data: {\"choices\": [{\"delta\": {\"content\n\n")
                    break
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
                self.wfile.flush()
                time.sleep(step.get("token_sleep", 0))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

    return Handler


def _completion(model: str, text: str) -> dict:
    return {"id": "chatcmpl-fake", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


def _chunk(model: str, delta: dict, finish: str | None = None) -> dict:
    return {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


if __name__ == "__main__":
    import argparse

    ap = argparse.ArgumentParser(description="Fake OpenAI chat-completions server for tests")
    ap.add_argument("--port", type=int, default=8011)
    ap.add_argument("--api-key")
    ap.add_argument("--reply", help="default reply text")
    a = ap.parse_args()
    fake = FakeOpenAI(api_key=a.api_key, port=a.port)
    if a.reply:
        fake.default = a.reply
    print(fake.url, flush=True)
    fake.server.serve_forever()
