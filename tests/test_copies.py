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


def whole(sentence: str) -> tuple[Passage, int, int]:
    """Article "a" holding only `sentence`, and the sentence's span."""
    return passage(1, "a", sentence), 0, len(sentence)


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
    copies = changed_copies(passage(1, "a", ours), 0, len(ours), "It was released on September 7, 2018 [1].",
                            [passage(2, "b", theirs)])
    assert [(c.ours, c.theirs) for c in copies] == [("September 7, 2018", "September 1, 2020")]


@pytest.mark.parametrize("other,doc_id", [
    (VARGA.split("\n")[1], "b"),  # the same sentence: no other value
    (ROSS.split("\n")[1], "a"),  # a changed sentence in the answer's own article is no other report
    ("Lena Ross beat Mia Holt in the semi-final on Friday before the Lakeside Open title match.", "b"),  # another sentence
    ("Lena Ross defeated Mia Holt in the final to win the Harbor Cup title.", "b"),  # two runs of words changed
])
def test_only_another_articles_copy_with_one_run_of_words_changed_counts(other, doc_id):
    copies = changed_copies(*whole(VARGA.split("\n")[1]), "Anna Varga won the Lakeside Open title [1].",
                            [passage(2, doc_id, other)])
    assert copies == []


def test_a_change_the_answer_does_not_give_is_no_other_side():
    """The copies differ in the loser; the answer names the winner, whom both copies give."""
    other = VARGA.split("\n")[1].replace("Mia Holt", "Ida Lund")
    assert changed_copies(*whole(VARGA.split("\n")[1]), "Anna Varga [1]", [passage(2, "b", other)]) == []


def test_an_answer_without_copies_is_left_as_it_is():
    a = passage(1, "a", VARGA)
    answer = cited(a, VARGA.split("\n")[1], "Anna Varga [1]")
    assert with_copies(answer, [a, passage(2, "b", "Harbor news\nThe harbor reopens on Monday.")]) is answer


@pytest.mark.parametrize("ours,theirs,quoted,answer,values", [
    # a snippet's dateline is a sentence of its own; the model's citation quotes it, the value is in the next
    ("Nov 30, 2017 ... Harbor Bank is bringing its assistant to branches with a new service called Wren for Business.",
     "Nov 30, 2017 ... Harbor Bank is bringing its assistant to branches with a new service called Kestrel for Business.",
     "Nov 30, 2017 ...", "Harbor Bank's assistant is Wren, announced on November 30, 2017 [1].", ("Wren", "Kestrel")),
    # one date written two ways and changed: several words differ, all inside one date
    ("October 19, 2011 ... Lumen has officially announced its new Orbit 6 and Orbit 6 Pro.",
     "Oct 19, 2021 ... Lumen has officially announced its new Orbit 6 and Orbit 6 Pro.",
     "October 19, 2011 ...", "The Orbit 6 was announced on October 19, 2011 [1].", ("October 19, 2011", "Oct 19, 2021")),
])
def test_a_copy_is_found_beside_a_quoted_fragment(ours, theirs, quoted, answer, values):
    a, b = passage(1, "a", ours, "2026-05-02"), passage(2, "b", theirs, "2026-05-01")
    copies = changed_copies(a, 0, len(quoted), answer, [a, b])
    assert [(c.ours, c.theirs) for c in copies] == [values]
    shown = with_copies(cited(a, quoted, answer), [a, b])
    assert shown.answer == (f"Reports differ: {values[0]} [1] (reported 2026-05-02); {values[1]} [2] "
                            "(reported 2026-05-01)"), shown.answer
    assert all(values[i] in c.quote for i, c in enumerate(shown.citations)), shown.citations  # the value is quoted


def test_two_changes_in_different_words_are_no_copy():
    """"Anna Varga" and the venue both changed: another report, not a copy with one value changed."""
    ours = "Mar 3, 2026 ... Anna Varga defeated Mia Holt in the final of the Lakeside Open on Sunday."
    theirs = "Mar 3, 2026 ... Lena Ross defeated Mia Holt in the final of the Harbor Cup on Sunday."
    assert changed_copies(passage(1, "a", ours), 0, 15, "Anna Varga [1]", [passage(2, "b", theirs)]) == []
