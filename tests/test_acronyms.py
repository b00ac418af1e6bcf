"""Acronyms a question uses and the corpus spells out (rag/acronyms.py): indexed by initials with the BM25
segments, expanded before retrieval and answering."""
from __future__ import annotations

import pytest

from rag.acronyms import acronyms, merge, most_used
from rag.lexical import Lexical
from rag.segment import Segment

TEXTS = ["U.S. Trade Representative Jamieson Greer met the delegation on Monday.",
         "In the White House's National Security Strategy, released on Friday, the Department of Defense is named.",
         "The U.S. Trade Representative's office declined to comment. NATO allies met in Brussels."]


def _lexical(path=None) -> Lexical:
    metas = [{"doc_id": f"d{i}", "start": 0, "end": len(t)} for i, t in enumerate(TEXTS)]
    return Lexical([Segment.build([f"c{i}" for i in range(len(TEXTS))], TEXTS, metas, {}, path)])


def test_capitalised_phrases_are_keyed_by_their_initials():
    table = most_used(TEXTS)
    assert merge([table, table])["USTR"] == ("U.S. Trade Representative", 4)  # counts add up across segments
    assert table["USTR"] == ("U.S. Trade Representative", 2)  # the possessive is no part of the name
    assert table["NSS"][0] == "National Security Strategy"
    assert table["DOD"][0] == table["DD"][0] == "Department of Defense"  # with and without the joiner's letter
    assert table["WH"][0] == "White House"
    # a run never crosses punctuation or a sentence end, and a leading "The"/"In" is no part of it
    assert not any(p.startswith(("The ", "In ")) or "comment" in p for p, _ in table.values())
    assert "NSSF" not in table and "FTDOD" not in table and "FDOD" not in table  # "Strategy, released on Friday, the"


def test_question_acronyms():
    assert acronyms("Who is the USTR, and what did the U.S. say?") == [("USTR", "USTR"), ("U.S.", "US")]
    assert acronyms("WHO IS THE USTR?") == []  # all capitals mark nothing


def test_only_acronyms_the_corpus_never_uses_are_expanded(tmp_path):
    lex = _lexical(tmp_path / "s")
    assert lex.expand("Who is the USTR?") == ("Who is the U.S. Trade Representative?",
                                              {"USTR": "U.S. Trade Representative"})
    assert lex.expand("When was the NSS released?")[0] == "When was the National Security Strategy released?"
    assert lex.expand("Is the NSS a GNSSX?")[0] == "Is the National Security Strategy a GNSSX?"  # whole words only
    assert lex.expand("Where did NATO allies meet?") == ("Where did NATO allies meet?", {})  # the corpus uses it
    assert lex.expand("What did the IMF say?") == ("What did the IMF say?", {})  # no phrase has those initials
    loaded = Lexical([Segment.load(tmp_path / "s")])
    assert loaded.expand("Who is the USTR?")[0] == "Who is the U.S. Trade Representative?"


@pytest.mark.slow
def test_an_acronym_gets_the_spelt_out_questions_answer(seeded_rag):
    spelt = seeded_rag.ask("Who is the US Trade Representative?", answerer="local")
    short = seeded_rag.ask("Who is the USTR?", answerer="local")
    assert "Greer" in spelt.answer and "Gilliam" in spelt.answer
    assert short.answer == spelt.answer
    assert short.diagnostics["spelling_corrected"] == "Who is the U.S. Trade Representative?"
    # "U.S." in the question leads up to both officials in "U.S. Treasury Secretary Scott Bessent and U.S.
    # Trade Representative Jacquelyn Gilliam": the name more of its words lead up to is the answer
    dotted = seeded_rag.ask("Who is the U.S. Trade Representative?", answerer="local")
    assert dotted.answer == spelt.answer and "Bessent" not in dotted.answer


@pytest.mark.slow
def test_the_cli_says_what_it_searched_for(seeded_rag, tmp_path):
    from conftest import run_rag

    env = {"RAG_INDEX_DIR": str(seeded_rag.settings.paths.index_dir)}
    got = run_rag("ask", "Who is the USTR?", "--answerer", "local", env=env)
    assert got.returncode == 0, got.stderr
    assert "Greer" in got.stdout and "(searched for: Who is the U.S. Trade Representative?)" in got.stderr, got.stderr
