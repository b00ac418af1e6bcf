"""A question typed all in lower case is recased from the passages retrieved for it before the extractive
answerer reads it (rag/truecase.py): its NER and date rules need the case, retrieval does not."""
from __future__ import annotations

import pytest

from rag.truecase import truecased

TEXTS = ["The US slapped tariffs on Chinese goods in August. Officials said the US would act.",
         "US-China talks resume. The truce ends on August 12, the US said; officials told us little.",
         "Will the talks go on? Nobody knows."]


def test_each_word_takes_its_usual_mid_sentence_form():
    assert truecased("what is the us tariff rate on chinese goods", TEXTS) == "What is the US tariff rate on Chinese goods"
    assert truecased("will the tariff truce end on august 12", TEXTS) == "Will the tariff truce end on August 12"
    assert truecased("how did us-china talks go?", TEXTS) == "How did US-China talks go?"
    # "The" and "Will" open sentences, so they say nothing; a word the passages lack stays as typed
    assert truecased("the zebra will nod", TEXTS) == "The zebra will nod"


def test_a_question_with_a_capital_is_left_as_typed():
    assert truecased("What is the us rate?", TEXTS) == "What is the us rate?"


@pytest.mark.slow
def test_a_lower_case_question_gets_the_cased_questions_answer(seeded_rag):
    cased = seeded_rag.ask("Will the tariff truce end on August 12?", answerer="local")
    lower = seeded_rag.ask("will the tariff truce end on august 12", answerer="local")
    assert cased.answer.startswith("Reports differ:"), cased.answer
    assert lower.answer == cased.answer
