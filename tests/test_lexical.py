"""rag/lexical.py over five chunks of three articles, in memory: BM25 order for chunks and for whole articles
(titles included), typo correction (`correct`, `fix`) and the words it leaves alone, document frequencies and
idf, the share of chunks a date filter keeps; and several segments searched as one index: the same scores as
one bm25s index over all rows when lengths match, dead articles masked out."""
from __future__ import annotations

import math

import pytest

import bm25s

from rag.lexical import Lexical
from rag.retrieve import Filters
from rag.segment import Segment
from rag.store import day_number
from rag.text import stemmer

IDS = ["c0", "c1", "c2", "c3", "c4"]
TEXTS = ["The tariff truce between Washington and Beijing expires on August 12.",
         "Negotiators met in Stockholm to discuss the tariff truce.",
         "The ferry Nordlys will start service in July.",
         "Tickets for the ferry go on sale two weeks before the first sailing.",
         "A bakery opened in Eastbay selling rye bread."]
JULY_1, JUNE_1 = day_number("2025-07-01"), day_number("2025-06-01")
METAS = [{"doc_id": "trade.txt", "title": "Trade talks", "start": 0, "end": 69, "day": JULY_1},
         {"doc_id": "trade.txt", "title": "Trade talks", "start": 70, "end": 127, "day": JULY_1},
         {"doc_id": "ferry.txt", "title": "Nordlys timetable", "start": 0, "end": 45, "day": JUNE_1},
         {"doc_id": "ferry.txt", "title": "Nordlys timetable", "start": 46, "end": 114, "day": JUNE_1},
         {"doc_id": "bakery.txt", "title": "Bakery", "start": 0, "end": 44, "day": -1}]


@pytest.fixture(scope="module")
def lex():
    return Lexical.of(IDS, TEXTS, METAS)


def test_chunk_search_ranks_by_bm25_and_drops_chunks_without_a_query_word(lex):
    assert [cid for cid, _ in lex.search("tariff truce", 5)] == ["c1", "c0"]  # the shorter chunk first
    assert [cid for cid, _ in lex.search("ferry tickets", 5)] == ["c3", "c2"]
    assert [cid for cid, _ in lex.search("ferry tickets", 1)] == ["c3"]
    scores = [s for _, s in lex.search("tariff truce", 5)]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


def test_a_query_of_stopwords_or_unknown_words_finds_nothing(lex):
    assert lex.search("the of and", 5) == [] and lex.search("zebra", 5) == []
    assert lex.search_articles("zebra", 5) == []


def test_a_query_spelling_initials_with_dots_finds_the_chunks_that_write_them_plain():
    """"U.S." is no BM25 token (a token has two or more word characters), so a question that wrote it matched
    nothing where the articles write "US" (RGB: "Who won the women's singles U.S. Open in 2019?")."""
    lex = Lexical.of(["a", "b"], ["Andreescu won the US Open final in New York.", "Andreescu won the Open final in New York."],
                     [{"doc_id": d, "title": "", "start": 0, "end": 40, "day": -1} for d in ("a.txt", "b.txt")])
    for query in ("Who won the U.S. Open final?", "Who won the U. S. Open final?", "Who won the US Open final?"):
        assert [cid for cid, _ in lex.search(query, 2)] == ["a", "b"], query


def test_article_search_reads_each_article_whole_with_its_title(lex):
    assert [d for d, _ in lex.search_articles("ferry sailing", 3)] == ["ferry.txt"]
    assert [d for d, _ in lex.search_articles("timetable", 3)] == ["ferry.txt"]  # a word of the title only
    assert [d for d, _ in lex.search_articles("Stockholm Eastbay", 3)] == ["bakery.txt", "trade.txt"]  # shorter first


def test_articles_are_grouped_with_their_lead_chunk(lex):
    (seg,) = lex.segments
    assert seg.docs["doc_ids"] == ["trade.txt", "ferry.txt", "bakery.txt"] and seg.doc.tolist() == [0, 0, 1, 1, 2]
    assert [lex.lead(d) for d in seg.docs["doc_ids"]] == ["c0", "c2", "c4"]
    assert lex.metas_of(["c3", "nope"]) == {"c3": {"doc_id": "ferry.txt", "title": "Nordlys timetable", "source": "",
                                                   "published_at": "", "day": JUNE_1, "start": 46, "end": 114}}


def test_correct_replaces_misspelt_words_keeping_their_case(lex):
    fixed, fixes = lex.correct("When does the tarrif truse expire in Stokholm?")
    assert fixed == "When does the tariff truce expire in Stockholm?"
    assert fixes == {"tarrif": "tariff", "truse": "truce", "stokholm": "stockholm"}
    assert lex.correct("TARRIF talks in Stokholm") == ("TARIFF talks in Stockholm",
                                                       {"tarrif": "tariff", "stokholm": "stockholm"})
    assert lex.correct("When does the tariff truce expire?") == ("When does the tariff truce expire?", {})


def test_fix_maps_a_word_to_the_nearest_corpus_word(lex):
    assert lex.fix("tarif") == "tariff" and lex.fix("washingtn") == "washington"
    assert lex.fix("frry") == "ferry" and lex.fix("bakry") == "bakery"
    assert lex.fix("turce") == "truce"  # two letters swapped are one edit, all a five-letter word may have
    assert lex.fix("fxrrx") is None  # two edits from "ferry"


def test_fix_leaves_corpus_words_stems_english_words_short_words_and_digits_alone(lex):
    assert lex.fix("ferry") is None  # in the corpus
    assert lex.fix("ferries") is None and lex.fix("saling") is None  # their stems are ("ferri", "sale")
    assert lex.fix("zebra") is None  # an English word the corpus lacks
    assert lex.fix("xqzvw") is None  # no corpus word near
    assert lex.fix("rye") is None and lex.fix("teh") is None  # shorter than TYPO_MIN_LEN
    assert lex.fix("b4kery") is None


def test_doc_freq_counts_chunks_by_stem_and_a_compound_by_its_rarest_part(lex):
    assert lex.doc_freq(["tariff", "truces", "ferry", "bakery", "zebra"]) == [2, 2, 2, 1, 0]
    assert lex.doc_freq(["Stockholm-ferry", "US-China", "", "!"]) == [1, 0, None, None]
    # what BM25 does not index, no count says anything about: a stopword, a single character
    assert lex.doc_freq(["there", "6", "it's"]) == [None, None, None]


def test_idf_is_log_one_plus_n_minus_df_over_df_smoothed(lex):
    idf = lex.idf(["tariff", "bakery", "zebra"])
    assert idf.shape == (3,)
    assert idf.tolist() == pytest.approx([math.log(1 + 3.5 / 2.5), math.log(1 + 4.5 / 1.5), math.log(1 + 5.5 / 0.5)])
    assert idf[0] < idf[1] < idf[2]  # rarer is weightier


def test_share_is_the_fraction_of_chunks_a_date_filter_keeps(lex):
    assert lex.share(Filters()) == 0.8  # the undated chunk counts against any date filter
    assert lex.share(Filters(since="2025-06-15")) == 0.4
    assert lex.share(Filters(until="2025-06-15")) == 0.4
    assert lex.share(Filters(since="2026-01-01")) == 0.0


def test_an_empty_index_finds_and_fixes_nothing():
    empty = Lexical.of([], [], [])
    assert empty.search("tariff", 5) == [] and empty.search_articles("tariff", 5) == [] and len(empty) == 0
    assert empty.fix("tarrif") is None and empty.doc_freq(["tariff"]) == [0] and empty.metas_of(["c0"]) == {}


def test_one_segment_scores_are_bm25s_own(lex):
    index = bm25s.BM25()
    index.index(bm25s.tokenize(TEXTS, stopwords="en", stemmer=lex.stemmer, show_progress=False), show_progress=False)
    for query in ("tariff truce", "ferry tickets sale", "Stockholm bread"):
        expected = index.get_scores(bm25s.tokenize([query], stopwords="en", stemmer=lex.stemmer,
                                                   return_ids=False, show_progress=False)[0])
        got = dict(lex.search(query, 5))
        assert [got.get(i, 0.0) for i in IDS] == expected.tolist()  # exactly


def test_every_token_scores_as_in_bm25s():
    import random

    rng = random.Random(0)
    vocab = "the of ferry ferries harbour Harbour sailing sails tariff 2025 truce a an rye bread x y Stockholm".split()
    texts = [" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 30))) for _ in range(300)]  # empty ones too
    ours = Lexical.of([f"c{i}" for i in range(300)], texts, [{"doc_id": f"d{i}", "start": 0, "end": 1} for i in range(300)])
    ref = bm25s.BM25()
    ref.index(bm25s.tokenize(texts, stopwords="en", stemmer=stemmer(), show_progress=False), show_progress=False)
    assert set(ours.segments[0].chunks.vocab) == set(ref.vocab_dict) - {""}
    for token in ours.segments[0].chunks.vocab:
        assert ours.scores("chunks", token).tolist() == ref.get_scores([token]).tolist(), token  # exactly
    words = ours.segments[0].words
    assert words["harbour"] == sum(t.lower().split().count("harbour") for t in texts) and "2025" not in words


def _layout(parts: list[list[int]], dead: list[set[int]] | None = None) -> Lexical:
    return Lexical([Segment.build([IDS[i] for i in p], [TEXTS[i] for i in p], [METAS[i] for i in p], {}) for p in parts],
                   dead)


def _scores_by_id(lex: Lexical, query: str) -> dict[str, float]:
    """Live chunk id -> score."""
    found = lex.scores("chunks", query)
    return {} if found is None else {lex.chunk_id(r): float(x) for r, x in enumerate(found)
                                     if x > 0 and lex.metas_of([lex.chunk_id(r)])}


@pytest.mark.parametrize("parts", [[[0, 1, 2, 3], [4]], [[4], [2, 3], [0, 1]], [[0, 1], [2, 3], [4]]])
def test_segments_score_exactly_as_one_index(parts):
    whole, split = Lexical.of(IDS, TEXTS, METAS), _layout(parts)
    assert split.rows == 5 and len(split) == 5
    for query in ("tariff truce", "ferry tickets", "bakery Eastbay", "Washington ferry bread", "timetable"):
        assert _scores_by_id(split, query) == _scores_by_id(whole, query)
        assert sorted(split.search(query, 5)) == sorted(whole.search(query, 5))
        assert sorted(split.search_articles(query, 3)) == sorted(whole.search_articles(query, 3))
    assert split.doc_freq(["ferry", "bakery"]) == whole.doc_freq(["ferry", "bakery"]) == [2, 1]
    assert split.idf(["tariff"]).tolist() == whole.idf(["tariff"]).tolist()
    assert split.words == whole.words and split.fix("bakry") == "bakery"


def test_dead_articles_are_left_out_as_if_never_indexed():
    # the ferry article is dead in the first segment and indexed again, changed, in the second
    changed = "The ferry Nordlys starts service in August; tickets are on sale now."
    split = Lexical([Segment.build(IDS, TEXTS, METAS, {}),
                     Segment.build(["c2b"], [changed], [{**METAS[2], "end": len(changed)}], {})], [{1}, set()])
    fresh = Lexical.of([*IDS[:2], IDS[4], "c2b"], [*TEXTS[:2], TEXTS[4], changed],
                       [*METAS[:2], METAS[4], {**METAS[2], "end": len(changed)}])
    assert len(split) == 4 and split.rows == 6
    for query in ("ferry tickets", "tariff", "Nordlys August sale", "bread"):
        assert _scores_by_id(split, query) == _scores_by_id(fresh, query)
        assert split.search(query, 5) == fresh.search(query, 5)
        assert split.search_articles(query, 5) == fresh.search_articles(query, 5)
    assert [c for c, _ in split.search("ferry tickets", 5)] == ["c2b"] and split.lead("ferry.txt") == "c2b"
    assert split.metas_of(["c2", "c3", "c2b"]).keys() == {"c2b"} and split.doc_freq(["ferry"]) == [1]
    filters = Filters(until="2025-12-31")
    assert split.mask(filters).tolist() == [1, 1, 0, 0, 0, 1] and split.share(filters) == pytest.approx(3 / 4)
    assert [c for c, _ in split.search("ferry tariff", 5, split.mask(Filters(source="Trade")))] == ["c1", "c0"]
