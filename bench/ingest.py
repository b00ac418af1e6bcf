"""Ingest throughput and cold start.

On a fixed sample of the RealTime QA corpus (default 300 articles) this measures, in one process:
  * `rag index` (the same `RAG.index` the CLI calls) in articles/s and chunks/s, model already loaded;
  * the chunker alone (tokenize + split) on the same articles;
  * the embedding model's raw `encode` on the exact chunk texts the indexer embedded (title prefix
    included), same batch size, with our backend (ONNX) and with sentence-transformers on torch: the
    physical limit of indexing on this machine; and the ratios. The three are interleaved for
    --rounds rounds (default 3) and medians compared, since this VM's speed drifts over minutes;
  * peak RSS of the process (getrusage).
Then the cold start of `rag ask "..." --json` as a fresh subprocess against an already-built seeds
index in a temporary RAG_INDEX_DIR: one unmeasured warm-up run (builds the BM25 cache), then the
median of 3 runs.

    nice -n 15 .venv/bin/python bench/ingest.py [--n 300] [--seed 0] [--rounds 3]

With --server it measures only the embeddings-server path (RAG_EMBED_URL): the same chunk texts sent
to an OpenAI-compatible server (tests/embed_server.py, a separate process serving the packaged MiniLM
on 127.0.0.1) with 1, 2 and 4 requests in flight, against the in-process encode, interleaved for
--rounds rounds; it writes bench/results/ingest-server.json. On this 2-core machine the server competes
with the client for the same CPU, so this shows the client's overhead and overlap, not a remote GPU's
speed.

Writes bench/results/ingest.json and prints a table. Exits 0 with "skipped: data absent" when
../shared/bench/realtimeqa is missing.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common

QUESTION = "When does the tariff truce expire?"


def sample(n: int, seed: int) -> list[dict]:
    corpus = common.read_corpus()
    picked = sorted(random.Random(seed).sample(range(len(corpus)), min(n, len(corpus))))
    return [corpus[i] for i in picked]


def measure_index(articles: list[dict], workdir: Path, rounds: int) -> dict:
    from rag.api import RAG
    from rag.indexer import embedding_text
    from rag.load import load

    path = common.write_jsonl_gz(articles, workdir / "sample.jsonl.gz")
    rag = RAG(index_dir=workdir / "index")
    t = time.perf_counter()
    rag.embedder.embed(["warm up the model"])
    _ = rag.embedder.tokenizer
    from rag.indexer import Indexer

    # Start-up, not throughput: the llama-index import, and the punkt sentence model that its splitter
    # loads (importing nltk, which imports scipy: about 4 s) the first time a paragraph needs splitting.
    warm = Indexer(rag.settings, rag.store, rag.embedder).chunker
    warm.splitter.split_text("This paragraph is long enough to need splitting. " * 40)
    model_load_s = time.perf_counter() - t
    rss_model = common.rss_mb()

    # The exact texts the indexer embeds, rebuilt with its own chunker and prefixing (a folded copy's
    # too: rates are compared per chunk).
    chunker = Indexer(rag.settings, rag.store, rag.embedder).chunker
    docs = [d for d in load([path], rag.settings.indexing.max_file_mb) if hasattr(d, "doc_id")]
    t, c = time.perf_counter(), time.process_time()
    per_doc = [(d, chunker.chunks(d)) for d in docs]
    chunk_s, chunk_cpu = time.perf_counter() - t, time.process_time() - c
    texts = [embedding_text(d, c, rag.settings.embedding.title_in_embedding) for d, cs in per_doc for c in cs]
    tokens = sum(len(rag.embedder.tokenize(x)) for x in texts)
    torch_embedder = None
    if rag.settings.embedding.embed_backend != "torch":
        from rag.embed import Embedder

        torch_embedder = Embedder(rag.settings.embedding.embed_model, "torch", rag.settings.embedding.embed_batch)
        torch_embedder.embed(["warm up the model"])

    # This VM's speed drifts by 10-20% over minutes, so the three are interleaved for `rounds` rounds,
    # each index into an empty store, and the medians compared.
    runs: dict[str, list[float]] = {"index": [], "index_cpu": [], "encode": [], "encode_cpu": [], "torch": []}
    rss_index = peak_index = None
    for r in range(rounds):
        fresh = RAG(settings=rag.settings._with({"index_dir": workdir / f"index-{r}"}))
        fresh.__dict__["embedder"] = rag.embedder  # the loaded model, not a second copy
        t, c = time.perf_counter(), time.process_time()
        report = fresh.index(path)
        runs["index"].append(time.perf_counter() - t)
        runs["index_cpu"].append(time.process_time() - c)
        if r == 0:
            rss_index, peak_index = common.rss_mb(), common.peak_rss_mb()
        t, c = time.perf_counter(), time.process_time()
        rag.embedder.embed(texts)
        runs["encode"].append(time.perf_counter() - t)
        runs["encode_cpu"].append(time.process_time() - c)
        t = time.perf_counter()
        (torch_embedder or rag.embedder).embed(texts)
        runs["torch"].append(time.perf_counter() - t)
        print(f"round {r + 1}: index {runs['index'][-1]:.1f} s, encode {runs['encode'][-1]:.1f} s, "
              f"torch encode {runs['torch'][-1]:.1f} s", file=sys.stderr)
    index_s, index_cpu, encode_s, encode_cpu, torch_s = (statistics.median(runs[k]) for k in
                                                         ("index", "index_cpu", "encode", "encode_cpu", "torch"))

    n_art, n_chunks = report.added + report.updated, report.chunks_written
    return {
        "articles": n_art, "chunks": n_chunks, "skipped": len(report.skipped),
        "chars": sum(len(a["text"]) for a in articles), "embedded_tokens": tokens,
        "mean_tokens_per_chunk": round(tokens / max(len(texts), 1), 1),
        "model_load_s": round(model_load_s, 2),
        "index_s": round(index_s, 2),
        "index_articles_per_s": round(n_art / index_s, 2),
        "index_chunks_per_s": round(n_chunks / index_s, 1),
        "chunking_s": round(chunk_s, 2),
        "encode_s": round(encode_s, 2),
        "encode_chunks_per_s": round(len(texts) / encode_s, 1),
        "encode_articles_per_s": round(n_art / encode_s, 2),
        "index_vs_encode_ratio": round((n_chunks / index_s) / (len(texts) / encode_s), 3),
        "torch_encode_s (baseline: raw fp32 sentence-transformers encode)": round(torch_s, 2),
        "index_vs_torch_encode_ratio": round((n_chunks / index_s) / (len(texts) / torch_s), 3),
        "onnx_vs_torch_encode_speed": round(torch_s / encode_s, 3),
        "rounds": {k: [round(x, 2) for x in v] for k, v in runs.items()},
        "other_s (store, load, bookkeeping)": round(index_s - chunk_s - encode_s, 2),
        "cpu_s": {"index": round(index_cpu, 2), "chunking": round(chunk_cpu, 2), "encode": round(encode_cpu, 2)},
        "index_vs_encode_ratio_by_cpu_time": round(encode_cpu / index_cpu, 3) if index_cpu else None,
        "rss_after_model_load_mb": rss_model,
        "rss_after_index_mb": rss_index,
        "peak_rss_after_index_mb": peak_index,
        "peak_rss_mb": common.peak_rss_mb(),
        "settings": {k: rag.settings.flat()[k] for k in
                     ("chunk_tokens", "chunk_overlap", "title_in_embedding", "embed_backend", "embed_batch")},
    }


def _children_cpu() -> float:
    import resource

    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def measure_cold_start(workdir: Path, runs: int = 3) -> dict:
    rag_bin = Path(sys.executable).with_name("rag")
    if not rag_bin.exists():
        rag_bin = common.REPO / ".venv/bin/rag"
    env = dict(os.environ, RAG_INDEX_DIR=str(workdir / "seeds-index"), HF_HUB_OFFLINE="1")
    for k in ("RAG_CONFIG", "RAG_CHROMA_URL", "RAG_ANSWERER"):
        env.pop(k, None)

    cpu: list[float] = []

    def run(args: list[str]) -> tuple[float, str]:
        t, c = time.perf_counter(), _children_cpu()
        p = subprocess.run([str(rag_bin), *args], cwd=common.REPO, env=env, capture_output=True, text=True)
        dt = time.perf_counter() - t
        cpu.append(_children_cpu() - c)
        if p.returncode != 0:
            raise SystemExit(f"`rag {' '.join(args)}` failed ({p.returncode}): {p.stderr.strip()[-500:]}")
        return dt, p.stdout

    seeds = common.REPO / "seeds"
    index_s, out = run(["index", str(seeds), "--json"])
    seeds_report = json.loads(out)
    first_s, _ = run(["ask", QUESTION, "--json"])  # builds the BM25 cache: not counted
    times, inner = [], []
    answer = None
    cpu.clear()
    for _ in range(runs):
        s, out = run(["ask", QUESTION, "--json"])
        times.append(s)
        answer = json.loads(out)
        inner.append(answer.get("timings", {}))
    return {
        "command": f'rag ask "{QUESTION}" --json',
        "seeds_index_cold_s (subprocess, incl. model load)": round(index_s, 2),
        "seeds_articles": seeds_report.get("added"), "seeds_chunks": seeds_report.get("chunks_written"),
        "first_ask_s (builds BM25 cache, not counted)": round(first_s, 2),
        "runs_s": [round(x, 2) for x in times],
        "median_s": round(statistics.median(times), 2),
        "runs_cpu_s": [round(x, 2) for x in cpu],
        "median_cpu_s": round(statistics.median(cpu), 2),
        "in_process_timings_ms": inner,
        "answer_excerpt": (answer or {}).get("answer", "")[:200],
        "abstained": (answer or {}).get("abstained"),
        "citations": len((answer or {}).get("citations", [])),
    }


def measure_server(articles: list[dict], workdir: Path, rounds: int, in_flight=(1, 2, 4)) -> dict:
    import socket

    from rag.api import RAG
    from rag.embed import Embedder, Remote
    from rag.indexer import Indexer, embedding_text
    from rag.load import load

    rag = RAG(index_dir=workdir / "index")
    path = common.write_jsonl_gz(articles, workdir / "sample.jsonl.gz")
    chunker = Indexer(rag.settings, rag.store, rag.embedder).chunker
    docs = [d for d in load([path], rag.settings.indexing.max_file_mb) if hasattr(d, "doc_id")]
    texts = [embedding_text(d, c, rag.settings.embedding.title_in_embedding) for d in docs for c in chunker.chunks(d)]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, str(common.REPO / "tests/embed_server.py"), str(port)],
                              stdout=subprocess.PIPE, text=True, env=dict(os.environ, PYTHONPATH=str(common.REPO)))
    try:
        url = server.stdout.readline().strip()
        remotes = {n: Embedder(batch_size=rag.settings.embedding.embed_batch,
                               remote=Remote(url, "all-MiniLM-L6-v2", in_flight=n)) for n in in_flight}
        remotes[in_flight[0]].embed(texts[:8])  # the server loads its model
        rag.embedder.embed(texts[:8])
        runs: dict[str, list[float]] = {"in_process": [], **{f"server_{n}": [] for n in in_flight}}
        for r in range(rounds):
            t = time.perf_counter()
            want = rag.embedder.embed(texts)
            runs["in_process"].append(time.perf_counter() - t)
            for n, emb in remotes.items():
                t = time.perf_counter()
                got = emb.embed(texts)
                runs[f"server_{n}"].append(time.perf_counter() - t)
                assert float((got * want).sum(axis=1).min()) > 0.999
            print(f"round {r + 1}: " + ", ".join(f"{k} {v[-1]:.1f} s" for k, v in runs.items()), file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=30)
    med = {k: statistics.median(v) for k, v in runs.items()}
    return {"chunks": len(texts), "batch": rag.settings.embedding.embed_batch,
            "rounds": {k: [round(x, 2) for x in v] for k, v in runs.items()},
            "median_s": {k: round(v, 2) for k, v in med.items()},
            "chunks_per_s": {k: round(len(texts) / v, 1) for k, v in med.items()},
            "note": "server and client share this machine's 2 cores: server throughput here is bounded by the same CPU"}


def main_server(args) -> int:
    info = common.machine()
    started = common.now()
    articles = sample(args.n, args.seed)
    with tempfile.TemporaryDirectory(prefix="rag-bench-ingest-server-") as tmp:
        result = measure_server(articles, Path(tmp), args.rounds)
    info["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    payload = {"benchmark": "ingest-server", "date": started, "git_commit": common.git_commit(), "machine": info,
               "sample": {"n": len(articles), "seed": args.seed, "source": "realtimeqa corpus.jsonl.gz"},
               "result": result}
    out = common.save("ingest-server.json", payload)
    rows = [{"what": "in-process encode (onnx)" if k == "in_process" else f"server, {k.split('_')[1]} in flight",
             "s": result["median_s"][k], "cps": result["chunks_per_s"][k]} for k in result["median_s"]]
    print(f"\n{result['chunks']} chunks of {len(articles)} articles, batches of {result['batch']}; "
          f"cpu_count={info['cpu_count']}, load avg at start {info['load_avg_at_start']}, at end {info['load_avg_at_end']}")
    print(common.table(rows, [("what", "embedding", ""), ("s", f"median s of {args.rounds}", ".2f"), ("cps", "chunks/s", ".1f")]))
    print(f"\n{result['note']}\nwrote {out.relative_to(common.REPO)}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=300, help="articles in the fixed sample (default 300)")
    ap.add_argument("--seed", type=int, default=0, help="sample seed (default 0)")
    ap.add_argument("--runs", type=int, default=3, help="timed cold-start runs (default 3)")
    ap.add_argument("--rounds", type=int, default=3, help="interleaved index/encode rounds, medians reported (default 3)")
    ap.add_argument("--server", action="store_true", help="only the embeddings-server path (RAG_EMBED_URL)")
    args = ap.parse_args()
    common.require_data("corpus.jsonl.gz")
    if args.server:
        return main_server(args)
    info = common.machine()
    started = common.now()
    articles = sample(args.n, args.seed)
    with tempfile.TemporaryDirectory(prefix="rag-bench-ingest-") as tmp:
        work = Path(tmp)
        print(f"indexing a sample of {len(articles)} articles (seed {args.seed}) ...", file=sys.stderr)
        ingest = measure_index(articles, work, args.rounds)
        print("cold-start runs of `rag ask` ...", file=sys.stderr)
        cold = measure_cold_start(work, args.runs)
    info["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    payload = {"benchmark": "ingest", "date": started, "git_commit": common.git_commit(), "machine": info,
               "sample": {"n": len(articles), "seed": args.seed, "source": "realtimeqa corpus.jsonl.gz"},
               "ingest": ingest, "cold_start": cold}
    out = common.save("ingest.json", payload)

    i = ingest
    rows = [
        {"what": "rag index (model loaded)", "s": i["index_s"], "cpu": i["cpu_s"]["index"],
         "art": i["index_articles_per_s"], "chunks": i["index_chunks_per_s"]},
        {"what": "model encode only, same chunk texts", "s": i["encode_s"], "cpu": i["cpu_s"]["encode"],
         "art": i["encode_articles_per_s"], "chunks": i["encode_chunks_per_s"]},
        {"what": "chunking only (tokenize + split)", "s": i["chunking_s"], "cpu": i["cpu_s"]["chunking"],
         "art": round(i["articles"] / i["chunking_s"], 1) if i["chunking_s"] else None,
         "chunks": round(i["chunks"] / i["chunking_s"], 1) if i["chunking_s"] else None},
    ]
    print(f"\nIngest: {i['articles']} articles, {i['chunks']} chunks, {i['embedded_tokens']:,} tokens "
          f"({i['mean_tokens_per_chunk']} per chunk); cpu_count={info['cpu_count']}, "
          f"load avg at start {info['load_avg_at_start']}, at end {info['load_avg_at_end']}")
    print(common.table(rows, [("what", "step", ""), ("s", "wall s", ".2f"), ("cpu", "cpu s", ".2f"),
                              ("art", "articles/s", ".2f"),
                              ("chunks", "chunks/s", ".1f")]))
    print(f"\nindex / raw torch encode throughput ratio: {i['index_vs_torch_encode_ratio']:.3f}")
    print(f"index / {i['settings']['embed_backend']} encode throughput ratio: {i['index_vs_encode_ratio']:.3f} by wall clock, "
          f"{i['index_vs_encode_ratio_by_cpu_time']:.3f} by CPU time   "
          f"model load: {i['model_load_s']:.2f}s   peak RSS: {i['peak_rss_mb']:.0f} MB "
          f"(after model load {i['rss_after_model_load_mb']} MB)")
    print(f"\nCold start, `{cold['command']}` on the seeds ({cold['seeds_articles']} articles, "
          f"{cold['seeds_chunks']} chunks):")
    print(f"  runs {cold['runs_s']} s -> median {cold['median_s']:.2f} s "
          f"(CPU {cold['runs_cpu_s']} s; in-process total ms: {[t.get('total_ms') for t in cold['in_process_timings_ms']]}); "
          f"first run incl. BM25 cache build {cold['first_ask_s (builds BM25 cache, not counted)']:.2f} s")
    print(f"\nwrote {out.relative_to(common.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
