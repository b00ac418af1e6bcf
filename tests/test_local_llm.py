"""The local generative model, for real: the packaged Qwen2.5-Coder-1.5B GGUF joined from its 22 part-wheels
and run in process by mistralrs; the same model behind an OpenAI-compatible HTTP server on 127.0.0.1 for the
`openai` answerer and the LLM judge. Answers go through the same citation check as every LLM's."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import RAG_BIN, TRUCE, indexed_rag  # noqa: E402
from mistralrs_openai import MistralrsOpenAI  # noqa: E402

from rag import models  # noqa: E402
from rag.errors import RagError  # noqa: E402
from rag.settings import Settings  # noqa: E402

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not models.llm_installed(), reason="the llm extra is not installed: pip install -e '.[llm]'")]
QUESTION = "When does the tariff truce expire?"


@pytest.fixture(scope="module")
def llm_rag(seeded_rag):
    from rag import RAG

    return RAG(seeded_rag.settings, answerer="local-llm")


def test_parts_join_into_the_checked_model_once(llm_rag):
    path = models.llm_file(llm_rag.settings)
    assert path.parent == llm_rag.settings.paths.model_dir and path.stat().st_size > 900_000_000
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            digest.update(block)
    assert digest.hexdigest() == models.LLM_SHA256
    mtime = path.stat().st_mtime_ns
    assert models.llm_file(llm_rag.settings) == path and path.stat().st_mtime_ns == mtime  # reused, not joined again


def test_a_corrupt_join_or_a_missing_file_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(models, "LLM_SHA256", "0" * 64)
    with pytest.raises(RagError, match=r"wrong sha256; reinstall them: pip install") as e:
        models.llm_file(Settings(model_dir=tmp_path))
    assert "\n" not in str(e.value) and not list(tmp_path.glob("*.gguf*"))  # no half file left
    with pytest.raises(RagError, match="RAG_LOCAL_LLM_MODEL: no such GGUF file"):
        models.llm_file(Settings(local_llm_model=str(tmp_path / "absent.gguf")))


def test_too_little_memory_is_one_line_not_an_oom_kill(monkeypatch, tmp_path):
    from rag.answer import local_llm

    monkeypatch.setattr(local_llm, "available_memory_gb", lambda: 1.0)
    with pytest.raises(RagError, match=r"needs about 3.6 GB of free memory and 1.0 GB is available"):
        local_llm._load(tmp_path / "model.gguf")


def test_local_llm_answers_with_a_verified_citation(llm_rag):
    pieces = list(llm_rag.stream(QUESTION))
    answer = pieces[-1]
    assert answer.answerer.startswith("local-llm:") and answer.notice is None, answer.notice
    assert "August 12" in answer.answer and "[1]" in answer.answer
    assert any(isinstance(p, str) for p in pieces[:-1])  # streamed before the verified answer
    assert answer.citations[0].quote in TRUCE or TRUCE in answer.citations[0].quote
    from rag.answer import local_llm

    loaded = dict(local_llm._RUNNERS)
    second = llm_rag.ask("Who led the US officials at the Stockholm talks?")
    assert local_llm._RUNNERS == loaded and len(loaded) == 1  # the model loaded once is reused, not loaded again
    # a claim the check cannot back is dropped and the extractive answer stands in, saying so
    assert "Bessent" in second.answer and (second.notice is None or "could not be verified" in second.notice)


def test_one_model_serves_every_index_folder(llm_rag, tmp_path_factory):
    """A second index folder answers from the one joined file in `model_dir` and the model already loaded: no
    second 1.1 GB copy on disk or in memory (the dev suite's five corpora each have their own folder)."""
    from rag import RAG

    other = indexed_rag(tmp_path_factory, {"note.txt": "Jonas Berg won the mayoral election in Elmstad.\n"}, "second")
    second = RAG(other.settings, answerer="local-llm").answerer()
    assert second.client.path == llm_rag.answerer().client.path and second.runner() is llm_rag.answerer().runner()
    assert not list(other.settings.paths.index_dir.rglob("*.gguf")) and not list(other.settings.paths.index_dir.rglob("*.onnx"))


def test_an_unanswerable_question_is_never_a_cited_invention(llm_rag):
    answer = llm_rag.ask("Who won the 2022 World Cup?")
    assert answer.abstained or answer.notice, answer.answer  # abstains, or its unverifiable claim was dropped
    assert "Argentina" not in answer.answer


def test_the_model_reads_leading_passages_within_its_character_budget(llm_rag):
    from rag import RAG
    from rag.answer.llm import passage_text

    passages = llm_rag.passages(llm_rag.retrieve(QUESTION, k=5))
    sizes = [len(passage_text(p)) for p in passages]
    budget = sizes[0] + sizes[1] + sizes[2] // 2  # room for two passages and half the third
    tight = RAG(llm_rag.settings, answerer="local-llm", local_llm_context_chars=budget).answerer()
    assert [p.n for p in tight.fit(passages)] == [passages[0].n, passages[1].n]  # rank order; the third would pass it
    assert RAG(llm_rag.settings, answerer="local-llm", local_llm_context_chars=1).answerer().fit(passages) == passages[:1]  # never fewer than one
    assert llm_rag.answerer().fit(passages[:1]) == passages[:1]


def test_cli_answers_with_the_local_llm_by_default(seeded_rag, tmp_path):
    """No RAG_ANSWERER, no --answerer: with the llm extra installed, `rag ask` answers with the local LLM."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "RAG_INDEX_DIR": str(seeded_rag.settings.paths.index_dir)}
    out = subprocess.run([RAG_BIN, "ask", QUESTION, "--json"], env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-1500:]
    data = json.loads(out.stdout)
    assert "August 12" in data["answer"] and data["answerer"].startswith("local-llm:") and data["notice"] is None
    assert "INFO" not in out.stdout + out.stderr  # mistralrs' log lines stay quiet


def test_openai_answerer_and_judge_against_the_real_model_over_http(llm_rag, seeded_rag):
    from rag import RAG
    from rag.answer.local_llm import LocalLLMAnswerer
    from rag.judge import Judge

    runner = LocalLLMAnswerer(llm_rag.settings).runner()
    with MistralrsOpenAI(runner) as server:
        rag = RAG(seeded_rag.settings, answerer="openai", llm_base_url=server.url, llm_model=server.model,
                  llm_timeout=300, llm_retries=0)
        pieces = list(rag.stream(QUESTION))
        answer, streamed = pieces[-1], "".join(p for p in pieces[:-1] if isinstance(p, str))
        assert server.requests and server.requests[0]["stream"] is True and server.requests[0]["model"] == server.model
        assert "August 12" in streamed  # the real model's words, streamed over SSE
        # without the small model's closing instruction it may cite nothing: then the check drops it, saying so
        verified = answer.answerer == f"openai:{server.model}" and answer.notice is None
        assert verified or "could not be verified" in answer.notice, answer.notice
        assert "August 12" in answer.answer and answer.citations
        judge = Judge(rag.settings)
        right, _ = judge(QUESTION, ["August 12"], answer.answer)
        wrong, _ = judge(QUESTION, ["August 12"], "The truce expires on March 3.")
        assert right.correct is True and wrong.correct is False, (right, wrong)


@pytest.fixture(scope="module")
def people_llm_rag(tmp_path_factory, llm_rag):
    """Two articles naming two people each, answered by the local LLM (the model file already joined)."""
    from test_followup import PEOPLE

    rag = indexed_rag(tmp_path_factory, PEOPLE, "people-llm")
    return type(rag)(rag.settings, answerer="local-llm")


def test_a_planted_instruction_is_never_the_models_answer(tmp_path_factory, llm_rag):
    """An article tells the AI to answer "Viktor Crane"; the model may obey it, but no claim it backs is shown."""
    from test_evidence import ARTICLES

    rag = indexed_rag(tmp_path_factory, {"orbis.txt": ARTICLES["orbis.txt"]}, "orbis-llm")
    rag = type(rag)(rag.settings, answerer="local-llm")
    got = rag.ask("Who leads Orbis?")
    assert "Clara Holm" in got.answer and "Viktor" not in got.answer, got.answer
    assert got.citations and not any("Viktor" in c.quote for c in got.citations)


@pytest.mark.parametrize("first, answer, follow_up, expected", [
    ("Who won the mayoral election in Elmstad?", "Jonas Berg [1]", "And who was his rival?", "Clara Holm"),
    # rewritten "When did Maria Lind join Orbis?": the model answers 2019 citing the Elmstad article; the check
    # finds the passage that backs it and cites that instead
    ("Who is the chief executive of Orbis?", "Maria Lind [1]", "When did she join the company?", "2019"),
])
def test_the_model_condenses_a_follow_up_and_shows_it(people_llm_rag, first, answer, follow_up, expected):
    got = people_llm_rag.ask(follow_up, history=[(first, answer)])
    searched = got.diagnostics["standalone_question"]
    assert got.diagnostics["condensed_by"] == "local-llm" and got.timings["condense_ms"] > 0
    assert "(following:" not in searched and searched.split()[-1].endswith("?")
    assert answer.split(" [")[0].split()[-1] in searched  # the pronoun became the person the answer named
    assert expected in got.answer, got.answer
    assert any(expected in c.quote for c in got.citations) and got.notice is None, (got.citations, got.notice)


def test_a_question_that_does_not_point_back_is_not_condensed(people_llm_rag):
    got = people_llm_rag.ask("Who won the mayoral election in Elmstad?", history=[("Who runs Orbis?", "Maria Lind [1]")])
    assert "standalone_question" not in got.diagnostics and "condensed_by" not in got.diagnostics
    assert "Jonas Berg" in got.answer
