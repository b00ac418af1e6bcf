"""rag/sentences.py: sentence spans at exact offsets, trimmed of whitespace; abbreviations and decimals do not
end a sentence, closing quotes and brackets stay with it, a newline always ends one; only the sentences
overlapping [lo, hi) are returned."""
from __future__ import annotations

from rag.sentences import sentence_spans


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
