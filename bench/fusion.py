"""Fusion of rag's three retrievers against plain BM25 on the dev suite's corpora, from the question alone and
with its date.

Sets, over the dev suite's own indexes (`index_dir/dev-suite/<set>-<key>`, as `rag eval --suite dev` builds
them; built here when absent, minutes on 2 cores):
  realtimeqa   RealTime QA dev: 103 questions over its 109 gold + 150 sampled articles (rag/suite.py), asked
               from the question alone and with `as_of` = its question_date
  rgb          RGB dev: 50 questions over the accuracy corpus (positive + negative snippets, undated)
  seeds        eval/questions.jsonl's 57 answerable questions with gold articles, over the 5 seed articles
  paraphrases  their 171 rewordings (eval/paraphrases.jsonl)
A follow-up is searched as `rag.followup.standalone` makes it from the question before, as the dev suite asks it.

Systems:
  bm25                  bm25s over each article as rag loads it (title + text, English stopwords, PyStemmer), as
                        bench/retrieval.py's `bm25`; with a date, the articles published up to that day
  bm25, rag's articles  the same over the articles rag keeps after folding near-duplicates (rag/dedup.py); a
                        folded copy counts as found with the article it was folded into
  rag: <variant>        `RAG.retrieve(question, k=30[, as_of])` with the variant's settings (VARIANTS)

Measures: hit@1, hit@5 and MRR@10 of the gold articles, articles ranked by first appearance with their folded
copies (as rag/evaluate.py scores the dev suite); ans@5, the share of questions with an accepted answer in the
text of the first 5 chunks (the passages the local answerer reads). `--answers` also runs the whole dev suite
(`rag.suite.run_suite`, local answerer) once per rag variant: answer-line accuracy per set (rgb-rejection: the
share abstained) and the answer lines that differ from the defaults'.

    nice -n 10 .venv/bin/python bench/fusion.py [--answers] [--index-dir index]

Writes bench/results/fusion.json (per-question gold ranks kept for paired comparisons, no question text)
and prints Markdown tables. Exits 0 with "skipped: data absent" when ../shared/bench is missing.
"""
from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path

import common

K = 30  # chunks retrieved per question, as rag/evaluate.py's dev-suite ranking
# rag variants: (label, settings overrides); "weights" are dense / chunk BM25 / article BM25
VARIANTS: list[tuple[str, dict]] = [
    ("defaults: rrf, weights 1 / 1 / 1, rrf_k 60, 100 candidates", {}),
    ("rrf, article_weight 1.5", {"article_weight": 1.5}),
    ("rrf, dense_weight 0.7", {"dense_weight": 0.7}),
    ("rrf, weights 0.7 / 0 / 1, rrf_k 10", {"dense_weight": 0.7, "bm25_weight": 0.0, "rrf_k": 10}),
    ("rrf, 50 candidates", {"candidates": 50}),
    ("rrf, 200 candidates", {"candidates": 200}),
    ("dbsf, weights 1 / 1 / 1", {"fusion": "dbsf"}),
    ("dbsf, weights 1 / 0 / 1.6", {"fusion": "dbsf", "bm25_weight": 0.0, "article_weight": 1.6}),
    ("dbsf, weights 1 / 0.3 / 1.6", {"fusion": "dbsf", "bm25_weight": 0.3, "article_weight": 1.6}),
]
RUNS = [("realtimeqa", False), ("realtimeqa", True), ("rgb", False), ("seeds", False), ("paraphrases", False)]
ANSWER_SETS = ("seeds", "paraphrases", "realtimeqa", "rgb-accuracy", "rgb-rejection", "rgb-conflict")


def run_name(name: str, dated: bool) -> str:
    return f"{name}, as_of" if dated else name


# ---------------------------------------------------------------------------------------- data

def dev_sets(settings, progress: bool) -> dict[str, tuple[object, list[dict], Path, str]]:
    """name -> (a RAG over its dev-suite index, its questions with gold_docs and answers, a file or folder of
    the corpus as indexed, a line describing the corpus)."""
    from rag import suite
    from rag.evaluate import load_questions
    from rag.followup import standalone, turns

    ctx = suite._Context(settings, None, None, progress, None)
    bench = Path(settings.paths.bench_dir)
    rtqa, records, sample = suite.realtimeqa_data(bench / "realtimeqa")
    rows = suite.rgb_rows(bench / "rgb")
    seeds = load_questions(settings.paths.eval_dir / "questions.jsonl")
    by_id = {q["id"]: q for q in seeds}

    def searched(questions: list[dict]) -> list[dict]:
        """The answerable questions with gold articles, each worded as retrieval searches it."""
        out = []
        for q in questions:
            if q["answers"] and q["gold_docs"]:
                prev = by_id.get(q.get("follow_up_of"))
                earlier = turns([prev["question"]] if prev else None)
                out.append({**q, "question": standalone(q["question"], earlier).search})
        return out

    rtqa_rag = ctx.rag("realtimeqa", records=records)
    rgb_rag = ctx.rag("rgb-accuracy", records=suite.rgb_corpus(rows, "positive", "negative"))
    seeds_rag = ctx.rag("seeds", paths=[Path(settings.paths.seeds_dir)])
    seeds_dir = Path(settings.paths.seeds_dir)
    return {"realtimeqa": (rtqa_rag, rtqa, rtqa_rag.settings.paths.index_dir / "corpus.jsonl", sample),
            "rgb": (rgb_rag, suite.rgb_questions(rows, "positive"), rgb_rag.settings.paths.index_dir / "corpus.jsonl",
                    "RGB dev's positive + negative snippets, one article each"),
            "seeds": (seeds_rag, searched(seeds), seeds_dir, "the seed articles"),
            "paraphrases": (seeds_rag, searched(suite.paraphrase_questions(settings.paths.eval_dir, by_id)), seeds_dir,
                            "the seed articles")}


# ---------------------------------------------------------------------------------------- scoring

def score(questions: list[dict], rankings: list[list[str]], passages: list[str] | None = None) -> dict:
    """hit@1, hit@5, MRR@10 (first 10 articles of each ranking) and, given each question's first 5 passages
    as one text, ans@5; plus each question's gold rank (None: not in the first 10)."""
    from rag.evaluate import contains

    ranks = []
    for q, ranking in zip(questions, rankings):
        gold = set(q["gold_docs"])
        ranks.append(next((i for i, d in enumerate(ranking[:10], 1) if d in gold), None))
    n = len(questions)
    out = {"n": n, "hit@1": round(sum(r == 1 for r in ranks) / n, 4),
           "hit@5": round(sum(1 for r in ranks if r and r <= 5) / n, 4),
           "mrr@10": round(sum(1 / r for r in ranks if r) / n, 4)}
    if passages is not None:
        out["ans@5"] = round(sum(contains(text, q["answers"]) for q, text in zip(questions, passages)) / n, 4)
    return {**out, "ranks": ranks}


def as_of(q: dict, dated: bool) -> str | None:
    return q["question_date"].replace("/", "-") if dated else None


def bm25_search(corpus: Path, rag=None):
    """search(question, as_of) -> doc ids, best first: bm25s over the articles rag.load reads from `corpus`
    (title + text); given `rag`, only the articles its index keeps, each followed by its folded copies."""
    import bm25s
    import numpy as np
    import Stemmer

    from rag.load import load
    from rag.text import parse_date

    docs = [d for d in load([corpus]) if hasattr(d, "doc_id")]
    alternates = {}
    if rag is not None:
        kept = set(rag.retriever.lexical.live)
        alternates = rag.retriever.alternates(sorted(kept))
        docs = [d for d in docs if d.doc_id in kept]
    stemmer = Stemmer.Stemmer("english")
    index = bm25s.BM25()
    index.index(bm25s.tokenize([f"{d.title or ''}\n{d.text}" for d in docs], stopwords="en", stemmer=stemmer,
                               show_progress=False), show_progress=False)
    days = [parse_date(d.published_at) for d in docs]

    def search(question: str, day: str | None) -> list[str]:
        tokens = bm25s.tokenize([question], stopwords="en", stemmer=stemmer, show_progress=False)
        mask = None
        if day:
            until = date.fromisoformat(day)
            mask = np.array([d is not None and d <= until for d in days], dtype=np.float32)
        got, scores = index.retrieve(tokens, k=min(K, len(docs)), show_progress=False, weight_mask=mask, n_threads=1)
        ranked = [docs[i].doc_id for i, s in zip(got[0], scores[0]) if s > 0]
        return list(dict.fromkeys(x for d in ranked for x in (d, *(a["doc_id"] for a in alternates.get(d, [])))))

    return search


def rag_run(rag, questions: list[dict], dated: bool) -> tuple[list[list[str]], list[str]]:
    """Each question's article ranking (with folded copies) and the text of its first 5 chunks."""
    rankings, passages = [], []
    for q in questions:
        day = as_of(q, dated)
        hits = rag.retrieve(q["question"], k=K, **({"as_of": day} if day else {}))
        rankings.append(list(dict.fromkeys(d for h in hits for d in (h.doc_id, *(a["doc_id"] for a in h.alternates)))))
        passages.append(" ".join(h.text for h in hits[:5]))
    return rankings, passages


def answers(settings, overrides: dict) -> tuple[dict, dict]:
    """The dev suite with the local answerer under `overrides`: ({set: accuracy}, {set: its answer lines}).
    rgb-rejection's accuracy is its share abstained. The lines only count changes: RGB's text stays out of
    the repository."""
    from rag.suite import run_suite

    report = run_suite(settings._with({**overrides, "answerer": "local"}))
    return ({name: r["summary"].get("accuracy", r["summary"].get("rejection")) for name, r in report["sets"].items()},
            {name: [q["answer"] for q in r["questions"]] for name, r in report["sets"].items()})


# ---------------------------------------------------------------------------------------- main

def cell(m: dict) -> str:
    return f"{m['hit@1']:.3f} / {m['hit@5']:.3f} / {m['mrr@10']:.3f}"


def index_dir_argument(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--index-dir", type=Path, default=Path(os.environ.get("RAG_INDEX_DIR") or common.CACHE),
                    help="holds dev-suite/ (default: $RAG_INDEX_DIR, else the repository's index/)")


def dev_data_absent() -> bool:
    """True, after printing "skipped: data absent (...)", when ../shared/bench lacks the dev suite's data."""
    bench = common.DATA.parent
    missing = [str(p) for p in (bench / "realtimeqa/dev.jsonl", bench / "realtimeqa/corpus.jsonl.gz",
                                bench / "rgb/dev.jsonl") if not p.is_file()]
    if missing:
        print(f"skipped: data absent ({', '.join(missing)})")
    return bool(missing)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    index_dir_argument(ap)
    ap.add_argument("--answers", action="store_true", help="also run the dev suite's answers for each rag variant")
    ap.add_argument("--progress", action="store_true")
    args = ap.parse_args()
    bench = common.DATA.parent
    if dev_data_absent():
        return 0
    from rag.settings import Settings

    settings = Settings.load(index_dir=args.index_dir, bench_dir=bench, eval_dir=common.REPO / "eval",
                             seeds_dir=common.REPO / "seeds", chroma_url=None)
    payload = {"benchmark": "fusion", "date": common.now(), "git_commit": common.git_commit(),
               "machine": common.machine(), "k_chunks": K, "defaults": settings.retrieval.model_dump(),
               "data": {}, "systems": {}}
    sets = dev_sets(settings, args.progress)
    for name, (rag, questions, _, about) in sets.items():
        lexical = rag.retriever.lexical
        payload["data"][name] = {"questions": len(questions), "corpus": about,
                                 "index": str(rag.settings.paths.index_dir),
                                 "articles_indexed": len(lexical.live), "chunks": len(lexical)}
    for label, folded in (("bm25", False), ("bm25, rag's articles", True)):
        row = payload["systems"][label] = {"runs": {}}
        for name, dated in RUNS:
            rag, questions, corpus, _ = sets[name]
            search = bm25_search(corpus, rag if folded else None)
            rankings = [search(q["question"], as_of(q, dated)) for q in questions]
            row["runs"][run_name(name, dated)] = score(questions, rankings)
        common.save("fusion.json", payload)
    default_lines = None
    for label, overrides in VARIANTS:
        print(f"rag: {label}", file=sys.stderr)
        row = payload["systems"][f"rag: {label}"] = {"overrides": overrides, "runs": {}}
        for name, dated in RUNS:
            rag, questions, _, _ = sets[name]
            rankings, passages = rag_run(common.variant(rag, overrides), questions, dated)
            row["runs"][run_name(name, dated)] = score(questions, rankings, passages)
        if args.answers:
            accuracy, lines = answers(settings, overrides)
            default_lines = default_lines or lines  # VARIANTS[0] is the defaults
            row["answers"] = {name: {"accuracy": accuracy[name],
                                     "changed": sum(a != b for a, b in zip(lines[name], default_lines[name]))}
                              for name in accuracy}
        common.save("fusion.json", payload)
    payload["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out = common.save("fusion.json", payload)
    print(report(payload))
    print(f"\nwrote {out.relative_to(common.REPO)}")
    return 0


def report(payload: dict) -> str:
    """The Markdown tables: retrieval per set (hit@1 / hit@5 / MRR@10), then ans@5 and, when run, answers."""
    runs = [run_name(n, d) for n, d in RUNS]
    lines = ["| system | " + " | ".join(runs) + " |", "|---" * (len(runs) + 1) + "|"]
    for label, row in payload["systems"].items():
        lines.append(f"| {label} | " + " | ".join(cell(row["runs"][r]) for r in runs) + " |")
    lines += ["", "Answer in the first 5 passages (ans@5):", "", "| system | " + " | ".join(runs) + " |",
              "|---" * (len(runs) + 1) + "|"]
    for label, row in payload["systems"].items():
        if label.startswith("rag: "):
            lines.append(f"| {label} | " + " | ".join(f"{row['runs'][r]['ans@5']:.3f}" for r in runs) + " |")
    answered = {label: row["answers"] for label, row in payload["systems"].items() if "answers" in row}
    if answered:
        lines += ["", "Dev suite answers, local answerer (accuracy; answer lines changed from the defaults'):", "",
                  "| system | " + " | ".join(ANSWER_SETS) + " |", "|---" * (len(ANSWER_SETS) + 1) + "|"]
        for label, got in answered.items():
            lines.append(f"| {label} | " + " | ".join(
                f"{got[s]['accuracy']:.3f} ({got[s]['changed']})" if s in got else "–" for s in ANSWER_SETS) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
