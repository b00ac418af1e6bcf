"""`pytest eval/`: scores the default offline configuration on eval/questions.jsonl against measured floors."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from rag.evaluate import EVAL_DIR, run
from rag.settings import Settings

THRESHOLDS = tomllib.loads((Path(__file__).parent / "thresholds.toml").read_text())
JUDGE_ENDPOINT = Settings.load().llm_base_url
NO_JUDGE = "LLM judge not configured: set RAG_LLM_BASE_URL (and RAG_LLM_MODEL, OPENAI_API_KEY) for llm_judged_accuracy"


@pytest.fixture(scope="session")
def report(tmp_path_factory):
    from rag import RAG

    rag = RAG(index_dir=tmp_path_factory.mktemp("eval-index"), seeds_dir=EVAL_DIR.parent / "seeds",
              answerer="local", chroma_url=None)
    rag.index([EVAL_DIR.parent / "seeds"])
    return run(rag=rag, out=EVAL_DIR)


def _failures(report: dict, metric: str, qtype: str | None) -> str:
    rows = [r for r in report["questions"] if (qtype is None or r["type"] == qtype) and r.get(metric, 1.0) < 1.0]
    return "\n".join(f"  {r['id']} [{r['type']}] {r['question']}\n    got: {r['answer'].splitlines()[0][:160]}"
                     f"\n    expected one of: {r['expected'][:4]}  cited: {r['cited']}" for r in rows)


@pytest.mark.parametrize("metric,floor", sorted(THRESHOLDS["overall"].items()))
def test_overall(report, metric, floor):
    value = report["summary"]["overall"][metric]
    assert value is not None and value >= floor, f"{metric} = {value} < {floor}\n{_failures(report, metric, None)}"


@pytest.mark.parametrize("qtype,metric,floor", [(t, m, f) for t, ms in sorted(THRESHOLDS["by_type"].items())
                                                for m, f in sorted(ms.items())])
def test_by_type(report, qtype, metric, floor):
    value = report["summary"]["by_type"][qtype][metric]
    assert value is not None and value >= floor, f"{qtype} {metric} = {value} < {floor}\n{_failures(report, metric, qtype)}"


def test_report_files_written(report):
    for name in ("report.json", "report.md", "report.png"):
        assert (EVAL_DIR / name).stat().st_size > 0


@pytest.mark.skipif(not JUDGE_ENDPOINT, reason=NO_JUDGE)
def test_llm_judged_accuracy(report):
    """No floor (it depends on the judge model): 90%+ of answers get a usable verdict; the score is their mean."""
    rows, overall = report["questions"], report["summary"]["overall"]
    verdicts = [r["judge"]["correct"] for r in rows]
    ruled = [v for v in verdicts if v is not None]
    assert overall["unjudged"] == verdicts.count(None) <= 0.1 * len(rows), report["judge"]["notice"]
    assert overall["llm_judged_accuracy"] == round(sum(ruled) / len(ruled), 4)
    assert "LLM judge (" in (EVAL_DIR / "report.md").read_text()


@pytest.mark.skipif(bool(JUDGE_ENDPOINT), reason="an LLM endpoint is configured, so the report has a judged score")
def test_report_says_judge_not_configured(report):
    assert report["judge"] is None and "llm_judged_accuracy" not in report["summary"]["overall"]
    assert "LLM judge: not configured" in (EVAL_DIR / "report.md").read_text()
