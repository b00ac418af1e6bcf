"""`rag index` SIGKILLed at seeded random points of a 1,500-article ingest, then run to completion, equals a clean run.

Kills land in three phases: process start-up (imports, opening the store), model loading (the write
lock is held, nothing embedded yet) and writing (the store file is changing). A question asked of the
folder a crashed run left behind must answer from committed articles only.
"""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import RAG_BIN, ROOT, run_rag

from rag import RAG

pytestmark = pytest.mark.slow

N_ARTICLES = 1500  # on an idle machine 500 were all committed before the last kill
KILL_PHASES = ["start-up", "writing", "model load", "writing", "writing"]
PHASE_TIMEOUT = 180  # seconds a run may take to reach the phase it is to be killed in
CITIES = ["Oslo", "Lima", "Hanoi", "Accra", "Quito", "Tunis", "Riga", "Perth", "Dakar", "Porto", "Delhi", "Cusco"]
THINGS = ["bridge", "library", "harbor", "tram line", "solar farm", "hospital", "stadium", "museum", "dam", "airport"]
NAMES = ["Ana", "Bo", "Chidi", "Dara", "Eli", "Femi", "Gus", "Hana", "Ivo", "Jun", "Kofi", "Lea"]


def synthetic_corpus(path: Path, n: int = N_ARTICLES, first: int = 0) -> None:
    """Short, distinct articles (each one chunk) so that embedding them stays cheap."""
    rng = random.Random(11 + first)
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(first, first + n):
            city, thing, name = rng.choice(CITIES), rng.choice(THINGS), rng.choice(NAMES)
            text = (f"Officials in {city} opened a new {thing} numbered {i} on day {i % 28 + 1}. "
                    f"Mayor {name} {i} said the {thing} cost {rng.randint(2, 900)} million dollars. "
                    f"Residents expect it to serve {rng.randint(1000, 99000)} people a week.")
            fh.write(json.dumps({"id": f"syn-{i:04d}", "title": f"{city} {thing} {i}",
                                 "published_at": f"2025-0{1 + i % 9}-{1 + i % 28:02d}", "text": text}) + "\n")


def wait_for(condition, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + PHASE_TIMEOUT
    while not condition():
        assert proc.poll() is None, f"`rag index` exited ({proc.returncode}) before {what}; enlarge the corpus"
        assert time.monotonic() < deadline, f"`rag index` did not reach {what} within {PHASE_TIMEOUT} s"
        time.sleep(0.02)


def lock_holder(index_dir: Path) -> str:
    try:
        return (index_dir / "write.lock").read_text().strip()
    except OSError:
        return ""


def store_mtime(index_dir: Path) -> int:
    try:
        return (index_dir / "chroma.sqlite3").stat().st_mtime_ns
    except OSError:
        return 0


def kill_during(phase: str, corpus: Path, index_dir: Path, env: dict, rng: random.Random) -> None:
    proc = subprocess.Popen([RAG_BIN, "index", str(corpus), "--json"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if phase == "start-up":
            time.sleep(rng.uniform(0.2, 2.0))
        else:
            wait_for(lambda: lock_holder(index_dir) == str(proc.pid), proc, "taking the write lock")
            if phase == "writing":
                locked_at = store_mtime(index_dir)
                wait_for(lambda: store_mtime(index_dir) != locked_at, proc, "writing to the store")
            time.sleep(rng.uniform(0.0, 1.0))
        assert proc.poll() is None, f"`rag index` finished before its {phase} kill"
        proc.send_signal(signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def committed_articles(env: dict) -> set[str]:
    out = run_rag("articles", env=env)
    assert out.returncode == 0 and "Traceback" not in out.stderr, out.stderr
    return {line.split()[1] for line in out.stdout.splitlines() if line.strip()}


def final_state(index_dir: Path) -> tuple[dict, list[str], dict]:
    store = RAG(index_dir=index_dir, chroma_url=None).store
    ids = store._get_all(store.chunks, [])[0]
    return store.article_state(), ids, store.chunk_state()


def test_random_sigkills_then_rerun_equal_a_clean_run(tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    synthetic_corpus(corpus)
    no_seeds = tmp_path / "no-seeds"
    clean_dir, crash_dir = tmp_path / "clean", tmp_path / "crash"
    # small embedding batches flush to the store every 64 chunks, so a run is writing for most of its life
    base = {"RAG_EMBED_BATCH": "16", "RAG_SEEDS_DIR": str(no_seeds), "RAG_CHROMA_URL": ""}
    clean_env, crash_env = {**base, "RAG_INDEX_DIR": str(clean_dir)}, {**base, "RAG_INDEX_DIR": str(crash_dir)}

    clean = run_rag("index", str(corpus), "--json", env=clean_env, timeout=600)
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["added"] == N_ARTICLES

    rng = random.Random(2025)
    for phase in KILL_PHASES:
        kill_during(phase, corpus, crash_dir, {**os.environ, **crash_env}, rng)

    committed = committed_articles(crash_env)
    assert 0 < len(committed) < N_ARTICLES, "the kills should leave a partly written index"
    ask = run_rag("ask", "How much did the Oslo bridge cost?", "--json", env=crash_env)
    assert ask.returncode == 0, ask.stderr
    assert "Traceback" not in ask.stderr
    answer = json.loads(ask.stdout)
    assert {c["doc_id"] for c in answer["citations"]} <= committed

    again = run_rag("index", str(corpus), "--json", env=crash_env, timeout=600)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["unchanged"] == len(committed) and report["added"] == N_ARTICLES - len(committed)
    print(f"\n{len(KILL_PHASES)} SIGKILLs ({', '.join(KILL_PHASES)}); {len(committed)} articles committed before "
          f"the final run, which added {report['added']} and repaired {report['repaired']} leftover chunks")

    clean_articles, clean_ids, _ = final_state(clean_dir)
    articles, ids, chunks = final_state(crash_dir)
    assert len(ids) == len(set(ids)) == len(clean_ids)
    assert sorted(ids) == sorted(clean_ids)
    assert {d: a["doc_hash"] for d, a in articles.items()} == {d: a["doc_hash"] for d, a in clean_articles.items()}
    spans = Counter((m["doc_id"], m["start"], m["end"]) for m in chunks.values())
    assert max(spans.values()) == 1, "two chunks cover the same span of one article"
    per_doc = Counter(m["doc_id"] for m in chunks.values())
    for cid, meta in chunks.items():
        assert articles[meta["doc_id"]]["doc_hash"] == meta["doc_hash"], f"orphan chunk {cid}"
    assert {d: a["n_chunks"] for d, a in articles.items()} == dict(per_doc)
