"""The LLM judge in the eval harness, against a real HTTP server speaking the OpenAI chat-completions API.

The fake server judges by a rule of its own (correct iff an accepted answer appears in the answer; for a
question without accepted answers, iff the answer says it could not find it), read from the request it was
sent; the tests recompute that rule from the report's rows and compare, so they check the plumbing.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import SEEDS, run_rag  # noqa: E402
from fake_openai import server_fixtures  # noqa: E402

from rag.evaluate import markdown, run  # noqa: E402
from rag.judge import parse  # noqa: E402

KEY = "sk-judge-test"
PICKED = ["q01", "q02", "q03", "q06", "q33", "q36", "q42", "q44", "q51", "q56", "q58", "q59"]  # every type


def rule(question: dict) -> bool:
    answer = question["answer"].lower()
    gold = question["accepted_answers"]
    return any(g.lower() in answer for g in gold) if gold else "could not find" in answer


def judge_by_rule(body: dict) -> str:
    """A fake server step: the verdict for the request's own question, as the JSON the judge asks for."""
    asked = json.loads(body["messages"][-1]["content"])
    return json.dumps({"correct": rule(asked), "reason": "rule"})


def expected_verdict(row: dict) -> bool:
    return rule({"answer": row["answer"], "accepted_answers": row["expected"]})


fake, _fresh = server_fixtures(KEY, judge_by_rule)


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    rows = {json.loads(line)["id"]: line for line in (Path(__file__).parents[1] / "eval/questions.jsonl").read_text().splitlines() if line}
    path = tmp_path_factory.mktemp("judge-eval") / "questions.jsonl"
    path.write_text("\n".join(rows[i] for i in PICKED) + "\n")
    return path


@pytest.fixture(scope="module")
def judged_rag(fake, tmp_path_factory):
    from rag import RAG

    rag = RAG(index_dir=tmp_path_factory.mktemp("judge-index"), seeds_dir=SEEDS, chroma_url=None, answerer="local",
              llm_base_url=fake.url, openai_api_key=KEY, llm_model="judge-model", llm_timeout=5, llm_retries=0)
    rag.index([SEEDS])
    return rag


@pytest.mark.parametrize("reply,correct", [
    ('{"correct": true, "reason": "same date"}', True),
    ('{"correct": false, "reason": "wrong person"}', False),
    ('```json\n{"correct": true, "reason": "ok"}\n```', True),
    ('Verdict: {"correct": false, "reason": "no"} Hope this helps!', False),
    ('{"correct": "yes", "reason": "a string, not a boolean"}', None),
    ('{"reason": "no verdict field"}', None),
    ('{"correct": true, "reason": "cut off', None),
    ("The answer looks right to me.", None),
    ("", None),
])
def test_parse(reply, correct):
    verdict = parse(reply)
    assert verdict.correct is correct
    assert verdict.reason.startswith("malformed verdict") is (correct is None)


@pytest.mark.slow
def test_judged_once_per_question_and_aggregated(fake, judged_rag, dataset, tmp_path):
    report = run(dataset, rag=judged_rag, out=tmp_path)
    rows = report["questions"]
    assert len(rows) == len(PICKED) and len(fake.requests) == len(PICKED)
    for row, request in zip(rows, fake.requests):
        assert json.loads(request["messages"][-1]["content"]) == {
            "question": row["question"], "accepted_answers": row["expected"], "answer": row["answer"]}
        assert request["model"] == "judge-model" and not request.get("stream")
        assert row["judge"]["correct"] is expected_verdict(row)
    s = report["summary"]
    assert s["overall"]["unjudged"] == 0 and report["judge"] == {"model": "openai:judge-model", "notice": None}
    assert s["overall"]["llm_judged_accuracy"] == round(sum(map(expected_verdict, rows)) / len(rows), 4)
    for qtype, metrics in s["by_type"].items():
        subset = [r for r in rows if r["type"] == qtype]
        assert metrics["llm_judged_accuracy"] == round(sum(map(expected_verdict, subset)) / len(subset), 4)
    written = json.loads((tmp_path / "report.json").read_text())
    assert written["summary"] == s
    assert f"judged accuracy {s['overall']['llm_judged_accuracy']:.3f}" in (tmp_path / "report.md").read_text()


@pytest.mark.slow
def test_malformed_replies_are_unjudged(fake, judged_rag, dataset):
    bad = {2: "Looks correct to me.", 5: '{"correct": "maybe"}', 9: '{"correct": true, "reason": "cut'}
    fake.script(*[bad.get(i, judge_by_rule) for i in range(len(PICKED))])
    report = run(dataset, rag=judged_rag)
    rows = report["questions"]
    assert len(fake.requests) == len(PICKED)
    assert [i for i, r in enumerate(rows) if r["judge"]["correct"] is None] == sorted(bad)
    ruled = [r for i, r in enumerate(rows) if i not in bad]
    assert all(r["judge"]["correct"] is expected_verdict(r) for r in ruled)
    overall = report["summary"]["overall"]
    assert overall["unjudged"] == len(bad)
    assert overall["llm_judged_accuracy"] == round(sum(map(expected_verdict, ruled)) / len(ruled), 4)
    assert sum(m["unjudged"] for m in report["summary"]["by_type"].values()) == len(bad)
    assert report["judge"]["notice"] is None  # the server answered; only its replies were unusable


@pytest.mark.slow
def test_server_error_is_unjudged_with_notice(fake, judged_rag, dataset):
    fake.script(judge_by_rule, {"status": 500}, judge_by_rule, {"status": 500})
    report = run(dataset, rag=judged_rag, limit=6)
    rows = report["questions"]
    assert len(rows) == 6 and len(fake.requests) == 6  # llm_retries=0: one request per question
    assert [r["judge"]["correct"] is None for r in rows] == [False, True, False, True, False, False]
    assert "HTTP 500" in rows[1]["judge"]["reason"]
    assert report["summary"]["overall"]["unjudged"] == 2
    assert report["judge"]["notice"] == "2 judge requests failed (2× HTTP 500)"
    assert "Note: 2 judge requests failed" in markdown(report)


@pytest.mark.slow
def test_no_judge_when_not_asked(fake, judged_rag, dataset):
    report = run(dataset, rag=judged_rag, limit=2, judge=False)
    assert fake.requests == [] and report["judge"] is None
    assert "judge" not in report["questions"][0] and "llm_judged_accuracy" not in report["summary"]["overall"]
    assert "LLM judge: not configured" in markdown(report)


@pytest.mark.slow
def test_cli_judge_needs_an_endpoint(tmp_path):
    proc = run_rag("eval", "--judge", "--limit", "1", "--out", str(tmp_path / "out"),
                   env={"RAG_LLM_BASE_URL": "", "OPENAI_API_KEY": "", "RAG_INDEX_DIR": str(tmp_path / "index")})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == ("rag: error: the LLM judge needs an endpoint: "
                                   "no OPENAI_API_KEY set and no RAG_LLM_BASE_URL")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_cli_eval_judge_end_to_end(fake, tmp_path):
    out = tmp_path / "out"
    proc = run_rag("eval", "--judge", "--limit", "5", "--out", str(out),
                   env={"RAG_LLM_BASE_URL": fake.url, "OPENAI_API_KEY": KEY, "RAG_LLM_MODEL": "judge-model",
                        "RAG_ANSWERER": "local", "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_LLM_RETRIES": "0"})
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "report.json").read_text())
    rows = report["questions"]
    assert len(rows) == 5 and len(fake.requests) == 5
    assert [r["judge"]["correct"] for r in rows] == [expected_verdict(r) for r in rows]
    accuracy = round(sum(map(expected_verdict, rows)) / len(rows), 4)
    assert report["summary"]["overall"]["llm_judged_accuracy"] == accuracy
    assert f"LLM judge (`openai:judge-model`): judged accuracy {accuracy:.3f}" in proc.stdout
