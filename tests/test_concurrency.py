"""Two `rag index` runs on one store at once, and 50 concurrent questions to the running UI's `/ask` API."""
from __future__ import annotations

import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import RAG_BIN, ROOT, run_rag
from test_crash_random import lock_holder, synthetic_corpus
from ui_helpers import AppServer

from rag import RAG

pytestmark = pytest.mark.slow

FIRST_N, SECOND_N = 300, 40
# Seed questions the local answerer gets right, each with the phrase its seed article states.
QUESTIONS = {
    "When does the tariff truce expire?": "August 12",
    "Who led the US officials at the Stockholm talks?": "Scott Bessent",
    "How many tons of soybeans did Bessent say China is ready to buy?": "12 million tons",
}


def index_state(index_dir) -> tuple[dict, list[str], set[str]]:
    """Article hashes, chunk ids, and the chunk ids a dense query over the whole collection can reach."""
    store = RAG(index_dir=index_dir, chroma_url=None).store
    ids = store._get_all(store.chunks, [])[0]
    probes = store.chunks.get(ids=ids[:3], include=["embeddings"])["embeddings"]
    reachable = {cid for vector in probes for cid, _ in store.dense(vector, len(ids), None)}
    return {d: a["doc_hash"] for d, a in store.article_state().items()}, sorted(ids), reachable


def test_two_index_runs_at_once_one_waits_and_the_index_equals_a_clean_run(tmp_path):
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    synthetic_corpus(first, FIRST_N)
    synthetic_corpus(second, SECOND_N, first=FIRST_N)
    shared, clean = tmp_path / "shared", tmp_path / "clean"
    env = {**os.environ, "RAG_INDEX_DIR": str(shared), "RAG_CHROMA_URL": ""}

    a = subprocess.Popen([RAG_BIN, "index", str(first), "--json"], env=env, cwd=ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 180
    while lock_holder(shared) != str(a.pid):
        assert a.poll() is None, a.stderr.read()
        assert time.monotonic() < deadline, "the first run never took the write lock"
        time.sleep(0.02)
    b = subprocess.Popen([RAG_BIN, "index", str(second), "--json"], env=env, cwd=ROOT, text=True,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    a_out, a_err = a.communicate(timeout=600)
    b_out, b_err = b.communicate(timeout=600)
    assert a.returncode == 0 and b.returncode == 0, (a_err, b_err)
    assert "Traceback" not in a_err + b_err
    waited = [line for line in b_err.splitlines() if "another indexing run" in line]
    assert waited == [f"another indexing run is writing to {shared}; waiting for it to finish"], b_err
    assert json.loads(a_out)["added"] == FIRST_N and json.loads(b_out)["added"] == SECOND_N

    ref = run_rag("index", str(first), str(second), "--json", env={"RAG_INDEX_DIR": str(clean), "RAG_CHROMA_URL": ""})
    assert ref.returncode == 0, ref.stderr
    articles, ids, reachable = index_state(shared)
    clean_articles, clean_ids, clean_reachable = index_state(clean)
    assert clean_reachable == set(clean_ids)
    assert articles == clean_articles and len(articles) == FIRST_N + SECOND_N
    assert ids == clean_ids and len(set(ids)) == len(ids)
    assert reachable == set(ids), f"{len(set(ids) - reachable)} chunks missing from the vector index"


def test_50_concurrent_questions_to_the_ui_api_are_all_answered_correctly(tmp_path):
    gradio_client = pytest.importorskip("gradio_client")
    app = AppServer(tmp_path).start()
    try:
        asked = [list(QUESTIONS)[i % len(QUESTIONS)] for i in range(50)]
        with ThreadPoolExecutor(8) as pool:
            clients = list(pool.map(lambda _: gradio_client.Client(app.url, verbose=False, httpx_kwargs={"timeout": 600}), asked))

        def ask(i: int) -> tuple[float, dict]:
            t = time.perf_counter()
            result = clients[i].predict(asked[i], api_name="/ask")
            return time.perf_counter() - t, result

        with ThreadPoolExecutor(len(asked)) as pool:
            done = list(pool.map(ask, range(len(asked)), timeout=600))
    finally:
        app.stop()
    for question, (_, result) in zip(asked, done):
        expected = QUESTIONS[question]
        assert not result["abstained"] and expected in result["answer"], (question, result["answer"])
        assert expected in result["citations"][0]["quote"]
    ms = sorted(seconds * 1000 for seconds, _ in done)
    print(f"\n50 concurrent /ask requests, all correct: p50 {ms[24]:.0f} ms, p95 {ms[47]:.0f} ms, max {ms[-1]:.0f} ms")
