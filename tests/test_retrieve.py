"""rag/retrieve.py without an index: reciprocal rank and distribution-based score fusion, the recency boost, per-article diversity, the
source and date filters (as a Chroma `where` and as a check on metadata), date parsing, recency questions
and the hit built from a stored chunk."""
from __future__ import annotations

from datetime import date

import pytest

from rag.errors import RagError
from rag.retrieve import Filters, diversify, fuse, fuse_scores, iso_date, recency_boost, spread, to_hit
from rag.text import wants_recent

JULY_1, JULY_31 = date(2025, 7, 1).toordinal(), date(2025, 7, 31).toordinal()


def test_fuse_adds_each_rankings_weight_over_k_plus_rank():
    scores = fuse([(["a", "b", "c"], 1.0), (["c", "a"], 0.5)], k=60)
    assert scores == pytest.approx({"a": 1 / 61 + 0.5 / 62, "b": 1 / 62, "c": 1 / 63 + 0.5 / 61})
    assert sorted(scores, key=scores.get, reverse=True) == ["a", "c", "b"]


def test_fuse_a_heavier_ranking_decides_and_nothing_ranked_is_nothing_scored():
    scores = fuse([(["a", "b"], 1.0), (["b", "a"], 3.0)], k=0)
    assert scores == pytest.approx({"a": 1 + 3 / 2, "b": 1 / 2 + 3})
    assert fuse([], k=60) == {} and fuse([([], 1.0)], k=60) == {}


def test_spread_maps_mean_minus_and_plus_three_sigma_to_0_and_1():
    got = spread([("a", 9.0), ("b", 5.0), ("c", 1.0)])  # mean 5, σ = sqrt(32 / 3)
    sigma = (32 / 3) ** 0.5
    assert got == pytest.approx({"a": (4 + 3 * sigma) / (6 * sigma), "b": 0.5, "c": (3 * sigma - 4) / (6 * sigma)})
    assert spread([("a", 0.7), ("b", 0.7)]) == {"a": 0.0, "b": 0.0}  # a tie says nothing
    assert spread([]) == {}


def test_fuse_scores_weighs_each_lists_spread_and_keeps_a_weight_0_lists_ids():
    dense, bm25 = [("a", 0.9), ("b", 0.5), ("c", 0.4)], [("c", 12.0), ("d", 3.0)]
    got = fuse_scores([(dense, 1.0), (bm25, 0.0)])
    assert got == pytest.approx({**spread(dense), "d": 0.0})
    both = fuse_scores([(dense, 1.0), (bm25, 2.0)])
    assert both["c"] == pytest.approx(spread(dense)["c"] + 2 * spread(bm25)["c"])
    # with BM25 weighing 2, its leader "c" leads the fusion although dense puts "a" first
    assert max(both, key=both.get) == "c"


def test_recency_boost_halves_the_extra_per_half_life_from_the_newest():
    metas = {"new": {"day": 100}, "older": {"day": 90}, "undated": {"day": -1}, "no-day": {}}
    out = recency_boost(dict.fromkeys(metas, 2.0), metas, half_life=10, as_of=None)
    # factor 0.5 + 0.5 * 2^(-age / half_life); an undated chunk counts as three half-lives old
    assert out == pytest.approx({"new": 2.0, "older": 1.5, "undated": 1.125, "no-day": 1.125})


def test_recency_boost_measures_age_from_as_of_and_never_rewards_the_future():
    metas = {"past": {"day": 90}, "future": {"day": 130}}
    out = recency_boost({"past": 1.0, "future": 1.0}, metas, half_life=10, as_of=110)
    assert out == pytest.approx({"past": 0.625, "future": 1.0})


def test_recency_boost_leaves_scores_alone_without_any_dated_candidate():
    scores = {"a": 0.3, "b": 0.2}
    assert recency_boost(scores, {"a": {"day": -1}, "b": {}}, half_life=30, as_of=None) == {"a": 0.3, "b": 0.2}


def test_diversify_moves_an_articles_extra_chunks_behind_the_others_in_order():
    metas = {c: {"doc_id": c[0]} for c in ("a1", "a2", "a3", "a4", "b1", "b2", "c1")}
    ranked = ["a1", "a2", "a3", "b1", "a4", "b2", "c1"]
    assert diversify(ranked, metas, per_doc=2) == ["a1", "a2", "b1", "b2", "c1", "a3", "a4"]
    assert diversify(ranked, metas, per_doc=1) == ["a1", "b1", "c1", "a2", "a3", "a4", "b2"]
    assert diversify(ranked, metas, per_doc=10) == ranked


def test_filters_where_is_the_date_range_as_day_numbers_and_excludes_undated():
    assert Filters().where() is None
    assert Filters(source="reuters").where() is None  # the source is checked on metadata, not in Chroma
    assert Filters(since="2025-07-01", until="2025/07/31").where() == {"$and": [
        {"day": {"$gte": JULY_1}}, {"day": {"$lte": JULY_31}}, {"day": {"$gte": 0}}]}
    assert Filters(until="2025-07-31").where() == {"$and": [{"day": {"$lte": JULY_31}}, {"day": {"$gte": 0}}]}
    assert Filters(since="2025-07-01").days == (JULY_1, None)


def test_filters_accepts_a_source_in_the_source_id_or_title_case_insensitively():
    meta = {"source": "/data/wire.txt", "doc_id": "wire.txt", "title": "By Jane Doe, REUTERS", "day": JULY_1}
    assert Filters(source="reuters").accepts(meta)
    assert Filters(source="WIRE").accepts(meta)
    assert not Filters(source="bloomberg").accepts(meta)
    assert Filters().accepts({})  # no filter: even a record without metadata


def test_filters_accepts_the_date_range_inclusive_and_no_undated_article():
    july = Filters(since="2025-07-01", until="2025-07-31")
    assert july.accepts({"day": JULY_1}) and july.accepts({"day": JULY_31})
    assert not july.accepts({"day": JULY_1 - 1}) and not july.accepts({"day": JULY_31 + 1})
    assert not july.accepts({"day": -1}) and not july.accepts({})
    assert Filters(until="2025-07-31").accepts({"day": 1}) and not Filters(since="2025-07-01").accepts({"day": -1})
    assert not Filters(source="wire", since="2025-07-01").accepts({"source": "wire", "day": JULY_1 - 1})


def test_iso_date_reads_the_day_of_common_spellings_and_names_a_bad_one():
    assert iso_date("2025-07-04") == "2025-07-04"
    assert iso_date("2025/07/04") == "2025-07-04"
    assert iso_date("2022-06-16T10:00:00Z") == "2022-06-16"
    with pytest.raises(RagError, match=r"not a date: 'July 4' \(use YYYY-MM-DD\)"):
        iso_date("July 4")
    with pytest.raises(RagError, match="not a date"):
        Filters(since="2025-13-01").where()


@pytest.mark.parametrize("question,recent", [
    ("What is the latest tariff rate?", True),
    ("Who is currently the trade representative?", True),
    ("Is the strike still going on?", True),
    ("What is the most recent figure?", True),
    ("What happened recently in Stockholm?", False),  # a quiz's "recently" means a given week
    ("When does the tariff truce expire?", False),
    ("Where is the nowhere bridge?", False),  # "now" only as a word
])
def test_wants_recent(question, recent):
    assert wants_recent(question) is recent


def test_to_hit_reads_a_chunks_metadata():
    meta = {"doc_id": "a.txt", "title": "T", "source": "s.txt", "published_at": "", "start": "12", "end": 40}
    hit = to_hit("a-0", 0.123456789, "chunk text", meta)
    assert (hit.chunk_id, hit.doc_id, hit.title, hit.source, hit.published_at) == ("a-0", "a.txt", "T", "s.txt", None)
    assert (hit.score, hit.text, hit.start, hit.end) == (0.123457, "chunk text", 12, 40)
    dated = to_hit("b-0", 1.0, "x", {"doc_id": "b", "start": 0, "end": 1, "published_at": "2025-07-01"})
    assert dated.published_at == "2025-07-01" and (dated.title, dated.source) == ("", "")
