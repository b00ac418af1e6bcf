"""The llama.cpp path end to end: the real server with the packaged GGUF, answering over the seeds via rag.RAG.

Skipped, with the reason printed, where the `[llm]` extra or the GGUF package is not installed.
"""
from __future__ import annotations

import json
import os
import urllib.request

import pytest
from conftest import SEEDS, run_rag

from rag import RAG
from rag.answer.llamacpp import find_gguf, local_model_name, missing_server_modules, start_local_llm
from rag.errors import RagError
from rag.settings import Settings

TRUCE_Q = "When does the tariff truce expire?"
UNANSWERABLE_Q = "Who won the 2022 World Cup?"


def skip_reason() -> str | None:
    missing = missing_server_modules()
    if missing:
        return f"the [llm] extra is not installed ({', '.join(missing)} missing)"
    try:
        find_gguf(Settings())
    except RagError as e:
        return str(e)
    return None


@pytest.fixture(scope="module")
def server():
    reason = skip_reason()
    if reason:
        print(f"\nskipping the llama.cpp tests: {reason}")
        pytest.skip(reason)
    base_url, stop = start_local_llm(Settings())
    yield base_url
    stop()


@pytest.fixture(scope="module")
def llama_rag(server, seeded_rag):
    return RAG(seeded_rag.settings, local_llm_url=server, answerer="llamacpp")


def assert_citations_verbatim(rag: RAG, answer) -> None:
    for c in answer.citations:
        assert f"[{c.n}]" in answer.text
        assert rag.article(c.doc_id)["text"][c.start:c.end] == c.quote


def test_truce_answer_is_cited_and_verified(llama_rag):
    answer = llama_rag.ask(TRUCE_Q)
    print(f"\n{answer.answerer}: {answer.text!r} notice={answer.notice!r} diagnostics={answer.diagnostics}")
    assert "llm_ms" in answer.timings, "the llama.cpp server was not asked"
    assert answer.diagnostics["llm_model"] == local_model_name(llama_rag.settings)
    assert not answer.abstained
    assert "August 12" in answer.text
    assert any("August 12" in c.quote for c in answer.citations)
    assert_citations_verbatim(llama_rag, answer)


def test_streaming_ends_in_the_verified_answer(llama_rag):
    pieces = list(llama_rag.stream(TRUCE_Q))
    *text, answer = pieces
    assert text and all(isinstance(p, str) for p in text)
    assert "August 12" in answer.text
    assert_citations_verbatim(llama_rag, answer)


def test_unanswerable_question_abstains_or_falls_back(llama_rag):
    answer = llama_rag.ask(UNANSWERABLE_Q)
    print(f"\n{answer.answerer}: {answer.text!r} notice={answer.notice!r} diagnostics={answer.diagnostics}")
    assert answer.abstained or answer.notice, "an unverifiable LLM answer was shown as verified"
    assert "Argentina" not in answer.text
    assert_citations_verbatim(llama_rag, answer)


def test_stop_ends_the_server_process(server):
    base_url, stop = start_local_llm(Settings())
    with urllib.request.urlopen(f"{base_url}/models", timeout=5) as r:
        assert json.load(r)["data"]
    os.kill(stop.pid, 0)  # running
    stop()
    with pytest.raises(ProcessLookupError):
        os.kill(stop.pid, 0)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"{base_url}/models", timeout=5)
    stop()  # a second call is harmless


def test_cli_ask_local_llm_answers_with_the_local_model(server, tmp_path):
    result = run_rag("ask", "--local-llm", "--json", TRUCE_Q,
                     env={"RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_SEEDS_DIR": str(SEEDS), "RAG_CHROMA_URL": ""})
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["diagnostics"]["llm_model"] == local_model_name(Settings())
    assert "August 12" in answer["answer"]


def test_missing_gguf_is_a_one_line_error(tmp_path):
    result = run_rag("ask", "--local-llm", TRUCE_Q,
                     env={"RAG_LOCAL_LLM_MODEL": str(tmp_path / "missing.gguf"), "RAG_INDEX_DIR": str(tmp_path / "i")})
    assert result.returncode == 2
    assert result.stderr.startswith("rag: error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "i").exists()
