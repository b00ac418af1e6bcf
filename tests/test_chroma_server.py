"""The same code against a real `chroma run` server through RAG_CHROMA_URL."""
from __future__ import annotations

import json

import pytest
from conftest import SEEDS, TRUCE, free_port, run_rag

pytestmark = pytest.mark.slow


def test_index_and_ask_through_chroma_server(chroma_server, tmp_path):
    env = {"RAG_CHROMA_URL": chroma_server["url"], "RAG_INDEX_DIR": str(tmp_path / "local"), "RAG_SEEDS_DIR": str(SEEDS)}
    index = run_rag("index", str(SEEDS), "--json", env=env)
    assert index.returncode == 0, index.stderr
    assert json.loads(index.stdout)["added"] == 5
    ask = run_rag("ask", "When does the tariff truce expire?", "--json", env=env)
    assert ask.returncode == 0, ask.stderr
    data = json.loads(ask.stdout)
    assert data["citations"][0]["quote"] == TRUCE
    assert not any(p.name.endswith(".sqlite3") for p in (tmp_path / "local").rglob("*")), "must not use the embedded store"
    again = run_rag("index", str(SEEDS), "--json", env=env)
    assert json.loads(again.stdout)["chunks_written"] == 0
    # the BM25 cache belongs to the store, not to the URL that reached it
    [cache] = [p.name for p in (tmp_path / "local").iterdir() if p.name.startswith("bm25-")]
    other = {**env, "RAG_CHROMA_URL": chroma_server["url"].replace("127.0.0.1", "localhost")}
    assert json.loads(run_rag("ask", "When does the tariff truce expire?", "--json", env=other).stdout)["answer"] \
        == data["answer"]
    assert [p.name for p in (tmp_path / "local").iterdir() if p.name.startswith("bm25-")] == [cache]


def test_wrong_chroma_url_fails_fast_with_one_line(tmp_path):
    env = {"RAG_CHROMA_URL": f"http://127.0.0.1:{free_port()}", "RAG_INDEX_DIR": str(tmp_path)}
    out = run_rag("ask", "When does the tariff truce expire?", env=env, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "cannot open the Chroma store" in out.stderr
    assert "Traceback" not in out.stderr
