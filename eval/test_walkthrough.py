"""`pytest eval/`: the walkthrough set, ten articles and 36 questions a new user's session invented on a clean
clone (eval/walkthrough/: a chief executive named a sentence after the company, a price in two months, a
bridge reopening on two dates, a cup final, an election, follow-ups, 5 questions the articles do not answer).
No rule was written for it: it shows how the extractive answerer does on articles nobody tuned it for.
Floors measured on the default offline configuration, recorded in eval/thresholds.toml [walkthrough]."""
from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from rag.evaluate import run

SET = Path(__file__).parent / "walkthrough"
FLOORS = tomllib.loads((Path(__file__).parent / "thresholds.toml").read_text())["walkthrough"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("walkthrough-report")
    result = run(SET / "questions.jsonl", corpus=[SET / "articles"], out=out, answerer="local", judge=False,
                 index_dir=tmp_path_factory.mktemp("walkthrough-index"))
    print(f"\nwalkthrough report: {out / 'report.md'}")
    return result


@pytest.mark.parametrize("metric", sorted(FLOORS))
def test_walkthrough_floor(report, metric):
    got = report["summary"]["overall"][metric]
    wrong = [f"{r['id']}: {r['answer'][:80]!r}" for r in report["questions"] if r.get("accuracy") == 0]
    assert got >= FLOORS[metric], f"{metric} {got} < floor {FLOORS[metric]}; wrong answer lines: {wrong}"
