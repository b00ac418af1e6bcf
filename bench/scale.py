"""A million chunks: question latency, cold start, the BM25 build and the cost of adding articles (#24 item 4).

    nice -n 10 .venv/bin/python bench/scale.py                     # 1,000,000 chunks, adds 1,000 articles
    nice -n 10 .venv/bin/python bench/scale.py --chunks 50000 --add 50 --questions 30   # a quick check

1. Store: a `chroma run` server on 127.0.0.1 (its data in index/scale-<chunks>/chroma, kept for the next
   run) is filled through the project's own `Store.write` with `--chunks` synthetic chunks, 20 an article:
   words drawn from the RealTime QA corpus's word frequencies (90 a chunk, as written there, case kept),
   each article dated like a random corpus article, random unit vectors of the model's dimension (384),
   and article records like the indexer's (a random MinHash signature, no alternates). Vectors need not
   be real: the dense side's cost is the same. A stopped fill resumes.
2. BM25 build: a fresh process builds the segments from the store with an empty cache (rag/lexical_cache.py):
   wall time, its peak RSS and the RSS it started from, the cache's size on disk.
3. Cold start: `rag ask "<question>" --json` as a fresh subprocess with RAG_CHROMA_URL and RAG_INDEX_DIR
   (the cache built in 2), `--runs` times after one uncounted run (which prepares the model files);
   wall clock, median.
4. Questions: `--questions` RealTime QA dev questions through `RAG.ask` in one process (one unmeasured
   warm-up), from the question alone and `as_of` its date; p50/p95 of the wall clock and the
   retrieve/answer split the answer reports.
5. Adding articles: `--add` real RealTime QA articles (the dev questions' gold articles first, then a
   seeded sample) through `RAG.index` with the real embedding model, the BM25 sync at its end included;
   then the raw `encode` of exactly the chunk texts it embedded; the ratio of the two.
6. The questions again, with gold hit@5 over the 1M store now holding the gold articles, and the cold
   start again (the cache now has the added segment).

Writes bench/results/scale.json (scale-<chunks>.json for another size) and prints a table. Exits 0 with
"skipped: data absent" when ../shared/bench/realtimeqa is missing. Articles added by an earlier run are
deleted first, so every run adds them anew.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

import common

CHUNKS_PER_ARTICLE, WORDS_PER_CHUNK, TITLE_WORDS, DIM = 20, 90, 8, 384
ARTICLES_PER_WRITE = 50  # 1,000 chunks: one Chroma upsert per write
WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
RAG_BIN = Path(sys.executable).with_name("rag")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_chroma(path: Path) -> tuple[subprocess.Popen, str]:
    """`chroma run` on a free 127.0.0.1 port in its own process group; returns once it answers."""
    import chromadb

    path.mkdir(parents=True, exist_ok=True)
    port = free_port()
    chroma = Path(sys.executable).with_name("chroma")
    proc = subprocess.Popen([str(chroma), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=open(path.parent / "chroma.log", "ab"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 300  # a big store takes a while to open
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"chroma run exited with {proc.returncode}; see {path.parent / 'chroma.log'}")
        try:
            chromadb.HttpClient(host="127.0.0.1", port=port).heartbeat()
            return proc, f"http://127.0.0.1:{port}"
        except Exception:
            time.sleep(1)
    stop(proc)
    raise SystemExit("chroma run did not answer within 300 s")


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def memory_mb(pid: int) -> dict:
    """Current and peak RSS of a process (/proc/<pid>/status)."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            out["rss_mb" if line.startswith("VmRSS") else "peak_rss_mb"] = round(int(line.split()[1]) / 1024, 1)
    return out


def disk_gb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e9, 2)


class Vocabulary:
    """The corpus's words as written, drawn by their frequency; its articles' dates."""

    def __init__(self, corpus: list[dict]):
        counts = Counter(w for a in corpus for w in WORD.findall(f"{a.get('title') or ''} {a['text']}"))
        self.words = np.array([w for w, _ in counts.most_common()], dtype=object)
        freq = np.array([c for _, c in counts.most_common()], dtype=np.float64)
        self.cdf = np.cumsum(freq) / freq.sum()
        self.dates = [a["published_at"] for a in corpus if a.get("published_at")]

    def draw(self, rng: np.random.Generator, n: int) -> list[str]:
        return list(self.words[np.minimum(np.searchsorted(self.cdf, rng.random(n)), len(self.words) - 1)])


def synthetic(i: int, vocab: Vocabulary, seed: int) -> tuple:
    """Synthetic article i as a `Store.write` batch row: the same article for the same (i, seed)."""
    from rag.chunk import chunk_id
    from rag.types import Chunk, Document

    rng = np.random.default_rng([seed, i])
    words = vocab.draw(rng, TITLE_WORDS + CHUNKS_PER_ARTICLE * WORDS_PER_CHUNK)
    title = " ".join(words[:TITLE_WORDS]).capitalize()
    parts = [" ".join(words[TITLE_WORDS + k * WORDS_PER_CHUNK:TITLE_WORDS + (k + 1) * WORDS_PER_CHUNK]).capitalize() + "."
             for k in range(CHUNKS_PER_ARTICLE)]
    text = "\n\n".join(parts)
    doc = Document(doc_id=f"synthetic-{i:07d}", title=title, text=text, source="synthetic",
                   published_at=vocab.dates[int(rng.integers(len(vocab.dates)))], content_hash=f"synthetic-{seed}-{i}")
    chunks, at = [], 0
    for p in parts:
        chunks.append(Chunk(chunk_id(doc, (at, at + len(p))), doc.doc_id, p, at, at + len(p)))
        at += len(p) + 2
    vectors = rng.standard_normal((CHUNKS_PER_ARTICLE, DIM), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    signature = base64.b64encode(rng.integers(0, 2 ** 32 - 1, 128, dtype=np.uint64).tobytes()).decode()  # affine32 range
    return doc, chunks, vectors, [], {"alternates": "[]", "versions": "[]", "minhash": signature}


def fill(rag, target_articles: int, vocab: Vocabulary, seed: int) -> dict:
    """Writes synthetic articles until the store holds `target_articles`, resuming where a run stopped."""
    from rag.store import write_lock

    store = rag.store
    start = store.articles.count()
    t = time.perf_counter()
    with write_lock(rag.settings), store.writing():
        for first in range(start, target_articles, ARTICLES_PER_WRITE):
            store.write([synthetic(i, vocab, seed) for i in range(first, min(first + ARTICLES_PER_WRITE, target_articles))])
            done = min(first + ARTICLES_PER_WRITE, target_articles) - start
            if done % 5000 == 0 or first + ARTICLES_PER_WRITE >= target_articles:
                rate = done * CHUNKS_PER_ARTICLE / (time.perf_counter() - t)
                print(f"  filled {start + done:,} / {target_articles:,} articles ({rate:.0f} chunks/s)", file=sys.stderr)
    seconds = time.perf_counter() - t
    written = (target_articles - start) * CHUNKS_PER_ARTICLE
    return {"resumed_from_articles": start, "chunks_written": written, "seconds": round(seconds, 1),
            "chunks_per_s": round(written / seconds, 1) if written else None}


def child_bm25(url: str, index_dir: str) -> None:
    """(In a fresh process.) Builds the BM25 segments with an empty cache; prints the figures as JSON."""
    import shutil

    from rag.api import RAG

    rag = RAG(index_dir=index_dir, chroma_url=url)
    shutil.rmtree(rag.retriever.cache.root, ignore_errors=True)
    _ = rag.store.counts()  # the client connected and imported before the clock starts
    before = common.rss_mb()
    t = time.perf_counter()
    lex = rag.retriever.lexical
    seconds = time.perf_counter() - t
    peak = common.peak_rss_mb()
    t = time.perf_counter()
    from rag.lexical_cache import LexicalCache

    LexicalCache(rag.store, rag.retriever.cache.root, rag.retriever.cache.spelling, rag.retriever.cache.generation).current()
    print(json.dumps({"seconds": round(seconds, 1), "rss_before_mb": before, "peak_rss_mb": peak,
                      "chunks": lex.rows, "articles": len(lex.live), "segments": [s.n for s in lex.segments],
                      "load_s (built cache, another view)": round(time.perf_counter() - t, 2),
                      "cache_disk_gb": disk_gb(rag.retriever.cache.root)}))


def run_bm25_build(url: str, index_dir: Path) -> dict:
    p = subprocess.run([sys.executable, __file__, "--child-bm25", url, str(index_dir)], capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(common.REPO)})
    if p.returncode:
        raise SystemExit(f"the BM25 build failed: {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def cold_start(url: str, index_dir: Path, question: str, runs: int) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_CHROMA_URL=url, RAG_INDEX_DIR=str(index_dir), RAG_SEEDS_DIR=str(index_dir / "no-seeds"),
               PYTHONPATH=str(common.REPO))
    times, inner = [], []
    for n in range(runs + 1):  # the first run, not counted, prepares the model files in RAG_INDEX_DIR
        t = time.perf_counter()
        p = subprocess.run([str(RAG_BIN), "ask", question, "--json"], env=env, capture_output=True, text=True, cwd="/")
        times.append(time.perf_counter() - t)
        if p.returncode:
            raise SystemExit(f"rag ask failed ({p.returncode}): {p.stderr[-1000:]}")
        if n == 0:
            times.pop()
            continue
        inner.append(json.loads(p.stdout).get("timings", {}).get("total_ms"))
    return {"command": f'RAG_CHROMA_URL=... RAG_INDEX_DIR=... rag ask "{question}" --json', "runs_s": [round(x, 2) for x in times],
            "median_s": round(statistics.median(times), 2), "in_process_total_ms": inner}


def ask_all(rag, questions: list[dict], as_of: bool) -> dict:
    """Wall-clock latency of `RAG.ask` for each question after one unmeasured warm-up."""
    rag.ask(questions[0]["question"])
    walls, retrieve, answer = [], [], []
    for q in questions:
        kw = {"as_of": q["question_date"].replace("/", "-")} if as_of else {}
        t = time.perf_counter()
        got = rag.ask(q["question"], **kw)
        walls.append((time.perf_counter() - t) * 1000)
        retrieve.append(got.timings["retrieve_ms"])
        answer.append(got.timings["answer_ms"])
    return {"n": len(walls), "p50_ms": round(common.percentile(walls, 50), 1), "p95_ms": round(common.percentile(walls, 95), 1),
            "retrieve_p50_ms": round(statistics.median(retrieve), 1), "answer_p50_ms": round(statistics.median(answer), 1)}


def gold_hits(rag, questions: list[dict], present: set[str], k: int = 5) -> dict:
    """Doc-level hit@k for the questions whose gold article is in the store, both ways of asking."""
    asked = [q for q in questions if present & set(q["gold_ids"])]
    out = {"n": len(asked)}
    for name, as_of in (("question_only", False), ("as_of", True)):
        hits = 0
        for q in asked:
            kw = {"as_of": q["question_date"].replace("/", "-")} if as_of else {}
            docs = list(dict.fromkeys(h.doc_id for h in rag.retrieve(q["question"], k=50, **kw)))[:k]
            hits += bool(set(docs) & set(q["gold_ids"]))
        out[f"hit@{k}_{name}"] = round(hits / max(len(asked), 1), 3)
    return out


def articles_to_add(corpus: list[dict], dev: list[dict], n: int, seed: int) -> list[dict]:
    """The dev questions' gold articles first, then a seeded sample of the others, n in all."""
    import random

    by_id = {a["id"]: a for a in corpus}
    gold = list(dict.fromkeys(g for q in dev for g in q["gold_ids"] if g in by_id))[:n]
    rest = [a["id"] for a in corpus if a["id"] not in set(gold)]
    picked = gold + random.Random(seed).sample(rest, max(0, min(n - len(gold), len(rest))))
    return [by_id[i] for i in picked]


def remove(store, doc_ids: list[str]) -> int:
    """Deletes these articles' chunks and records (left by an earlier run); returns how many were there."""
    present = list(store.records(doc_ids))
    for i in range(0, len(present), 100):
        got = store.chunks.get(where={"doc_id": {"$in": present[i:i + 100]}}, include=[])
        store.delete_chunks(got["ids"])
    store.delete_articles(present)
    return len(present)


def add(rag, articles: list[dict], workdir: Path) -> dict:
    """`RAG.index` of the articles (model loaded first), then the raw encode of the texts it embedded."""
    path = common.write_jsonl_gz(articles, workdir / "added.jsonl.gz")
    rag.embedder.embed(["warm up the model"])
    texts, embed_s, sync_s = [], [0.0], [0.0]
    real_embed, real_current = rag.embedder.embed, rag.retriever.cache.current

    def embed(batch):
        t = time.perf_counter()
        texts.extend(batch)
        out = real_embed(batch)
        embed_s[0] += time.perf_counter() - t
        return out

    def current(*a):
        t = time.perf_counter()
        out = real_current(*a)
        sync_s[0] += time.perf_counter() - t
        return out

    rag.embedder.embed, rag.retriever.cache.current = embed, current
    t = time.perf_counter()
    report = rag.index([path])
    index_s = time.perf_counter() - t
    rag.embedder.embed, rag.retriever.cache.current = real_embed, real_current
    t = time.perf_counter()
    real_embed(texts)
    encode_s = time.perf_counter() - t
    return {"articles": len(articles), "added": report.added, "folded": report.folded, "chunks": report.chunks_written,
            "index_s (RAG.index, incl. the BM25 sync)": round(index_s, 1), "encode_s (raw encode, same texts)": round(encode_s, 1),
            "ratio": round(index_s / encode_s, 3), "embed_s_inside_index": round(embed_s[0], 1),
            "bm25_sync_s": round(sync_s[0], 2), "other_s (chunking, store reads and writes, bookkeeping)":
                round(index_s - embed_s[0] - sync_s[0], 1), "peak_rss_mb (bench process so far)": common.peak_rss_mb()}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--chunks", type=int, default=1_000_000, help="synthetic chunks in the store (default 1,000,000)")
    ap.add_argument("--add", type=int, default=1000, help="real articles to add (default 1,000)")
    ap.add_argument("--questions", type=int, default=103, help="RealTime QA dev questions asked (default all 103)")
    ap.add_argument("--runs", type=int, default=3, help="cold-start runs (default 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--child-bm25", nargs=2, metavar=("URL", "INDEX_DIR"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_bm25:
        child_bm25(*args.child_bm25)
        return 0
    common.require_data("corpus.jsonl.gz", "dev.jsonl")
    from rag.api import RAG

    info, started = common.machine(), common.now()
    corpus, dev = common.read_corpus(), common.read_dev()
    questions = dev[:args.questions]
    work = common.CACHE / f"scale-{args.chunks}"
    index_dir = work / "rag-index"
    server, url = start_chroma(work / "chroma")
    try:
        rag = RAG(index_dir=index_dir, chroma_url=url)
        added = articles_to_add(corpus, dev, args.add, args.seed)
        removed = remove(rag.store, [a["id"] for a in added])
        print(f"store at {url} ({work}); {removed} articles of an earlier run removed; filling ...", file=sys.stderr)
        vocab = Vocabulary(corpus)
        filled = fill(rag, args.chunks // CHUNKS_PER_ARTICLE, vocab, args.seed)
        chunks, articles = rag.store.counts()
        print(f"store: {chunks:,} chunks, {articles:,} articles; building BM25 in a fresh process ...", file=sys.stderr)
        bm25 = run_bm25_build(url, index_dir)
        print(f"  {bm25}\ncold starts ...", file=sys.stderr)
        cold = cold_start(url, index_dir, questions[0]["question"], args.runs)
        print(f"  {cold['runs_s']}\nquestions ...", file=sys.stderr)
        rag = RAG(index_dir=index_dir, chroma_url=url)
        before = {"question_only": ask_all(rag, questions, False), "as_of": ask_all(rag, questions, True)}
        print(f"  {before}\nadding {len(added)} articles ...", file=sys.stderr)
        adding = add(rag, added, work)
        print(f"  {adding}\nquestions after the add ...", file=sys.stderr)
        after = {"question_only": ask_all(rag, questions, False), "as_of": ask_all(rag, questions, True),
                 "gold": gold_hits(rag, questions, {a["id"] for a in added}),
                 "segments": [s.n for s in rag.retriever.lexical.segments]}
        cold_after = cold_start(url, index_dir, questions[0]["question"], args.runs)
        server_memory = memory_mb(server.pid)
    finally:
        stop(server)
    info["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    targets = {"question_p50_ms <= 300": before["question_only"]["p50_ms"] <= 300,
               "cold_start_s <= 5": cold["median_s"] <= 5, "add_vs_encode <= 2": adding["ratio"] <= 2}
    payload = {"benchmark": "scale", "date": started, "git_commit": common.git_commit(), "machine": info,
               "data": {"synthetic_chunks": args.chunks, "chunks_per_article": CHUNKS_PER_ARTICLE,
                        "words_per_chunk": WORDS_PER_CHUNK, "vector_dim": DIM, "seed": args.seed,
                        "vocabulary_words": len(vocab.words), "source": "realtimeqa corpus.jsonl.gz word frequencies"},
               "store": {"chunks": chunks, "articles": articles, "fill": filled, "chroma_disk_gb": disk_gb(work / "chroma"),
                         "chroma_server_memory": server_memory},
               "bm25_build": bm25, "cold_start": cold, "questions": before, "add": adding, "after_add": after,
               "cold_start_after_add": cold_after, "targets_met": targets}
    out = common.save("scale.json" if args.chunks == 1_000_000 else f"scale-{args.chunks}.json", payload)
    rows = [
        {"what": "question p50 / p95, question only", "v": f"{before['question_only']['p50_ms']:.0f} / {before['question_only']['p95_ms']:.0f} ms"},
        {"what": "question p50 / p95, as_of", "v": f"{before['as_of']['p50_ms']:.0f} / {before['as_of']['p95_ms']:.0f} ms"},
        {"what": "cold `rag ask`, built cache (median)", "v": f"{cold['median_s']:.2f} s"},
        {"what": "BM25 build (fresh process)", "v": f"{bm25['seconds']:.0f} s, peak RSS {bm25['peak_rss_mb']:.0f} MB"},
        {"what": f"add {len(added)} articles / raw encode", "v": f"{adding['index_s (RAG.index, incl. the BM25 sync)']:.0f} s / "
                                                               f"{adding['encode_s (raw encode, same texts)']:.0f} s = {adding['ratio']:.2f}x"},
        {"what": "BM25 sync after the add", "v": f"{adding['bm25_sync_s']:.1f} s"},
    ]
    print(f"\n{chunks:,} chunks ({articles:,} articles); load avg at start {info['load_avg_at_start']}, at end {info['load_avg_at_end']}")
    print(common.table(rows, [("what", "measure", ""), ("v", "figure", "")]))
    print(f"targets met: {targets}\nwrote {out.relative_to(common.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
