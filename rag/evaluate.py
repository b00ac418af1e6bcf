"""Scoring for the eval harness behind `pytest eval/` and `rag eval`: retrieval, answer line, citations,
abstention, latency. The answer is scored as a reader reads it: `Answer.answer`, the line before the
quoted evidence; quotes count only for citation precision and recall. `rag/suite.py` runs the dev suite."""
from __future__ import annotations

import hashlib
import itertools
import json
import re
import statistics
import string
import sys
import time
from collections import Counter, defaultdict
from dataclasses import asdict
from pathlib import Path

from .answer import resolve
from .errors import RagError
from .types import Answer

KS = (1, 3, 5, 10)
_NOTE = re.compile(r"\s*\([^()]*\)")  # "(reported 2025-07-23)", "(threatened)": notes beside an answer phrase


def normalize(text: str) -> str:
    text = text.lower().replace("’", "'").replace("“", '"').replace("”", '"')
    text = re.sub(r"\[\d+\]", " ", text)
    text = "".join(" " if ch in string.punctuation and ch not in "%$" else ch for ch in text)
    text = re.sub(r"\b(a|an|the)\b", " ", text)
    return " ".join(text.split())


def contains(text: str, forms: list[str]) -> bool:
    t = f" {normalize(text)} "
    return any(f" {normalize(f)} " in t for f in forms if normalize(f))


def token_f1(prediction: str, truth: str) -> float:
    p, t = normalize(prediction).split(), normalize(truth).split()
    common = sum((Counter(p) & Counter(t)).values())
    if not common:
        return 0.0
    precision, recall = common / len(p), common / len(t)
    return 2 * precision * recall / (precision + recall)


def answer_f1(prediction: str, comps: list[list[str]]) -> float:
    """Token F1 of `prediction` against the whole expected answer: one form of each of its parts, joined, the
    forms that score best (SQuAD's F1, max over the gold forms, when the answer has one part). An answer to
    "Which product ..., and how much of it ...?" is scored against "soybeans 12 million tons", not against
    whichever part alone scores best, which would rate naming one part above naming both."""
    return max(token_f1(prediction, " ".join(forms)) for forms in itertools.product(*comps))


def answer_phrase(line: str) -> str:
    """The answer line reduced to what it claims: no citation markers, no notes in brackets, normalised.
    Two answers with the same phrase say the same thing (paraphrase consistency)."""
    return normalize(_NOTE.sub("", line))


def load_questions(path: Path) -> list[dict]:
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            q = json.loads(line)
        except json.JSONDecodeError:
            raise RagError(f"{path}:{i}: malformed JSON line") from None
        if not isinstance(q, dict) or not isinstance(q.get("question"), str) or not q["question"].strip():
            raise RagError(f'{path}:{i}: no "question" (each line is an object with a "question" string)')
        q.setdefault("id", q.get("question_id", f"line{i}"))
        q.setdefault("gold_docs", q.get("gold_ids", []))
        answers = q.get("answers") or ([q["answer"]] if q.get("answer") else [])
        q["answers"] = [a.strip("“”\"") for a in answers]
        q.setdefault("type", "single-article" if q["answers"] else "unanswerable")
        rows.append(q)
    return rows


def components(q: dict) -> list[list[str]]:
    return q.get("all_answers") or ([q["answers"]] if q["answers"] else [])


def score_question(q: dict, doc_ranking: list[str], answer: Answer) -> dict:
    gold = set(q["gold_docs"])
    answerable = bool(q["answers"])
    row = {"id": q["id"], "type": q["type"], "question": q["question"], "answer": answer.answer,
           "expected": q["answers"], "abstained": answer.abstained, "answerable": answerable,
           "latency_ms": answer.timings.get("total_ms", 0.0), "cited": [c.doc_id for c in answer.citations]}
    if answerable and gold:
        ranks = [i for i, d in enumerate(doc_ranking[:10]) if d in gold]
        row.update({f"hit@{k}": float(bool(ranks) and ranks[0] < k) for k in KS})
        row["mrr@10"] = 1.0 / (ranks[0] + 1) if ranks else 0.0
    if answerable:
        comps = components(q)
        found = [contains(answer.answer, forms) for forms in comps] if not answer.abstained else [False] * len(comps)
        row["accuracy"] = float(all(found))
        row["partial"] = sum(found) / len(found)
        row["f1"] = 0.0 if answer.abstained else answer_f1(_NOTE.sub("", answer.answer), comps)
        supported = [c for c in answer.citations if (not gold or c.doc_id in gold)
                     and any(contains(c.quote, forms) for forms in comps)]
        if answer.citations:
            row["citation_precision"] = len(supported) / len(answer.citations)
        covered = [forms for forms in comps if any(contains(c.quote, forms) for c in supported)]
        row["citation_recall"] = len(covered) / len(comps)
    return row


def summarize(rows: list[dict]) -> dict:
    def mean(key, subset):
        vals = [r[key] for r in subset if key in r]
        return round(sum(vals) / len(vals), 4) if vals else None

    metrics = [f"hit@{k}" for k in KS] + ["mrr@10", "accuracy", "partial", "f1", "citation_precision", "citation_recall"]
    by_type = defaultdict(list)
    for r in rows:
        by_type[r["type"]].append(r)
    out = {"overall": {m: mean(m, rows) for m in metrics}, "by_type": {}}
    for t, subset in sorted(by_type.items()):
        out["by_type"][t] = {"n": len(subset), **{m: mean(m, subset) for m in metrics}}
    unans = [r for r in rows if not r["answerable"]]
    abstained = [r for r in rows if r["abstained"]]
    tp = sum(1 for r in abstained if not r["answerable"])
    # a set without unanswerable questions has no abstention precision to speak of (every abstention is a miss)
    out["overall"]["abstention_precision"] = round(tp / len(abstained), 4) if abstained and unans else None
    out["overall"]["abstention_recall"] = round(tp / len(unans), 4) if unans else None
    lat = sorted(r["latency_ms"] for r in rows)
    out["overall"]["latency_p50_ms"] = round(statistics.median(lat), 1) if lat else None
    out["overall"]["latency_p95_ms"] = round(lat[min(len(lat) - 1, int(0.95 * len(lat)))], 1) if lat else None
    out["overall"]["n"] = len(rows)
    if any("judge" in r for r in rows):
        out["overall"].update(_judged(rows))
        for t, subset in by_type.items():
            out["by_type"][t].update(_judged(subset))
    return out


def _judged(rows: list[dict]) -> dict:
    """LLM-judged accuracy over the questions the judge ruled on; the rest are counted as unjudged."""
    verdicts = [r["judge"]["correct"] for r in rows if "judge" in r]
    ruled = [v for v in verdicts if v is not None]
    return {"llm_judged_accuracy": round(sum(ruled) / len(ruled), 4) if ruled else None,
            "unjudged": len(verdicts) - len(ruled)}


def corpus_index_dir(corpus: list[Path], base: Path) -> Path:
    key = hashlib.sha1("|".join(str(p.resolve()) for p in corpus).encode()).hexdigest()[:10]
    return base / f"eval-{key}"


def run(dataset: Path, corpus: list[Path] | None = None, out: Path | None = None,
        limit: int | None = None, rag=None, progress: bool = False, judge: bool | None = None,
        index_dir: Path | None = None, answerer: str | None = None) -> dict:
    """Scores every question of one JSONL eval set over `corpus` (default: the seeds), or over `rag`'s index
    when a RAG is given. `judge` None means: LLM-judge the answers when an endpoint (llm_base_url) is set.
    Returns the report dict ({"summary", "questions", ...}); writes report.{json,md,png} to `out` if given."""
    from .api import RAG

    dataset = Path(dataset)
    if not dataset.is_file():
        raise RagError(f"{dataset}: no such eval set")
    questions = load_questions(dataset)[:limit]
    fresh = rag is None
    if fresh:
        base = RAG()
        corpus = [Path(p) for p in (corpus or [base.settings.paths.seeds_dir])]
        rag = RAG(base.settings, index_dir=index_dir or corpus_index_dir(corpus, base.settings.paths.index_dir))
    judger = _judger(rag.settings, judge)  # before indexing, so a judge without an endpoint fails fast
    if fresh:
        rag.index(corpus, progress=progress)
    failures: Counter = Counter()
    t0 = time.perf_counter()
    rows = ask_all(rag, questions, answerer=answerer, judger=judger, failures=failures, progress=progress)
    report = {"dataset": str(dataset), "answerer": resolve(answerer or rag.settings.answer.answerer),
              "seconds": round(time.perf_counter() - t0, 1), "summary": summarize(rows),
              "judge": _judge_report(judger, failures), "questions": rows}
    if out is not None:
        write_report(report, Path(out))
    return report


def ask_all(rag, questions: list[dict], answerer: str | None = None, history_from: dict | None = None,
            judger=None, failures: Counter | None = None, progress: bool = False, score=None) -> list[dict]:
    """Asks each question (as of its `question_date` when it has one; after the question its `follow_up_of`
    names, looked up in `history_from` or the set itself) and scores it with `score` (default
    `score_question`, called as score(question, doc_ranking, answer)). Returns one row per question."""
    by_id = history_from or {q["id"]: q for q in questions}
    score = score or score_question
    rows = []
    for i, q in enumerate(questions, 1):
        prev = by_id.get(q.get("follow_up_of"))
        history = [prev["question"]] if prev else None
        filters = {"as_of": q["question_date"].replace("/", "-")} if q.get("question_date") else {}
        answer = rag.ask(q["question"], history=history, answerer=answerer, **filters)
        standalone = answer.diagnostics.get("standalone_question", q["question"])
        ranking = []
        if q.get("gold_docs"):
            hits = rag.retrieve(standalone, k=30, **filters)
            # a near-duplicate copy folded into a retrieved article counts as retrieved
            ranking = list(dict.fromkeys(d for h in hits for d in (h.doc_id, *(a["doc_id"] for a in h.alternates))))
        rows.append(score(q, ranking, answer))
        # the local answerer's evidence score, from which rag/suite.py draws the abstention trade-off curve
        rows[-1]["evidence"] = answer.diagnostics.get("best_score")
        if judger:
            verdict, failure = judger(q["question"], q["answers"], answer.answer)
            rows[-1]["judge"] = asdict(verdict)
            if failures is not None:
                failures.update([failure] if failure else [])
        if progress:
            _progress(i, len(questions))
    if progress and sys.stderr.isatty():
        print(file=sys.stderr)
    return rows


def _progress(done: int, total: int) -> None:
    """One counter rewritten in place at a terminal; redirected to a log, a line at each tenth of the set."""
    if sys.stderr.isatty():
        print(f"\r{done}/{total} questions", end="", file=sys.stderr, flush=True)
    elif done == total or done * 10 // total != (done - 1) * 10 // total:
        print(f"{done}/{total} questions", file=sys.stderr, flush=True)


def _judger(settings, wanted: bool | None):
    if not (wanted if wanted is not None else settings.llm.llm_base_url):
        return None
    from .judge import Judge

    return Judge(settings)


def _judge_report(judge, failures: Counter) -> dict | None:
    if judge is None:
        return None
    notice = (f"{sum(failures.values())} judge requests failed ("
              + "; ".join(f"{n}× {why}" for why, n in failures.most_common(3)) + ")") if failures else None
    return {"model": judge.label, "notice": notice}


def write_report(report: dict, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1, ensure_ascii=False))
    (out / "report.md").write_text(markdown(report))
    plot(report, out / "report.png")


def markdown(report: dict) -> str:
    s = report["summary"]
    lines = [f"Eval of `{report['dataset']}` with the `{report['answerer']}` answerer "
             f"({s['overall']['n']} questions, {report['seconds']} s); answers scored on the answer line.", "",
             *type_table(s), "",
             f"Abstention precision {_fmt(s['overall']['abstention_precision'])}, recall "
             f"{_fmt(s['overall']['abstention_recall'])}; latency p50 {s['overall']['latency_p50_ms']} ms, "
             f"p95 {s['overall']['latency_p95_ms']} ms.", "", _judge_line(report)]
    return "\n".join(lines) + "\n"


def type_table(summary: dict) -> list[str]:
    """The per-question-type table of a summary, as markdown lines."""
    cols = ["n", "hit@5", "mrr@10", "accuracy", "partial", "f1", "citation_precision", "citation_recall"]
    lines = ["| type | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for t, m in [*summary["by_type"].items(), ("**overall**", summary["overall"])]:
        lines.append(f"| {t} | " + " | ".join(_fmt(m.get(c)) for c in cols) + " |")
    return lines


def _judge_line(report: dict) -> str:
    j = report.get("judge")
    if not j:
        return "LLM judge: not configured (set RAG_LLM_BASE_URL or pass `rag eval --judge`)."
    s = report["summary"]
    per_type = ", ".join(f"{t} {_fmt(m['llm_judged_accuracy'])}" for t, m in s["by_type"].items())
    line = (f"LLM judge (`{j['model']}`): judged accuracy {_fmt(s['overall']['llm_judged_accuracy'])} "
            f"({per_type}); {s['overall']['unjudged']} unjudged.")
    return line + (f" Note: {j['notice']}." if j["notice"] else "")


def _fmt(v, column: str = "") -> str:
    if v is None:
        return "–"
    if column.endswith("_ms"):
        return f"{v:,.0f}"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = report["summary"]["by_type"]
    metrics = ["hit@5", "accuracy", "citation_precision"]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
    types = list(s)
    width = 0.8 / len(metrics)
    for i, m in enumerate(metrics):
        ax1.bar([x + i * width for x in range(len(types))], [s[t].get(m) or 0 for t in types], width, label=m)
    ax1.set_xticks([x + width for x in range(len(types))], types, rotation=20, fontsize=8)
    ax1.set_ylim(0, 1.05)
    ax1.legend(fontsize=8)
    ax1.set_title("metrics by question type")
    ax2.hist([r["latency_ms"] for r in report["questions"]], bins=20)
    ax2.set_xlabel("ms per question")
    ax2.set_title("latency")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def run_cli(args) -> int:
    """`rag eval`: one JSONL set with --dataset (or the seed questions with --judge), else the suite (--suite
    seeds by default); prints the table. The answerer is --answerer, else RAG_ANSWERER when it names one, else
    the instant `local` (an LLM's whole dev suite takes over an hour: name it to score it)."""
    from .answer import AUTO
    from .api import RAG

    out = Path(args.out or "eval-report")
    settings = RAG().settings
    if not args.answerer and settings.answer.answerer == AUTO:
        args.answerer = "local"
    if args.judge and not args.dataset:  # the judge scores one set: the seed questions unless another is named
        args.dataset = settings.paths.eval_dir / "questions.jsonl"
    if args.dataset:
        report = run(Path(args.dataset), [Path(args.corpus)] if args.corpus else None, out, args.limit,
                     progress=True, judge=args.judge or None, index_dir=Path(args.index_dir) if args.index_dir else None,
                     answerer=args.answerer)
        print(markdown(report))
        if report["judge"] and report["judge"]["notice"]:
            print(f"note: LLM judge: {report['judge']['notice']}", file=sys.stderr)
    else:
        from .suite import SUITES, markdown as suite_markdown, run_suite

        sets = [s.strip() for s in args.sets.split(",")] if args.sets else SUITES[args.suite or "seeds"]
        report = run_suite(settings, sets, answerer=args.answerer, out=out, limit=args.limit, progress=True)
        print(suite_markdown(report))
    print(f"report: {out / 'report.md'}")
    if report.get("sets") == {}:  # a suite that measured nothing: a script must not read that as a pass
        raise RagError(f"no eval set ran ({'; '.join(f'{n}: {why}' for n, why in report['skipped'].items())})")
    return 0
