"""Shared by the UI tests: run the real app (`python app.py`) on a free port against a temporary index."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT = float(os.environ.get("RAG_UI_TEST_START_TIMEOUT", "300"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`python app.py` in a subprocess; `url` answers HTTP once `start()` returns; `stop()` kills it by PID."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.index_dir = workdir / "index"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = workdir / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "AppServer":
        env = {k: v for k, v in os.environ.items()
               if k not in {"RAG_CONFIG", "RAG_UI_USER", "RAG_UI_PASSWORD", "RAG_CHROMA_URL", "RAG_ANSWERER",
                            "RAG_LLM_BASE_URL", "RAG_OPENAI_API_KEY", "OPENAI_API_KEY"}}
        env.update(RAG_INDEX_DIR=str(self.index_dir), RAG_SEEDS_DIR=str(SEEDS), GRADIO_SERVER_NAME="127.0.0.1",
                   GRADIO_SERVER_PORT=str(self.port), PYTHONUNBUFFERED="1")
        self._log = open(self.log_path, "wb")
        # cwd is the temporary folder, so no rag.toml of the developer's is read
        self.proc = subprocess.Popen([sys.executable, str(REPO / "app.py")], cwd=self.workdir, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"app.py did not answer HTTP within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        if getattr(self, "_log", None):
            self._log.close()
