"""Issue #22, item 1: a running chat keeps answering while `rag index` writes from another process.

Real processes only: `rag serve` on a free 127.0.0.1 port over an embedded Chroma index, `rag index` run in
a subprocess beside it, and every question asked through the chat's `/ask` API with gradio_client. Before
the fix, each question after the other process's write raised Chroma's "Error finding id" until restart.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request

import pytest

from conftest import RAG_BIN, free_port, run_rag

gradio_client = pytest.importorskip("gradio_client")

pytestmark = pytest.mark.slow

ARTICLES = {
    "a.txt": "date 2025-03-01\nThe Holm council voted to build a new library by the harbour next year.\n",
    "b.txt": "date 2025-03-02\nThe Vika council voted to build a new stadium for 12,000 fans in 2027.\n",
}


@pytest.fixture
def served(tmp_path):
    corpus = tmp_path / "news"
    corpus.mkdir()
    for name, text in ARTICLES.items():
        (corpus / name).write_text(text, encoding="utf-8")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("RAG_", "OPENAI"))},
           "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_SEEDS_DIR": str(tmp_path / "no-seeds"),
           "RAG_ANSWERER": "local", "PYTHONUNBUFFERED": "1"}
    first = run_rag("index", str(corpus), env=env)
    assert first.returncode == 0, first.stderr
    port = free_port()
    log = open(tmp_path / "serve.log", "wb")
    # the index is named on the command line, over a RAG_INDEX_DIR naming another (absent) folder
    proc = subprocess.Popen([RAG_BIN, "serve", "--port", str(port), "--index-dir", env["RAG_INDEX_DIR"]],
                            env={**env, "RAG_INDEX_DIR": str(tmp_path / "elsewhere")}, cwd=tmp_path,
                            stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        assert proc.poll() is None, (tmp_path / "serve.log").read_text(errors="replace")[-3000:]
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        pytest.fail("rag serve did not answer within 300 s")
    try:
        yield corpus, env, gradio_client.Client(url, verbose=False), tmp_path / "serve.log"
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        log.close()


def _index(corpus, env, *extra: str) -> str:
    got = run_rag("index", str(corpus), *extra, env=env)
    assert got.returncode == 0, got.stderr
    return got.stdout


def _cites(answer: dict, doc_id: str) -> str:
    quotes = [c["quote"] for c in answer["citations"] if c["doc_id"] == doc_id]
    assert quotes, (answer["answer"], [c["doc_id"] for c in answer["citations"]])
    return quotes[0]


def test_running_chat_sees_added_changed_and_pruned_articles_without_restart(served):
    corpus, env, client, log = served
    holm, vika, lund = ("What will the Holm council build?", "How many fans will the new Vika stadium hold?",
                        "When does the Lund bridge reopen?")
    assert "library" in _cites(client.predict(holm, api_name="/ask"), "a.txt")
    assert "12,000" in _cites(client.predict(vika, api_name="/ask"), "b.txt")

    # added by another process
    (corpus / "c.txt").write_text("date 2025-03-03\nThe Lund bridge reopens to traffic on 3 June after repairs.\n",
                                  encoding="utf-8")
    assert "1 added" in _index(corpus, env)
    assert "library" in _cites(client.predict(holm, api_name="/ask"), "a.txt")  # answered before: still is
    assert "3 June" in _cites(client.predict(lund, api_name="/ask"), "c.txt")

    # changed
    (corpus / "a.txt").write_text("date 2025-03-04\nThe Holm council voted to build a new swimming pool by the"
                                  " harbour next year.\n", encoding="utf-8")
    assert "1 updated" in _index(corpus, env)
    assert "swimming pool" in _cites(client.predict(holm, api_name="/ask"), "a.txt")

    # pruned
    (corpus / "b.txt").unlink()
    assert "1 removed" in _index(corpus, env, "--prune")
    after = client.predict(vika, api_name="/ask")
    assert all(c["doc_id"] != "b.txt" for c in after["citations"]) and "12,000" not in after["answer"]
    assert "3 June" in _cites(client.predict(lund, api_name="/ask"), "c.txt")
    assert "Error finding id" not in log.read_text(errors="replace")
