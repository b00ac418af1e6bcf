"""The dev suite behind `rag eval --suite dev`: every set a change to retrieval or answering is judged on.

- seeds: eval/questions.jsonl over seeds/ (70 questions of five types, with follow-up pairs);
- paraphrases: eval/paraphrases.jsonl, three rewordings of each answerable seed question, scored like
  their original, plus consistency (the rewording's answer phrase equals the original's);
- realtimeqa: RealTime QA dev (103 news-quiz questions, each asked as of its `question_date`) over its
  gold articles plus a seeded sample of `RTQA_OTHERS` other articles of the corpus;
- rgb: RGB dev (50 questions) over three corpora of one article per web snippet: accuracy (positive +
  negative), rejection (negative only: the right answer is to abstain) and conflict (positive +
  counterfactual + negative: true-only, fake-only, both, neither; "both" with "Reports differ" said).

External data is read in place from `settings.paths.bench_dir` and a set whose data is absent is skipped with
its reason. Each corpus is indexed once into `index_dir/dev-suite/<name>-<key>`, the key hashing the
corpus, the index settings and the indexing code, so a rerun reuses it; a corpus's older indexes are removed
but for the `KEPT_BUILDS` last used. Every set is scored on the
answer line (`Answer.answer`).
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import shutil
import statistics
import time
from pathlib import Path

from .answer import resolve
from .errors import RagError
from .evaluate import _fmt, answer_phrase, ask_all, contains, load_questions, summarize, type_table

SUITES = {"seeds": ("seeds", "paraphrases"), "dev": ("seeds", "paraphrases", "realtimeqa", "rgb")}
RTQA_OTHERS = 150  # distractor articles sampled besides the gold ones: ~5,000 chunks, minutes to index on 2 cores
RTQA_SAMPLE_SEED = 0
# what decides how a corpus is indexed; a change to any of them builds the dev-suite index again
_INDEX_SETTINGS = ("chunk_tokens", "chunk_overlap", "embed_model", "embed_backend", "title_in_embedding",
                   "near_duplicate_threshold", "collection")
_INDEX_CODE = ("load.py", "chunk.py", "embed.py", "dedup.py", "indexer.py", "store.py")
KEPT_BUILDS = 2  # indexes kept per corpus: the one in use and the one before (switching back rebuilds nothing)
HEADLINE = ["n", "hit@5", "mrr@10", "accuracy", "f1", "citation_precision", "citation_recall",
            "abstention_precision", "abstention_recall", "consistency", "rejection", "latency_p50_ms", "latency_p95_ms"]
OUTCOMES = ("true_only", "fake_only", "both", "neither")  # of a question over true and counterfactual reports


def run_suite(settings, sets=SUITES["dev"], answerer: str | None = None, out: Path | None = None,
              limit: int | None = None, progress: bool = False, seeds_rag=None) -> dict:
    """Runs the named sets with one answerer and returns {"answerer", "sets": {name: result}, "skipped":
    {name: reason}, "seconds"}; each result has "summary" (HEADLINE figures, plus "by_type" where the set
    has types) and "questions" (one scored row each). `seeds_rag` reuses an indexed seeds RAG (pytest).
    Writes report.{json,md,png} to `out` when given. Raises RagError for an unknown set name."""
    unknown = [s for s in sets if s not in SUITES["dev"]]
    if unknown:
        raise RagError(f"unknown eval set {unknown[0]!r}; use one of {', '.join(SUITES['dev'])}")
    t0 = time.perf_counter()
    ctx = _Context(settings, answerer, limit, progress, seeds_rag)
    report = {"answerer": resolve(answerer or settings.answer.answerer), "sets": {}, "skipped": {}}
    for name in sets:
        reason = ctx.missing(name)
        if reason:
            report["skipped"][name] = reason
            continue
        for key, result in RUNNERS[name](ctx):
            report["sets"][key] = result
            report["seconds"] = round(time.perf_counter() - t0, 1)
            if out is not None:  # after each set, so a long run that is stopped keeps what it measured
                write(report, Path(out))
    report["seconds"] = round(time.perf_counter() - t0, 1)
    report["abstention_curve"] = abstention_curve(report["sets"], settings.answer.abstain_threshold)
    if out is not None:
        write(report, Path(out))
    return report


ANSWERED = ("seeds", "paraphrases", "realtimeqa", "rgb-accuracy")  # sets whose questions have answers


def abstention_curve(sets: dict, threshold: float, step: float = 0.05) -> dict | None:
    """What raising the abstention threshold would do, replayed from each answer's evidence score: per
    threshold from the current one up, the answer-line accuracy of each answered set and the share of
    unanswerable questions abstained on (RGB's answerless snippets, the seeds' unanswerable questions).
    `chosen`: the highest threshold at which no answered set loses an answer. None when no row has an
    evidence score (an LLM answerer)."""
    rows = [r for name in (*ANSWERED, "rgb-rejection") for r in sets.get(name, {}).get("questions", [])]
    if not any(r.get("evidence") is not None for r in rows):
        return None

    def weak(r: dict, t: float) -> bool:
        return r.get("evidence") is not None and r["evidence"] < t

    answered = {name: [r for r in sets.get(name, {}).get("questions", []) if r.get("accuracy") is not None]
                for name in ANSWERED}
    negatives = {"rgb-rejection": sets.get("rgb-rejection", {}).get("questions", []),
                 "seeds-unanswerable": [r for r in sets.get("seeds", {}).get("questions", []) if not r.get("answerable", True)]}
    points = []
    for i in range(int(round((1.0 - threshold) / step)) + 1):
        t = round(threshold + i * step, 4)
        point = {"threshold": t}
        point.update({name: _mean(r["accuracy"] and not weak(r, t) for r in qs) for name, qs in answered.items()})
        point.update({name: _mean(r["abstained"] or weak(r, t) for r in qs) for name, qs in negatives.items()})
        points.append(point)
    kept = [p for p in points if all(p[n] == points[0][n] for n in ANSWERED)]
    return {"current": threshold, "chosen": kept[-1]["threshold"], "points": points}


class _Context:
    """What the sets share: settings, the answerer, one embedder, and the seeds' rows for paraphrases."""

    def __init__(self, settings, answerer, limit, progress, seeds_rag):
        self.settings, self.answerer, self.limit, self.progress = settings, answerer, limit, progress
        self._seeds_rag = seeds_rag
        self._embedder = seeds_rag.embedder if seeds_rag is not None else None
        self.seed_rows: dict[str, dict] = {}

    def missing(self, name: str) -> str | None:
        evals = self.settings.paths.eval_dir
        need = {"seeds": [evals / "questions.jsonl"],
                "paraphrases": [evals / "questions.jsonl", evals / "paraphrases.jsonl"],
                "realtimeqa": [self.bench / "realtimeqa/dev.jsonl", self.bench / "realtimeqa/corpus.jsonl.gz"],
                "rgb": [self.bench / "rgb/dev.jsonl"]}[name]
        absent = [str(p) for p in need if not p.is_file()]
        return f"data absent: {', '.join(absent)}" if absent else None

    @property
    def bench(self) -> Path:
        return Path(self.settings.paths.bench_dir)

    def seeds_rag(self):
        if self._seeds_rag is None:
            self._seeds_rag = self.rag("seeds", paths=[Path(self.settings.paths.seeds_dir)])
        return self._seeds_rag

    def rag(self, name: str, records: list[dict] | None = None, paths: list[Path] | None = None):
        """A RAG over its own embedded index of this corpus, built once and reused while the key holds."""
        from .api import RAG

        folder = Path(self.settings.paths.index_dir) / "dev-suite" / f"{name}-{self._key(records, paths)}"
        rag = RAG(self.settings, index_dir=folder, chroma_url=None)
        if self._embedder is not None:
            rag.embedder = self._embedder  # one model in memory for the whole suite
        done = folder / "complete"
        if not done.is_file():
            if records is not None:
                folder.mkdir(parents=True, exist_ok=True)
                path = folder / "corpus.jsonl"
                path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
                paths = [path]
            report = rag.index(paths, progress=self.progress)
            if report.seen == 0:
                raise RagError(f"dev suite: nothing indexed for {name}")
            done.write_text(json.dumps(report.to_json()))
        now = time.time_ns()  # its last use, which `_prune` keeps by (a file's own stamp ticks too coarsely)
        os.utime(done, ns=(now, now))
        _prune(folder)
        self._embedder = rag.embedder
        return rag

    def _key(self, records, paths) -> str:
        h = hashlib.sha256()
        for name in _INDEX_SETTINGS:
            h.update(f"{name}={self.settings.flat()[name]}\n".encode())
        for name in _INDEX_CODE:
            h.update((Path(__file__).parent / name).read_bytes())
        if records is not None:
            h.update(json.dumps(records, sort_keys=True).encode())
        for p in paths or []:
            for f in sorted(Path(p).rglob("*")) if Path(p).is_dir() else [Path(p)]:
                if f.is_file():
                    h.update(f.name.encode() + f.read_bytes())
        return h.hexdigest()[:12]

    def ask(self, rag, questions, **kw) -> list[dict]:
        return ask_all(rag, questions[:self.limit], answerer=self.answerer, progress=self.progress, **kw)


def _seeds(ctx: _Context):
    questions = load_questions(ctx.settings.paths.eval_dir / "questions.jsonl")
    rows = ctx.ask(ctx.seeds_rag(), questions)
    ctx.seed_rows = {r["id"]: r for r in rows}
    yield "seeds", _result(rows, by_type=True)


def paraphrase_questions(eval_dir: Path, originals: dict[str, dict]) -> list[dict]:
    """Each rewording in eval/paraphrases.jsonl as a question: its original's fields (answers, gold_docs,
    follow_up_of) with its own id, type and wording, and "of" naming the original."""
    out = []
    for line in (eval_dir / "paraphrases.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            p = json.loads(line)
            if p["of"] in originals:
                out.append({**originals[p["of"]], "id": p["id"], "of": p["of"], "type": p["type"],
                            "question": p["question"]})
    return out


def _paraphrases(ctx: _Context):
    originals = {q["id"]: q for q in load_questions(ctx.settings.paths.eval_dir / "questions.jsonl")}
    if not ctx.seed_rows:
        ctx.seed_rows = {r["id"]: r for r in ctx.ask(ctx.seeds_rag(), list(originals.values()))}
    questions = [q for q in paraphrase_questions(ctx.settings.paths.eval_dir, originals) if q["of"] in ctx.seed_rows]
    rows = ctx.ask(ctx.seeds_rag(), questions, history_from=originals)
    for q, r in zip(questions, rows):
        r["of"] = q["of"]
        r["same_as_original"] = float(answer_phrase(r["answer"]) == answer_phrase(ctx.seed_rows[q["of"]]["answer"]))
    result = _result(rows, by_type=True)
    for t, m in result["summary"]["by_type"].items():
        m["consistency"] = _mean(r["same_as_original"] for r in rows if r["type"] == t)
    per_original: dict[str, list[float]] = {}
    for r in rows:
        per_original.setdefault(r["of"], []).append(r["same_as_original"])
    result["summary"]["consistency"] = _mean(float(all(v)) for v in per_original.values())
    yield "paraphrases", result


def _prune(folder: Path) -> None:
    """Removes all but the `KEPT_BUILDS` most recently used complete indexes of `folder`'s corpus: every change
    to an `_INDEX_CODE` file or setting builds a new one (RealTime QA's is ~50 MB). One still being built (no
    `complete` mark yet, maybe by another run) is left alone."""
    name = folder.name[:-13]  # "<name>-<12-hex key>"
    built = [p for p in folder.parent.glob(f"{name}-{'?' * 12}") if (p / "complete").is_file()]
    for old in sorted(built, key=lambda p: (p / "complete").stat().st_mtime_ns, reverse=True)[KEPT_BUILDS:]:
        shutil.rmtree(old, ignore_errors=True)


def realtimeqa_data(folder: Path) -> tuple[list[dict], list[dict], str]:
    """RealTime QA dev from `folder` (dev.jsonl, corpus.jsonl.gz): (questions, the corpus records: every gold
    article plus RTQA_OTHERS others sampled with RTQA_SAMPLE_SEED, a line describing that corpus)."""
    questions = load_questions(folder / "dev.jsonl")
    for q in questions:
        q["type"] = "realtimeqa"
    gold = {d for q in questions for d in q["gold_docs"]}
    with gzip.open(folder / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        articles = [json.loads(line) for line in fh if line.strip()]
    others = sorted((a for a in articles if a["id"] not in gold), key=lambda a: a["id"])
    chosen = {a["id"] for a in random.Random(RTQA_SAMPLE_SEED).sample(others, min(RTQA_OTHERS, len(others)))}
    records = [a for a in articles if a["id"] in gold or a["id"] in chosen]
    return questions, records, f"{len(gold)} gold articles + {len(chosen)} others sampled with seed {RTQA_SAMPLE_SEED}"


def _realtimeqa(ctx: _Context):
    questions, records, corpus = realtimeqa_data(ctx.bench / "realtimeqa")
    rows = ctx.ask(ctx.rag("realtimeqa", records=records), questions)
    result = _result(rows)
    result["corpus"] = corpus
    yield "realtimeqa", result


def rgb_rows(folder: Path) -> list[dict]:
    """RGB dev (folder/dev.jsonl), one dict a question with its snippet lists (see its README)."""
    lines = (folder / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def rgb_corpus(rows: list[dict], *kinds: str) -> list[dict]:
    """One record a distinct snippet of the given kinds ("positive", "positive_wrong", "negative"), under a
    neutral id: the answerer must not learn from an id which snippet states the answer."""
    return list({_snippet_id(t): {"id": _snippet_id(t), "text": t} for r in rows for k in kinds for t in r[k]}.values())


def rgb_questions(rows: list[dict], gold: str | None) -> list[dict]:
    """The questions, their gold documents the snippets of kind `gold`; with `gold` None, unanswerable."""
    return [{"id": r["id"], "type": "rgb", "question": r["question"], "answers": r["answers"] if gold else [],
             "aliases": r["answers"], "fake_answer": r["fake_answer"],
             "gold_docs": [_snippet_id(t) for t in r[gold]] if gold else []} for r in rows]


def _rgb(ctx: _Context):
    rows = rgb_rows(ctx.bench / "rgb")
    acc = ctx.ask(ctx.rag("rgb-accuracy", records=rgb_corpus(rows, "positive", "negative")),
                  rgb_questions(rows, "positive"))
    yield "rgb-accuracy", _result(acc)
    rej = ctx.ask(ctx.rag("rgb-rejection", records=rgb_corpus(rows, "negative")), rgb_questions(rows, None),
                  score=_rejection)
    yield "rgb-rejection", {"summary": {"n": len(rej), "rejection": _mean(r["rejection"] for r in rej),
                                        "answered_right": sum(r["answered_right"] for r in rej),
                                        **_latency(rej)}, "questions": rej}
    con = ctx.ask(ctx.rag("rgb-conflict", records=rgb_corpus(rows, "positive", "positive_wrong", "negative")),
                  rgb_questions(rows, "positive"), score=_conflict)
    counts = {k: sum(r["outcome"] == k for r in con) for k in OUTCOMES}
    yield "rgb-conflict", {"summary": {"n": len(con), **counts, "both_differ": sum(r["differ"] for r in con),
                                       "accuracy": _mean(r["outcome"] == "true_only" or r["differ"] for r in con),
                                       **_latency(con)}, "questions": con}


def _snippet_id(text: str) -> str:
    return "web-" + hashlib.sha1(text.encode()).hexdigest()[:12]


def _base_row(q: dict, answer) -> dict:
    return {"id": q["id"], "question": q["question"], "answer": answer.answer, "abstained": answer.abstained,
            "latency_ms": answer.timings.get("total_ms", 0.0), "cited": [c.doc_id for c in answer.citations]}


def _rejection(q: dict, ranking: list[str], answer) -> dict:
    """Abstaining is right; `answered_right` marks an answer holding the true value, which some of RGB's
    negative snippets state (its README): not counted as rejection, but no made-up answer either."""
    right = not answer.abstained and contains(answer.answer, q["aliases"])
    return {**_base_row(q, answer), "rejection": float(answer.abstained), "answered_right": right}


def _conflict(q: dict, ranking: list[str], answer) -> dict:
    true = not answer.abstained and contains(answer.answer, q["answers"])
    fake = not answer.abstained and contains(answer.answer, [q["fake_answer"]])
    outcome = {(True, False): "true_only", (False, True): "fake_only", (True, True): "both"}.get((true, fake), "neither")
    return {**_base_row(q, answer), "expected": q["answers"], "fake": q["fake_answer"], "outcome": outcome,
            "differ": outcome == "both" and "reports differ" in answer.answer.lower()}


def _result(rows: list[dict], by_type: bool = False) -> dict:
    s = summarize(rows)
    summary = {k: s["overall"].get(k) for k in HEADLINE if k in s["overall"]}
    if by_type:
        summary["by_type"] = s["by_type"]
        summary["overall"] = s["overall"]
    return {"summary": summary, "questions": rows}


def _latency(rows: list[dict]) -> dict:
    lat = sorted(r["latency_ms"] for r in rows)
    return {"latency_p50_ms": round(statistics.median(lat), 1) if lat else None,
            "latency_p95_ms": round(lat[min(len(lat) - 1, int(0.95 * len(lat)))], 1) if lat else None}


def _mean(values) -> float | None:
    vals = [float(v) for v in values]
    return round(sum(vals) / len(vals), 4) if vals else None


RUNNERS = {"seeds": _seeds, "paraphrases": _paraphrases, "realtimeqa": _realtimeqa, "rgb": _rgb}


def markdown(report: dict) -> str:
    """One table with a row per set, then the seeds' per-type and the paraphrases' per-type tables."""
    sets = report["sets"]
    cols = [c for c in HEADLINE if any(r["summary"].get(c) is not None for r in sets.values())]
    head = cols or ["result"]  # a table of skipped sets alone has one column, their reason
    lines = [f"Dev suite with the `{report['answerer']}` answerer ({report['seconds']} s); every answer scored on "
             "its answer line.", "", "| set | " + " | ".join(head) + " |", "|---" * (len(head) + 1) + "|"]
    for name, r in sets.items():
        lines.append(f"| {name} | " + " | ".join(_fmt(r["summary"].get(c), c) for c in cols) + " |")
    for name, why in report["skipped"].items():
        lines.append(f"| {name} | skipped: {why} |")
    if "rgb-conflict" in sets:
        c = sets["rgb-conflict"]["summary"]
        lines += ["", f"RGB conflict (accuracy = true value only, or both with \"Reports differ\"): true only "
                  f"{c['true_only']}, fake only {c['fake_only']}, both {c['both']} ({c['both_differ']} saying reports "
                  f"differ), neither {c['neither']}, of {c['n']}."]
    if "rgb-rejection" in sets:
        r = sets["rgb-rejection"]["summary"]
        abstained = round(r["rejection"] * r["n"])
        lines += ["", f"RGB rejection (negative snippets only): abstained {abstained}, answered with the true value "
                  f"{r['answered_right']} (some negatives state it), answered otherwise "
                  f"{r['n'] - abstained - r['answered_right']}, of {r['n']}."]
    if "realtimeqa" in sets:
        lines += ["", f"RealTime QA corpus: {sets['realtimeqa']['corpus']}."]
    if curve := report.get("abstention_curve"):
        names = [*ANSWERED, "rgb-rejection", "seeds-unanswerable"]
        lines += ["", f"Abstention trade-off, replayed from each answer's evidence score (threshold now "
                  f"{curve['current']}; the highest that costs no answered set an answer: {curve['chosen']}); "
                  "answered sets give accuracy, the last two the share abstained on:", "",
                  "| threshold | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
        lines += [f"| {p['threshold']} | " + " | ".join(_fmt(p.get(n)) for n in names) + " |" for p in curve["points"]]
    if "seeds" in sets:
        lines += ["", "Seeds by question type:", "", *type_table(sets["seeds"]["summary"])]
    if "paraphrases" in sets:
        by_type = sets["paraphrases"]["summary"]["by_type"]
        lines += ["", "Paraphrases by kind of rewording (consistency: the rewording's answer phrase equals the "
                  "original's):", "", "| rewording | n | accuracy | consistency |", "|---|---|---|---|"]
        lines += [f"| {t} | {m['n']} | {_fmt(m['accuracy'])} | {_fmt(m['consistency'])} |" for t, m in by_type.items()]
    return "\n".join(lines) + "\n"


def write(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    (out / "report.md").write_text(markdown(report))
    _plot(report, out / "report.png")


def _plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets = report["sets"]
    names = list(sets)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 4))
    score = [sets[n]["summary"].get("accuracy") or sets[n]["summary"].get("rejection") or 0 for n in names]
    ax1.bar(names, score)
    ax1.set_ylim(0, 1.05)
    ax1.set_title("answer-line accuracy (rgb-rejection: share abstained)")
    ax1.tick_params(axis="x", rotation=20, labelsize=8)
    ax2.boxplot([[r["latency_ms"] for r in sets[n]["questions"]] or [0] for n in names], showfliers=False)
    ax2.set_xticks(range(1, len(names) + 1), names, rotation=20, fontsize=8)
    ax2.set_ylabel("ms per question")
    ax2.set_title(f"latency ({report['answerer']})")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
