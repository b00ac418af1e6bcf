"""The dev suite's plumbing (`rag eval --suite dev`), on small sets written here in the external sets' own
formats, through the real CLI, model and Chroma: every figure is computed, indexes are cached, and a set
whose data is absent is skipped with its reason."""
from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import RAG_BIN, ROOT  # noqa: E402

pytestmark = pytest.mark.slow

RGB = [
    {"id": "rgb-0", "question": "Which city hosted the 2031 Lumen Games?", "answers": ["Kestrel Bay"],
     "fake_answer": "Port Alder",
     "positive": ["The 2031 Lumen Games were hosted by the city of Kestrel Bay, organisers confirmed."],
     "positive_wrong": ["The 2031 Lumen Games were hosted by the city of Port Alder, organisers confirmed."],
     "negative": ["Tickets for the Lumen Games sold out within hours of going on sale online."]},
    {"id": "rgb-1", "question": "Who won the 2030 Orbis chess open?", "answers": ["Mira Solberg"],
     "fake_answer": "Ivo Dragan",
     "positive": ["Mira Solberg won the 2030 Orbis chess open after a tense final round."],
     "positive_wrong": ["Ivo Dragan won the 2030 Orbis chess open after a tense final round."],
     "negative": ["The Orbis chess open has been held every spring since 1998."]},
]
RTQA_DEV = [{"question_id": "w_0", "question": "Which bridge reopened this week after repairs?", "question_date":
             "2030/05/02", "answer": "Tern Bridge", "answers": ["Tern Bridge"], "gold_ids": ["a1"]}]
RTQA_CORPUS = [
    {"id": "a1", "title": "Tern Bridge reopens", "published_at": "2030-05-01", "url": "http://example.test/a1",
     "text": "The Tern Bridge reopened on Wednesday after eight months of repairs, the city said."},
    {"id": "a2", "title": "Harbour ferry timetable", "published_at": "2030-04-20", "url": "http://example.test/a2",
     "text": "The harbour ferry will run every twenty minutes during the summer season."},
]


def _bench(tmp_path: Path) -> Path:
    bench = tmp_path / "bench"
    (bench / "rgb").mkdir(parents=True)
    (bench / "rgb/dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RGB))
    (bench / "realtimeqa").mkdir()
    (bench / "realtimeqa/dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in RTQA_DEV))
    with gzip.open(bench / "realtimeqa/corpus.jsonl.gz", "wt") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in RTQA_CORPUS)
    return bench


def _eval(tmp_path: Path, bench: Path, *args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RAG_INDEX_DIR": str(tmp_path / "index"),
           "RAG_BENCH_DIR": str(bench), "RAG_SEEDS_DIR": str(ROOT / "seeds"), "RAG_EVAL_DIR": str(ROOT / "eval")}
    return subprocess.run([RAG_BIN, "eval", "--suite", "dev", "--sets", "realtimeqa,rgb", "--out",
                           str(tmp_path / "out"), *args], env=env, capture_output=True, text=True, timeout=600)


def test_dev_suite_scores_every_set_and_reuses_its_indexes(tmp_path):
    bench = _bench(tmp_path)
    first = _eval(tmp_path, bench)
    assert first.returncode == 0, first.stderr[-2000:]
    report = json.loads((tmp_path / "out/report.json").read_text())
    sets = report["sets"]
    assert set(sets) == {"realtimeqa", "rgb-accuracy", "rgb-rejection", "rgb-conflict"}
    rtqa = sets["realtimeqa"]
    assert rtqa["summary"]["n"] == 1 and rtqa["summary"]["hit@5"] == 1.0
    assert rtqa["questions"][0]["accuracy"] == float("Tern Bridge" in rtqa["questions"][0]["answer"])
    acc, rej, con = sets["rgb-accuracy"], sets["rgb-rejection"], sets["rgb-conflict"]
    assert acc["summary"]["n"] == rej["summary"]["n"] == con["summary"]["n"] == 2
    # the rejection corpus holds no answer, so each row's figure is exactly whether it abstained
    assert all(r["rejection"] == float(r["abstained"]) for r in rej["questions"])
    assert sum(con["summary"][k] for k in ("true_only", "fake_only", "both", "neither")) == 2
    for r in con["questions"]:
        true, fake = "Kestrel Bay" in r["answer"] or "Mira Solberg" in r["answer"], \
            "Port Alder" in r["answer"] or "Ivo Dragan" in r["answer"]
        assert r["outcome"] == {(True, False): "true_only", (False, True): "fake_only",
                                (True, True): "both"}.get((true, fake), "neither")
    # snippet ids say nothing about which snippet holds the answer
    assert all(d.startswith("web-") for r in acc["questions"] for d in r["cited"])
    # redirected, the progress is whole lines, not a counter rewritten with \r into one run-together line
    assert "\r" not in first.stderr and "2/2 questions\n" in first.stderr, first.stderr[-2000:]
    table = first.stdout
    assert "| rgb-conflict |" in table and "RealTime QA corpus: 1 gold articles + 1 others" in table
    built = sorted(p.name for p in (tmp_path / "index/dev-suite").iterdir())
    assert len(built) == 4 and all((tmp_path / "index/dev-suite" / b / "complete").is_file() for b in built)
    curve = report["abstention_curve"]
    assert curve["current"] == curve["points"][0]["threshold"] and "Abstention trade-off" in table
    assert all(r["evidence"] is not None for r in rej["questions"] + acc["questions"])
    again = _eval(tmp_path, bench)
    assert again.returncode == 0 and "article/s" not in again.stderr  # no indexing the second time
    assert sorted(p.name for p in (tmp_path / "index/dev-suite").iterdir()) == built


def test_absent_data_is_skipped_with_its_reason(tmp_path):
    done = _eval(tmp_path, tmp_path / "nowhere")
    assert done.returncode == 2 and done.stderr.startswith("rag: error: no eval set ran (realtimeqa: data absent:"), done.stderr[-2000:]
    assert "| realtimeqa | skipped: data absent:" in done.stdout and "| rgb | skipped: data absent:" in done.stdout


def test_the_abstention_curve_replays_thresholds_from_evidence_scores():
    from rag.suite import abstention_curve

    def row(evidence, accuracy=None, abstained=False, **kw):
        return {"evidence": evidence, "accuracy": accuracy, "abstained": abstained, **kw}

    sets = {"rgb-accuracy": {"questions": [row(0.9, 1.0), row(0.62, 1.0), row(0.5, 0.0), row(0.3, 0.0, True)]},
            "rgb-rejection": {"questions": [row(0.55), row(0.7), row(0.2, abstained=True)]},
            "seeds": {"questions": [row(0.8, 1.0, answerable=True), row(0.45, None, answerable=False)]}}
    curve = abstention_curve(sets, 0.4, step=0.1)
    points = {p["threshold"]: p for p in curve["points"]}
    assert list(points) == [0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]
    assert [points[t]["rgb-accuracy"] for t in (0.4, 0.6, 0.7, 0.9, 1.0)] == [0.5, 0.5, 0.25, 0.25, 0.0]
    assert [points[t]["rgb-rejection"] for t in (0.4, 0.6, 0.8)] == [round(1 / 3, 4), round(2 / 3, 4), 1.0]
    assert points[0.4]["seeds-unanswerable"] == 0.0 and points[0.5]["seeds-unanswerable"] == 1.0
    assert curve["chosen"] == 0.6  # the last threshold before an answered set loses an answer
    assert abstention_curve({"rgb-accuracy": {"questions": [row(None, 1.0)]}}, 0.4) is None


def test_a_corpus_keeps_only_its_latest_indexes(tmp_path):
    """Each change to indexing code or settings builds a corpus's index again; the older ones go, all but the
    last `KEPT_BUILDS` used, and another corpus's are left alone."""
    from rag.settings import Settings
    from rag.suite import KEPT_BUILDS, _Context

    ctx = _Context(Settings(index_dir=tmp_path / "index", chroma_url=None), "local", None, None, None)

    def build(version: int) -> Path:
        record = {**RTQA_CORPUS[0], "text": f"{RTQA_CORPUS[0]['text']} Version {version}."}
        return ctx.rag("tiny", records=[record]).settings.paths.index_dir

    other = ctx.rag("other", records=RTQA_CORPUS).settings.paths.index_dir
    first, second = build(1), build(2)
    assert build(1) == first  # reused, and now the latest used
    third = build(3)
    assert KEPT_BUILDS == 2 and sorted((tmp_path / "index/dev-suite").iterdir()) == sorted([other, first, third])
    assert not second.exists() and (third / "complete").is_file()
