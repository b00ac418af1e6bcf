"""rag/text.py: sentence spans at exact offsets, trimmed of whitespace (abbreviations and decimals do not end a
sentence, closing quotes and brackets stay with it, a newline always ends one; only the sentences overlapping
[lo, hi) are returned); stems and word-form prefixes; the nested stopword sets; month names and dates."""
from __future__ import annotations

import re
from datetime import date

import pytest
from bm25s.stopwords import STOPWORDS_EN

from rag.text import (FILLER, FUNCTION_WORDS, MONTH_PATTERN, NUMBER, STOPWORDS, cjk_split, fuller_number, is_question,
                      month_number, parse_date, plural, prefix, sentence_spans, stem)


def test_stems_are_snowball_and_prefixes_five_letters():
    assert [stem(w) for w in ("Tariffs", "expired", "negotiations")] == ["tariff", "expir", "negoti"]
    assert prefix("negotiations") == prefix("negotiators") == "negot" and prefix("us") == "us"


def test_stopword_sets_nest_from_bm25s_list():
    assert STOPWORDS == frozenset(STOPWORDS_EN) and STOPWORDS < FUNCTION_WORDS < FILLER
    assert {"who", "when", "said"} <= FUNCTION_WORDS and "according" in FILLER - FUNCTION_WORDS
    assert "tariff" not in FILLER


def test_month_names_and_numbers():
    assert [month_number(w) for w in ("Aug.", "sept", "Sept.", "December", "may", "Ma", "Mayor", "junk")] == [
        8, 9, 9, 12, 5, None, None, None]
    found = [m.group() for m in re.finditer(rf"\b(?:{MONTH_PATTERN})(?!\w)", "On Sept. 5, Jan 3 and May 9, not Mayor")]
    assert found == ["Sept.", "Jan", "May"]


def test_dates_and_numbers():
    assert parse_date("2025/07/23") == date(2025, 7, 23) == parse_date("2025-07-23T10:00:00Z")
    assert parse_date("23 July") is None and parse_date(None) is None and parse_date("2025-02-30") is None
    assert NUMBER.findall("€3.5m, 1,200 tons and 7.") == ["3.5", "1,200", "7"]


def test_an_amount_told_more_precisely_is_the_same_amount_in_the_same_unit():
    assert fuller_number("$5", "$5.02") and fuller_number("2 million", "2.1 million")
    assert fuller_number("1,000", "1,000.4") and fuller_number("5.2%", "5.24%")
    assert not fuller_number("$5", "$5") and not fuller_number("$5", "$6.02") and not fuller_number("10", "10,000")
    assert not fuller_number("$5", "5.02 euros") and not fuller_number("2 million", "2.1 billion")
    assert not fuller_number("no figure", "$5.02")


def sentences(text: str, *bounds: int) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text, *bounds)]


def test_spans_are_exact_offsets_without_the_whitespace_between():
    text = "Talks ended. They resume on Monday!  Will the truce hold?"
    assert sentence_spans(text) == [(0, 12), (13, 35), (37, 57)]
    assert sentences(text) == ["Talks ended.", "They resume on Monday!", "Will the truce hold?"]


def test_abbreviations_initials_and_decimals_do_not_end_a_sentence():
    text = "Mr. Smith met Dr. Jones in the U.S. on Monday. Prices rose 2.5 percent. Acme Co. Ltd. paid on Sept. 5 now."
    assert sentences(text) == ["Mr. Smith met Dr. Jones in the U.S. on Monday.", "Prices rose 2.5 percent.",
                               "Acme Co. Ltd. paid on Sept. 5 now."]


def test_a_case_name_is_one_sentence():
    """"Roe v. Wade": the verifier had checked an LLM's "... overturned Roe v." and "Wade in June." as two
    claims, dropped the first and showed the fragment."""
    text = "The court overturned Roe v. Wade in June. Voters in Kansas rejected the amendment."
    assert sentences(text) == ["The court overturned Roe v. Wade in June.", "Voters in Kansas rejected the amendment."]


def test_an_abbreviation_ends_a_sentence_before_a_capitalised_function_word():
    """"... within the U.S. The fact sheet ..." is two sentences (the seeds had quoted a 300-character window
    of the two from mid-sentence); "the U.S. Trade Commission" and "Mr. Smith" stay whole."""
    text = "Jobs were lost within the U.S. The fact sheet cites the U.S. Trade Commission. Mr. Smith agreed."
    assert sentences(text) == ["Jobs were lost within the U.S.", "The fact sheet cites the U.S. Trade Commission.",
                               "Mr. Smith agreed."]


def test_closing_quotes_and_brackets_stay_with_their_sentence():
    text = 'He said "it is over." They left (for now.) Then “silence.” End'
    assert sentences(text) == ['He said "it is over."', "They left (for now.)", "Then “silence.”", "End"]


def test_repeated_marks_end_a_sentence_once():
    assert sentences("Wow!! Really?! Yes...") == ["Wow!!", "Really?!", "Yes..."]


def test_a_newline_ends_a_sentence_and_blank_lines_give_none():
    text = "  Headline without a stop\nFirst line. Second\n\n\n   Last part  "
    assert sentence_spans(text) == [(2, 25), (26, 37), (38, 44), (50, 59)]
    assert sentences(text) == ["Headline without a stop", "First line.", "Second", "Last part"]


def test_empty_and_blank_text_has_no_sentences_and_unended_text_is_one():
    assert sentence_spans("") == [] and sentence_spans(" \n\n\t ") == []
    assert sentence_spans("A sentence without an end") == [(0, 25)]


def test_only_sentences_overlapping_lo_hi_are_returned():
    text = "one. two. three. four."
    assert sentences(text, 5, 9) == ["two."]
    assert sentences(text, 3, 6) == ["one.", "two."]
    assert sentences(text, 4, 5) == []  # the space between: [lo, hi) touches neither
    assert sentences(text, 10) == ["three.", "four."]


def test_a_count_takes_its_noun_in_the_singular_only_for_one():
    """One helper for the CLI's index summary, the chat's article count and its upload lines."""
    assert [f"{n} {plural(n, 'chunk')}" for n in (0, 1, 2)] == ["0 chunks", "1 chunk", "2 chunks"]


@pytest.mark.parametrize("sentence,asks", [
    ("But which film has had the most deafening roar at the ticket booth?", True),
    ("“Who is going to pay for this?”", True),
    ("这次谈判什么时候结束？", True),
    ("The truce expires on August 12.", False),
    ("He asked why?, and left.", False),
])
def test_a_sentence_that_asks_is_told_from_one_that_states(sentence, asks):
    assert is_question(sentence) is asks


def test_cjk_runs_are_matched_as_character_bigrams():
    from rag.cite import content_terms
    from rag.segment import query_tokens, tokens

    assert cjk_split("图书馆") == ["图书", "书馆"] and cjk_split("馆") == ["馆"] and cjk_split("tariff") == ["tariff"]
    assert cjk_split("a股市") == ["股市"] and cjk_split("ab股") == ["ab", "股"]
    assert tokens("the 图书馆 opens, 九点开门") == ["the", "图书", "书馆", "opens", "九点", "点开", "开门"]
    assert query_tokens("the 图书馆 opens") == ["图书", "书馆", "open"]
    assert content_terms("图书馆开门 at nine") == {"图书", "书馆", "馆开", "开门", "nine"}

