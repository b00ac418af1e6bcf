"""Compound questions and month-bound facts through the real pipeline (embedded Chroma, real embedder)."""
from __future__ import annotations

import pytest
from conftest import indexed_rag

from rag.answer.question import question_parts
from rag.cite import quote_ok

ARTICLES = {
    "wheat-march.txt": "date 2025-03-10\nEastbay holds off on grain.\n"
                       "The Eastbay council refused to commit to buying wheat until the port fees were removed. "
                       "Council members met twice in the town hall.\n",
    "wheat-may.txt": "date 2025-05-20\nEastbay grain deal.\n"
                     "The Eastbay council later agreed to purchase 40,000 tonnes of grain from Northwind farms.\n",
    "timber-deal.txt": "date 2025-02-03\nEastbay and Northwind deal.\n"
                        "Eastbay agreed to lower port fees in exchange for Northwind cracking down on the illegal "
                        "timber trade.\n",
    "timber-levy.txt": "date 2025-02-20\nNorthwind timber rules.\n"
                       "Northwind keeps a 15% levy on shipments linked to the illegal timber trade.\n",
    "port-levy.txt": "date 2025-03-15\nEastbay port charges.\n"
                     "Eastbay raised its general port levy rate to 8% this spring.\n",
    "levy-january.txt": "date 2025-01-30\nNorthwind fertiliser levy.\n"
                        "Northwind raised the levy on fertiliser imports to 8 per cent in January, officials said.\n",
    "levy-april.txt": "date 2025-04-28\nNorthwind farm costs.\n"
                      "This month Northwind raised the fertiliser import levy again, to 12 per cent.\n",
}


@pytest.fixture(scope="module")
def rag(tmp_path_factory):
    return indexed_rag(tmp_path_factory, ARTICLES, "compound")


def test_a_compound_question_splits_into_its_questions():
    assert question_parts("Which crop did they refuse, and how much of it did they buy?") == [
        "Which crop did they refuse?", "How much of it did they buy?"]
    assert question_parts("Who met in Geneva and who met in London?") == ["Who met in Geneva?", "Who met in London?"]
    one = "What phrase does Guo repeat before the talks and when asked about the visit?"
    assert question_parts(one) == [one]


@pytest.mark.slow
def test_each_part_of_a_compound_question_is_answered_and_cited(rag):
    a = rag.ask("Which crop did the Eastbay council refuse to commit to buying until the port fees were removed, "
                "and how much of it did the council later agree to purchase?")
    assert not a.abstained, a.text
    assert a.diagnostics["parts"] == 2 and a.diagnostics["parts_answered"] == 2, a.diagnostics
    assert [c.doc_id for c in a.citations] == ["wheat-march.txt", "wheat-may.txt"], a.text
    # the crop part asks for no typed value and its sentence names no "crop": it is answered by its quote
    assert "wheat" in a.citations[0].quote and a.answer.startswith("40,000 tonnes [2] ("), a.text
    for c in a.citations:
        assert quote_ok(c, rag.article(c.doc_id)["text"])


@pytest.mark.slow
def test_a_later_part_that_points_back_is_asked_about_what_the_first_answer_named(rag):
    """"tied to it" means the illegal timber trade the first answer named, not any levy rate."""
    a = rag.ask("What illicit trade did Eastbay want Northwind to crack down on, and what levy rate is tied to it?")
    assert [c.doc_id for c in a.citations] == ["timber-deal.txt", "timber-levy.txt"], a.text
    assert "illegal timber trade [1] and 15% [2]" in a.answer, a.text


@pytest.mark.slow
def test_a_month_in_the_question_picks_that_months_fact(rag):
    """A sentence that names another month ("in January") is another fact, however close its words."""
    a = rag.ask("What rate did Northwind raise the levy on fertiliser imports to in April?")
    assert a.text.startswith("12 per cent [1]"), a.text
