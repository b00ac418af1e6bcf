"""A real OpenAI-compatible embeddings server on 127.0.0.1 (http.server) serving the packaged MiniLM's
vectors, for tests/test_embed_server.py and bench/ingest.py --server. Knobs for tests: `fail` answers the
next N requests with HTTP 500, `repeat` serves each vector concatenated that many times (a model of
another dimension), `scale` multiplies the vectors (an unnormalized server).

    python tests/embed_server.py PORT     # serves until killed
"""
from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class EmbedServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, embedder, port: int = 0):
        super().__init__(("127.0.0.1", port), Handler)
        self.embedder, self.fail, self.repeat, self.scale = embedder, 0, 1, 1.0
        self.requests = self.active = self.peak = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def start(self) -> "EmbedServer":
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        s: EmbedServer = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with s.lock:
            s.requests += 1
            s.active += 1
            s.peak = max(s.peak, s.active)
            failing = s.fail > 0
            s.fail -= failing
        try:
            if self.path != "/v1/embeddings" or failing:
                return self._send(404 if not failing else 500, {"error": {"message": "try again" if failing else "no such path"}})
            texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
            vectors = s.embedder.embed(texts) * s.scale
            data = [{"object": "embedding", "index": i, "embedding": [float(x) for x in v] * s.repeat}
                    for i, v in enumerate(vectors)]
            self._send(200, {"object": "list", "data": data, "model": body.get("model"),
                             "usage": {"prompt_tokens": 0, "total_tokens": 0}})
        finally:
            with s.lock:
                s.active -= 1

    def _send(self, status: int, payload: dict) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


if __name__ == "__main__":
    from rag.settings import offline_environment

    offline_environment()
    from rag.embed import Embedder

    server = EmbedServer(Embedder(), int(sys.argv[1]))
    print(server.url, flush=True)
    server.serve_forever()
