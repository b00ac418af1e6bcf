"""rag/cite.py: a quote must sit verbatim at its offsets (`quote_ok`), a claim's content words (`content_terms`)
and how much of a claim its quotes back (`support`), numbers all or nothing."""
from __future__ import annotations

import pytest

from rag.cite import content_terms, quote_ok, support
from rag.types import Citation

ARTICLE = "Talks were held in Stockholm. The 90-day truce is set to expire on August 12. Officials declined to comment."
QUOTE = "The 90-day truce is set to expire on August 12."


def citation(quote: str, start: int, end: int) -> Citation:
    return Citation(n=1, doc_id="a.txt", title="T", source="a.txt", published_at=None, quote=quote, start=start,
                    end=end)


def test_quote_ok_only_at_its_exact_offsets():
    start = ARTICLE.index(QUOTE)
    assert quote_ok(citation(QUOTE, start, start + len(QUOTE)), ARTICLE)
    assert not quote_ok(citation(QUOTE, start + 1, start + 1 + len(QUOTE)), ARTICLE)  # shifted by one
    assert not quote_ok(citation(QUOTE.replace("12", "13"), start, start + len(QUOTE)), ARTICLE)  # altered
    assert not quote_ok(citation(QUOTE, start, start + len(QUOTE) - 1), ARTICLE)  # end cut short


def test_quote_ok_rejects_empty_quotes_and_offsets_outside_the_article():
    assert not quote_ok(citation("", 0, 0), ARTICLE)
    assert not quote_ok(citation(" ", 5, 6), ARTICLE)
    assert not quote_ok(citation("Officials", -1, 8), ARTICLE)
    tail = "comment."
    assert quote_ok(citation(tail, len(ARTICLE) - len(tail), len(ARTICLE)), ARTICLE)
    assert not quote_ok(citation(tail, len(ARTICLE) - len(tail), len(ARTICLE) + 1), ARTICLE)


def test_content_terms_drop_filler_and_short_words_and_keep_numbers():
    assert content_terms("The truce is set to expire on August 12, 2025.") == {"truce", "expire", "august", "12",
                                                                                 "2025"}
    assert content_terms("Tariffs of 145% hit 1,000 firms in the US") == {"tariffs", "145", "hit", "1000", "firms"}
    assert content_terms("What did he say, according to them?") == set()
    assert content_terms("How do the articles describe the US-China deal?") == {"us-china", "deal"}


def test_content_terms_spell_a_month_one_way():
    assert content_terms("Aug. 12") == content_terms("August 12") == {"august", "12"}
    assert content_terms("Sept and September") == {"september"}
    # only a month's own spellings: "market" and "decision" are no months, which the citation check requires
    assert content_terms("market decision by the mayor") == {"market", "decision", "mayor"}


def test_support_is_the_share_of_claim_words_in_the_quotes():
    assert support("The truce ends on August 12 [1].", [QUOTE]) == 0.75  # truce, august, 12; not "ends"
    assert support("The 90-day truce is set to expire on August 12 [1].", [QUOTE]) == 1.0
    assert support("Officials were meeting.", ["The official met."]) == 0.5  # "officials" by its stem, "meeting" not
    assert support("Talks in Stockholm and Geneva.", [QUOTE, ARTICLE[:29]]) == pytest.approx(2 / 3)  # from two quotes


def test_support_needs_every_number_of_the_claim():
    assert support("The truce expires on August 13.", [QUOTE]) == 0.0
    assert support("The truce expires on August 12, 2026.", [QUOTE]) == 0.0
    assert support("The truce expires on August 12.", []) == 0.0


def test_support_ignores_citation_markers_and_words_relating_the_sources():
    assert support("Reports differ: an earlier report names the truce [1][2].", [QUOTE]) == 1.0
    assert support("[12]", []) == 1.0  # a marker is no number to find
    assert support("What is it?", []) == 1.0  # no content word: nothing to back
