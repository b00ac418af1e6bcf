"""`pytest eval/`: the seeds and their paraphrases through the default offline configuration, scored on the
answer line, against the floors measured and recorded in eval/thresholds.toml."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from rag.suite import SUITES, run_suite

EVAL_DIR = Path(__file__).parent
THRESHOLDS = tomllib.loads((EVAL_DIR / "thresholds.toml").read_text())


@pytest.fixture(scope="session")
def report(tmp_path_factory):
    from rag import RAG

    index = tmp_path_factory.mktemp("eval-index")
    rag = RAG(index_dir=index, seeds_dir=EVAL_DIR.parent / "seeds", eval_dir=EVAL_DIR, answerer="local",
              chroma_url=None)
    rag.index([EVAL_DIR.parent / "seeds"])
    out = tmp_path_factory.mktemp("eval-report")
    result = run_suite(rag.settings, SUITES["seeds"], out=out, seeds_rag=rag)
    print(f"\neval report: {out / 'report.md'}")
    return result | {"out": out}


def _failures(rows: list[dict], metric: str) -> str:
    bad = [r for r in rows if r.get(metric, 1.0) < 1.0]
    return "\n".join(f"  {r['id']} [{r['type']}] {r['question']}\n    got: {r['answer'][:160]}"
                     f"\n    expected one of: {r.get('expected', [])[:4]}" for r in bad)


def _cases():
    for name, table in sorted(THRESHOLDS.items()):
        for metric, floor in sorted(table.get("overall", {}).items()):
            yield name, None, metric, floor
        for qtype, ms in sorted(table.get("by_type", {}).items()):
            for metric, floor in sorted(ms.items()):
                yield name, qtype, metric, floor


@pytest.mark.slow
@pytest.mark.parametrize("name,qtype,metric,floor", list(_cases()))
def test_floor(report, name, qtype, metric, floor):
    result = report["sets"][name]
    summary = result["summary"]
    if qtype is None:
        value = summary["overall"][metric] if metric in summary.get("overall", {}) else summary.get(metric)
    else:
        value = summary["by_type"][qtype][metric]
    rows = [r for r in result["questions"] if qtype is None or r["type"] == qtype]
    assert value is not None and value >= floor, f"{name} {qtype or ''} {metric} = {value} < {floor}\n" \
                                                  f"{_failures(rows, metric)}"


@pytest.mark.slow
def test_report_has_every_table(report):
    md = (report["out"] / "report.md").read_text()
    assert "| seeds |" in md and "| paraphrases |" in md and "Paraphrases by kind of rewording" in md
    for kind in ("typo", "lowercase", "synonym", "word-order", "abbreviation"):
        assert f"| {kind} |" in md
    assert (report["out"] / "report.png").stat().st_size > 0 and (report["out"] / "report.json").stat().st_size > 0


def test_answer_line_is_scored_not_the_quotes():
    """The score reads what a reader reads: an accepted form that is only in the quotes does not count
    (the case that flattered the old metric: "200% [2]" over a quote that mentions 145)."""
    from rag.evaluate import score_question
    from rag.types import Answer, Citation

    quote = "Trump imposed an additional 145 per cent tariff on China in April."
    c = Citation(n=1, doc_id="a", title="t", source="s", published_at=None, quote=quote, start=0, end=len(quote))
    q = {"id": "x", "type": "single-article", "question": "What tariff?", "answers": ["145 per cent"], "gold_docs": ["a"]}
    wrong = Answer(text=f"200% [1]\n\n[1] “{quote}”", citations=[c], abstained=False, answer="200% [1]")
    right = Answer(text=f"145 per cent [1]\n\n[1] “{quote}”", citations=[c], abstained=False, answer="145 per cent [1]")
    assert score_question(q, ["a"], wrong)["accuracy"] == 0.0
    assert score_question(q, ["a"], wrong)["citation_recall"] == 1.0  # the quote still counts as evidence
    assert score_question(q, ["a"], right)["accuracy"] == 1.0
