"""`pytest eval/`: scores the default offline configuration on eval/questions.jsonl against measured floors."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from rag.evaluate import EVAL_DIR, run

THRESHOLDS = tomllib.loads((Path(__file__).parent / "thresholds.toml").read_text())


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
