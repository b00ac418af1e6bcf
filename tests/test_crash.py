"""`rag index` killed with SIGKILL mid-write, then run again, equals a clean run: no duplicates, no orphans."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time

import pytest
from conftest import RAG_BIN, ROOT, SEEDS, run_rag

from rag import RAG
from rag.text import sentence_spans

pytestmark = pytest.mark.slow


def make_corpus(path, n=150):
    sentences = []
    for f in sorted(SEEDS.glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        sentences += [text[s:e] for s, e in sentence_spans(text)]
    rng = random.Random(7)
    with open(path, "w") as fh:
        for i in range(n):
            body = " ".join(rng.sample(sentences, 6))
            fh.write(json.dumps({"id": f"art-{i:04d}", "title": f"Story {i}", "published_at": f"2025-0{1 + i % 9}-1{i % 10}",
                                 "text": f"Story {i} reports. {body}"}) + "\n")


def state(index_dir):
    rag = RAG(index_dir=index_dir)
    articles = rag.store.article_state()
    chunks = rag.store.chunk_state()
    return articles, chunks


def test_sigkill_during_index_then_rerun_equals_clean_run(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    make_corpus(corpus)
    clean_dir, crash_dir = tmp_path / "clean", tmp_path / "crash"
    assert run_rag("index", str(corpus), env={"RAG_INDEX_DIR": str(clean_dir)}).returncode == 0

    env = {**os.environ, "RAG_INDEX_DIR": str(crash_dir)}
    proc = subprocess.Popen([RAG_BIN, "index", str(corpus)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = crash_dir / "chroma.sqlite3"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists() and any(p.is_dir() for p in crash_dir.iterdir()):
            break
        time.sleep(0.05)
    time.sleep(random.Random(1).uniform(0.5, 2.0))
    assert proc.poll() is None, "indexing finished before it could be killed; make the corpus bigger"
    proc.send_signal(signal.SIGKILL)
    proc.wait()

    ask = run_rag("ask", "When does the tariff truce expire?", "--json", env={"RAG_INDEX_DIR": str(crash_dir),
                                                                               "RAG_SEEDS_DIR": str(SEEDS)})
    assert ask.returncode == 0, ask.stderr
    assert "Traceback" not in ask.stderr

    again = run_rag("index", str(corpus), "--json", env={"RAG_INDEX_DIR": str(crash_dir)})
    assert again.returncode == 0, again.stderr
    clean_articles, clean_chunks = state(clean_dir)
    articles, chunks = state(crash_dir)
    seeds = {p.name for p in SEEDS.glob("*.txt")}
    articles = {k: v for k, v in articles.items() if k not in seeds}
    chunks = {k: v for k, v in chunks.items() if v["doc_id"] not in seeds}
    assert set(articles) == set(clean_articles)
    assert sorted(chunks) == sorted(clean_chunks)
    for meta in chunks.values():
        assert articles[meta["doc_id"]]["doc_hash"] == meta["doc_hash"]
