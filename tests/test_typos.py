"""Typo-tolerant search over the real seeds index: misspelt question words are corrected to corpus words
(SymSpell over the BM25 vocabulary, cached with it) before retrieval and answering."""
from __future__ import annotations

import pytest

from rag import RAG
from rag.lexical import Lexical


@pytest.mark.slow
def test_misspelt_question_gets_the_clean_answer(seeded_rag):
    clean = seeded_rag.ask("When does the tariff truce expire?")
    typo = seeded_rag.ask("When does the tarrif truce expire?")
    assert "August 12" in clean.answer
    assert typo.answer == clean.answer
    assert typo.diagnostics["spelling_corrected"] == "When does the tariff truce expire?"
    assert "spelling_corrected" not in clean.diagnostics


@pytest.mark.slow
def test_swapped_letters_and_casing(seeded_rag):
    lex = seeded_rag.retriever.lexical
    fixed, fixes = lex.correct("Who led the Chinse side at the Stokholm talks?")
    assert fixed == "Who led the Chinese side at the Stockholm talks?"
    assert fixes == {"chinse": "chinese", "stokholm": "stockholm"}
    assert lex.correct("What did Besent say?")[0] == "What did Bessent say?"  # one letter missing from a name


def test_equally_near_words_prefer_the_same_first_letter(tmp_path):
    texts = ["Since Monday the prince has stayed home.", "It has rained since May.", "Nothing changed since then."]
    lex = Lexical.of([f"c{i}" for i in range(3)], texts, [{"doc_id": f"d{i}", "start": 0, "end": 9} for i in range(3)],
                     speller_path=tmp_path / "speller.pickle")
    assert lex.words["since"] == 3 and lex.words["prince"] == 1
    assert lex.fix("pince") == "prince"  # one edit from both; "since" is three times as frequent
    assert lex.fix("sinse") == "since"


@pytest.mark.slow
def test_words_left_alone(seeded_rag):
    lex = seeded_rag.retriever.lexical
    for question in ("When does the tariff truce expire?",  # every word is in the corpus
                     "Was the truce extended by 90 days in 2025?",  # numbers
                     "Did the taks go well?",  # ... and only 4+ letter words are looked at: "taks" is, "Did" is not
                     "Who won the marathon?"):  # an English word the corpus lacks is not a typo of a corpus word
        fixed, fixes = lex.correct(question)
        assert all(len(w) >= 4 and not w.isdigit() for w in fixes), fixes
    assert lex.correct("Was the truce extended by 90 days in 2025?") == ("Was the truce extended by 90 days in 2025?", {})
    assert lex.correct("Who won the marathon?") == ("Who won the marathon?", {})
    assert "marathon" not in lex.words and lex.fix("marathon") is None and lex.fix("truce") is None


@pytest.mark.slow
def test_speller_is_cached_with_the_bm25_cache(seeded_rag):
    lex = seeded_rag.retriever.lexical
    lex.fix("stokholm")  # builds the speller, or reads it back
    assert lex.speller_path.is_file() and lex.speller_path.parent == seeded_rag.retriever.cache.root
    loaded = Lexical(lex.segments, spelling=lex.spelling, speller_path=lex.speller_path)
    assert loaded.fix("stokholm") == "stockholm"
    assert loaded.speller.words == lex.speller.words  # read back from the pickle, not a different dictionary


def test_the_cached_speller_is_topped_up_with_a_new_segments_words(tmp_path):
    from rag.segment import Segment

    path = tmp_path / "speller.pickle"
    first = Segment.build(["c0"], ["The harbour ferry sails at dawn."], [{"doc_id": "d0", "start": 0, "end": 9}], {})
    assert Lexical([first], speller_path=path).fix("harbuor") == "harbour" and path.is_file()
    second = Segment.build(["c1"], ["A lighthouse keeper retired."], [{"doc_id": "d1", "start": 0, "end": 9}], {})
    both = Lexical([first, second], speller_path=path)
    assert both.fix("lighthuose") == "lighthouse" and both.fix("harbuor") == "harbour"
    assert Lexical([first, second], speller_path=path).speller.words == both.speller.words  # saved with the new word


@pytest.mark.slow
def test_correction_can_be_switched_off(seeded_rag):
    off = RAG(seeded_rag.settings, typo_correction=False)
    answer = off.ask("When does the tarrif truce expire?")
    assert "spelling_corrected" not in answer.diagnostics
    assert off.settings.retrieval.typo_correction is False and seeded_rag.settings.retrieval.typo_correction is True


def test_a_typo_of_another_form_of_a_corpus_word(tmp_path):
    """The corpus writes "exemptions"; "exmept" is four edits from it and one from the English "exempt", whose
    stem it shares: the speller holds the English forms of corpus stems too."""
    texts = ["Smartphones won exemptions from the tariffs.", "The ferry sails at dawn."]
    lex = Lexical.of(["c0", "c1"], texts, [{"doc_id": f"d{i}", "start": 0, "end": 9} for i in range(2)],
                     speller_path=tmp_path / "speller.pickle")
    assert "exempt" not in lex.words
    assert lex.correct("Which products did Trump exmept?") == ("Which products did Trump exempt?", {"exmept": "exempt"})
    assert lex.fix("smartphnes") == "smartphones"  # corpus words still count
    assert lex.fix("zzexmept") is None
