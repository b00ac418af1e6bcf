"""A "who" answer is the person most sources name: when the best-matching sentence names one person and
several other articles name another, the extractive answerer answers with the one the articles agree on
(rag/answer/corroborate.py). The rule itself on plain values, then the real pipeline over invented snippets."""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from conftest import indexed_rag  # noqa: E402

from rag.answer.corroborate import corroborated  # noqa: E402


@dataclass(eq=False)
class Said:
    text: str
    score: float
    doc: str
    names: tuple[str, ...]
    answer: str


def choose(*said: Said, margin: float = 0.35) -> Said:
    by_text = {s.text: s for s in said}
    return corroborated(list(said), lambda t: list(by_text[t].names), lambda t: by_text[t].answer,
                        lambda s: s.doc, margin)


BEST = Said("Young Lilly plays Diana.", 0.87, "a", ("Lilly",), "Lilly")


def test_a_name_two_other_articles_give_wins_over_the_best_sentences():
    gadot = Said("Gal Gadot returns as Diana.", 0.80, "b", ("Gal Gadot",), "Gal Gadot")
    surname = Said("Gadot reprises the role.", 0.70, "c", ("Gadot", "Patty"), "Patty")
    assert choose(BEST, gadot, surname) is gadot  # "Gadot" counts for "Gal Gadot"


def test_one_article_repeating_a_name_is_one_source():
    first = Said("Gal Gadot returns as Diana.", 0.80, "b", ("Gal Gadot",), "Gal Gadot")
    again = Said("Gal Gadot said she loved it.", 0.75, "b", ("Gal Gadot",), "Gal Gadot")
    assert choose(BEST, first, again) is BEST


def test_a_name_the_best_sentence_states_and_passes_over_does_not_win():
    best = Said("Bessent met a delegation led by He Lifeng.", 0.70, "a", ("Bessent", "He Lifeng"), "He Lifeng")
    others = [Said(f"Bessent spoke {i}.", 0.6, d, ("Bessent",), "Bessent") for i, d in enumerate("bc")]
    assert choose(best, *others) is best


def test_only_close_sentences_vote():
    far = [Said(f"Gal Gadot {i}.", 0.40, d, ("Gal Gadot",), "Gal Gadot") for i, d in enumerate("bcd")]
    assert choose(BEST, *far) is BEST


SNIPPETS = {
    "preview.txt": "Glenmoor Open preview\n\nCaddie Tom Reyes walked every hole of the 2031 Glenmoor Open, won on "
                   "Sunday in front of record crowds.\n",
    "wire.txt": "Rika Sato takes the title\n\nRika Sato won the Glenmoor Open on Sunday by two strokes.\n",
    "profile.txt": "A first for Japan\n\nSato became the first Japanese golfer to win the Glenmoor Open.\n",
    "club.txt": "Club news\n\nRika Sato lifted the Glenmoor trophy after the final round of the Open.\n",
}


@pytest.mark.slow
def test_the_winner_most_articles_name_answers(tmp_path_factory):
    rag = indexed_rag(tmp_path_factory, SNIPPETS, "corroborate")
    answer = rag.ask("Who won the 2031 Glenmoor Open?", answerer="local")
    assert answer.answer.startswith("Rika Sato"), answer.text
    assert "Sato" in answer.citations[0].quote
