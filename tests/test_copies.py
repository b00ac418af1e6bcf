"""rag/answer/copies.py: another article's copy of the answer's sentence with one value changed is the other
side of a disagreement (RGB dev's counterfeit snippets; two outlets' versions of one wire story)."""
from __future__ import annotations

import pytest

from rag.answer.base import Passage
from rag.answer.copies import changed_copies, with_copies
from rag.types import Answer, Citation, Hit


def passage(n: int, doc_id: str, article: str, date: str | None = None) -> Passage:
    hit = Hit(chunk_id=f"{doc_id}:0", doc_id=doc_id, title=article.split("\n", 1)[0], source="test",
              published_at=date, score=1.0, text=article, start=0, end=len(article))
    return Passage(n=n, hit=hit, article=article)


VARGA = "Lakeside Open final\nAnna Varga defeated Mia Holt in the final to win the Lakeside Open title."
ROSS = "Lakeside Open result\nLena Ross defeated Mia Holt in the final to win the Lakeside Open title."


def cited(p: Passage, sentence: str, answer: str) -> Answer:
    start = p.article.index(sentence)
    c = Citation(n=1, doc_id=p.hit.doc_id, title=p.hit.title, source="test", published_at=p.hit.published_at,
                 quote=sentence, start=start, end=start + len(sentence))
    return Answer(text=answer, citations=[c], abstained=False, answer=answer, answerer="test")


def test_a_copy_with_the_answers_value_changed_is_the_other_side():
    a, b = passage(1, "a", VARGA, "2026-05-02"), passage(2, "b", ROSS, "2026-05-03")
    sentence = VARGA.split("\n")[1]
    answer = with_copies(cited(a, sentence, "Anna Varga won the Lakeside Open title [1]."), [a, b])
    assert answer.answer == ("Reports differ: Lena Ross [1] (reported 2026-05-03); Anna Varga [2] "
                             "(reported 2026-05-02)"), answer.answer
    assert [c.doc_id for c in answer.citations] == ["b", "a"]
    assert all(b.article[c.start:c.end] == c.quote for c in answer.citations if c.doc_id == "b")
    assert answer.diagnostics["single_answer"] == "Anna Varga won the Lakeside Open title [1]."


def test_a_date_changed_in_a_copy_is_one_whole_date():
    """Compared word by word, "September 7, 2018" and "September 1, 2020" differ in "7, 2018"; the NER
    makes it the whole date."""
    ours = "Marvel's Spider-Man was released on September 7, 2018, for the PlayStation 4."
    theirs = ours.replace("September 7, 2018", "September 1, 2020")
    copies = changed_copies(ours, "a", "It was released on September 7, 2018 [1].", [passage(2, "b", theirs)])
    assert [(c.ours, c.theirs) for c in copies] == [("September 7, 2018", "September 1, 2020")]


@pytest.mark.parametrize("other,doc_id", [
    (VARGA.split("\n")[1], "b"),  # the same sentence: no other value
    (ROSS.split("\n")[1], "a"),  # a changed sentence in the answer's own article is no other report
    ("Lena Ross beat Mia Holt in the semi-final on Friday before the Lakeside Open title match.", "b"),  # another sentence
    ("Lena Ross defeated Mia Holt in the final to win the Harbor Cup title.", "b"),  # two runs of words changed
])
def test_only_another_articles_copy_with_one_run_of_words_changed_counts(other, doc_id):
    copies = changed_copies(VARGA.split("\n")[1], "a", "Anna Varga won the Lakeside Open title [1].",
                            [passage(2, doc_id, other)])
    assert copies == []


def test_a_change_the_answer_does_not_give_is_no_other_side():
    """The copies differ in the loser; the answer names the winner, whom both copies give."""
    other = VARGA.split("\n")[1].replace("Mia Holt", "Ida Lund")
    assert changed_copies(VARGA.split("\n")[1], "a", "Anna Varga [1]", [passage(2, "b", other)]) == []


def test_an_answer_without_copies_is_left_as_it_is():
    a = passage(1, "a", VARGA)
    answer = cited(a, VARGA.split("\n")[1], "Anna Varga [1]")
    assert with_copies(answer, [a, passage(2, "b", "Harbor news\nThe harbor reopens on Monday.")]) is answer
