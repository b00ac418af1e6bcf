"""Shared fixtures: one real embedded index of the seeds, and a real `chroma run` server on 127.0.0.1."""
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

from rag.settings import offline_environment

offline_environment()  # before a test module imports gradio or the model libraries
# the instant extractive answerer unless a test names another: the default ("auto") is the local LLM wherever
# the llm extra is installed, seconds an answer; tests/test_local_llm.py checks that default itself
os.environ.setdefault("RAG_ANSWERER", "local")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
RAG_BIN = str(Path(sys.executable).with_name("rag"))
TRUCE = "The discussions focused on the 90-day tariff truce implemented in May, which is set to expire on August 12."


@pytest.fixture(scope="session", autouse=True)
def model_dir(tmp_path_factory):
    """The session's own model cache (`RAG_MODEL_DIR`, read by every RAG and CLI run of the tests): the first
    use joins the local LLM and exports the ONNX model as on a new machine, then every index shares them.
    Removed at the end: the joined model is 1.1 GB, and pytest keeps its last three runs' folders."""
    path = tmp_path_factory.mktemp("models")
    os.environ["RAG_MODEL_DIR"] = str(path)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def seeded_rag(tmp_path_factory):
    from rag import RAG

    rag = RAG(index_dir=tmp_path_factory.mktemp("seeded-index"), seeds_dir=SEEDS, chroma_url=None, answerer="local")
    rag.index([SEEDS])
    return rag


def indexed_rag(tmp_path_factory, articles: dict[str, str], name: str):
    """A real embedded index of a small corpus written from `articles` (file name -> text)."""
    from rag import RAG

    corpus = tmp_path_factory.mktemp(f"{name}-corpus")
    for file, text in articles.items():
        (corpus / file).write_text(text, encoding="utf-8")
    rag = RAG(index_dir=tmp_path_factory.mktemp(f"{name}-index"), seeds_dir=corpus, chroma_url=None, answerer="local")
    rag.index([corpus])
    return rag


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory):
    """A real Chroma server process, stopped by PID at the end of the session."""
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    chroma = shutil.which("chroma", path=str(Path(sys.executable).parent)) or "chroma"
    proc = subprocess.Popen([chroma, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.3)
    else:
        proc.kill()
        pytest.fail("chroma run did not start within 60 s")
    yield {"url": url, "pid": proc.pid, "port": port, "path": path, "proc": proc}
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)


def run_rag(*args: str, env: dict | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Runs the real `rag` console script; tests check its exit code and output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([RAG_BIN, *args], capture_output=True, text=True, env=full_env, timeout=timeout, cwd=ROOT)
