"""A `chroma run` server stopped mid-session: questions fail with one clear line, and work again once it is back."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import SEEDS, free_port, run_rag

from rag import RAG
from rag.errors import RagError

pytestmark = pytest.mark.slow

QUESTION = "When does the tariff truce expire?"


class ChromaServer:
    """`chroma run` on 127.0.0.1 that can be stopped and started again on the same port and data path."""

    def __init__(self, path: Path):
        self.path, self.port = path, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
        self.proc = subprocess.Popen([chroma, "run", "--path", str(self.path), "--host", "127.0.0.1",
                                      "--port", str(self.port)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + 60
        while True:
            assert self.proc.poll() is None, f"chroma run exited with {self.proc.returncode}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                assert time.monotonic() < deadline, "chroma run did not start within 60 s"
                time.sleep(0.3)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=20)


@pytest.fixture
def server(tmp_path):
    s = ChromaServer(tmp_path / "chroma-data")
    s.start()
    yield s
    s.stop()


def assert_answers(rag: RAG) -> None:
    answer = rag.ask(QUESTION)
    assert "August 12" in answer.text and "August 12" in answer.citations[0].quote


def test_server_stopped_mid_session_gives_one_line_error_then_recovers(server, tmp_path):
    rag = RAG(index_dir=tmp_path / "local", seeds_dir=SEEDS, chroma_url=server.url, answerer="local")
    assert rag.index([SEEDS]).added == 5
    assert_answers(rag)

    server.stop()
    for _ in range(2):  # also after a failed call, nothing cached claims the server is there
        with pytest.raises(RagError) as err:
            rag.ask(QUESTION)
        message = str(err.value)
        assert "\n" not in message and server.url in message and "unavailable" in message, message
    env = {"RAG_CHROMA_URL": server.url, "RAG_INDEX_DIR": str(tmp_path / "local"), "RAG_SEEDS_DIR": str(SEEDS)}
    out = run_rag("ask", QUESTION, env=env, timeout=120)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.strip().count("\n") == 0 and server.url in out.stderr and "Traceback" not in out.stderr

    server.start()
    assert_answers(rag)
    assert rag.index([SEEDS]).unchanged == 5
    out = run_rag("ask", QUESTION, "--json", env=env, timeout=300)
    assert out.returncode == 0 and "August 12" in out.stdout, out.stderr
