"""rag/answer: answerers made by name behind one protocol (`request` says how many passages, `stream` answers
from them with a Context), and an LLM answerer's fallback seeing the same context as the local answerer."""
import pytest

from rag import answer, models
from rag.answer import ANSWERERS, Context, Request, create, resolve
from rag.errors import RagError
from rag.settings import Settings


def test_unknown_answerer_names_the_valid_ones():
    with pytest.raises(RagError) as e:
        create("gpt", Settings(), local=None)
    assert str(e.value) == "unknown answerer 'gpt'; use one of: 'auto', 'local', 'openai', 'local-llm'"
    assert set(ANSWERERS) == {"local", "openai", "local-llm"}


def test_auto_is_the_local_llm_only_where_it_is_installed_and_fits(monkeypatch):
    monkeypatch.setattr(models, "llm_installed", lambda: True)
    monkeypatch.setattr(models, "available_memory_gb", lambda: models.LLM_RESIDENT_GB + 1)
    assert resolve("auto") == "local-llm" and resolve("openai") == "openai" and resolve("local") == "local"
    monkeypatch.setattr(models, "available_memory_gb", lambda: models.LLM_RESIDENT_GB - 1)
    assert resolve("auto") == "local"  # too little memory: the instant answerer rather than a failure
    monkeypatch.setattr(models, "llm_installed", lambda: False)
    monkeypatch.setattr(models, "available_memory_gb", lambda: 64.0)
    assert resolve("auto") == "local"
    assert answer.AUTO == Settings().answer.answerer == "auto"


@pytest.mark.slow
def test_every_answerer_asks_for_the_same_passages(seeded_rag):
    """The LLM answerer reads the top k; it also fetches what its fallback would read beyond them."""
    local = seeded_rag.answerer("local")
    llm = create("openai", seeded_rag.settings, local)
    s = seeded_rag.settings.retrieval
    number = "What is the US tariff rate on Chinese goods?"
    assert local.request(number, 5) == Request(k=5, others=s.other_passages + s.number_depth)
    assert local.request("Who led the US side?", 5) == Request(k=5, others=s.other_passages)
    assert llm.request(number, 5, Context()) == local.request(number, 5)


@pytest.mark.slow
def test_an_llm_fallback_still_reports_the_conflict(seeded_rag):
    """With no LLM reachable the answer is the local one, built from the same passages and the ones beyond the
    top k that hold the other reports: the three figures for the tariff rate, not only the first."""
    from rag import RAG

    question = "What is the US tariff rate on Chinese goods?"
    local = seeded_rag.ask(question)
    offline = RAG(seeded_rag.settings._with({"answerer": "openai", "llm_base_url": None, "openai_api_key": None}))
    answer = offline.ask(question)
    assert answer.notice == "no OPENAI_API_KEY set; showing the extractive answer"
    assert answer.answer.startswith("Reports differ:") and answer.answer == local.answer
    assert len({c.doc_id for c in answer.citations}) == 3
