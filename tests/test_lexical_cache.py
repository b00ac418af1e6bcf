"""rag/lexical_cache.py against a real embedded Chroma with hand-made 3-d vectors (no model): the first build
streams the store into whole-article segments; later syncs read only the article records and the changed
articles' chunks (never the whole store), mask changed and removed articles, pick up a record written
without a stamp, merge small segments and rewrite a mostly dead one; another process's cache folder is
read, not rebuilt; a cache of another store or format is rebuilt; articles removed by `Indexer.remove` go
from every segment, leaving the scores a fresh index gives."""
from __future__ import annotations

import json

import numpy as np
import pytest

from rag.indexer import Indexer
from rag.lexical import Spelling
from rag.lexical_cache import LexicalCache
from rag.settings import Settings
from rag.store import Store, generation
from rag.types import Chunk, Document


def article(n: int, words: str, version: str = "v1", chunks: int = 2) -> tuple:
    """Article `d{n}.txt` of `chunks` chunks saying `words`, as a `Store.write` batch row."""
    doc_id = f"d{n}.txt"
    parts = [f"{words} section{j} of article{n}." for j in range(chunks)]
    text = " ".join(parts)
    doc = Document(doc_id=doc_id, title=f"Title {n}", text=text, source=doc_id, published_at="2025-07-01",
                   content_hash=f"{doc_id}-{version}")
    spans, at = [], 0
    for p in parts:
        spans.append((at, at + len(p)))
        at += len(p) + 1
    rows = [Chunk(f"{doc_id}-{version}-{s}", doc_id, text[s:e], s, e) for s, e in spans]
    vecs = np.tile(np.array([1, 0, 0], dtype=np.float32), (chunks, 1))
    return doc, rows, vecs, [], {}


@pytest.fixture
def store(tmp_path):
    s = Store(Settings(index_dir=tmp_path / "index", chroma_url=None))
    with s.writing():
        s.write([article(i, "harbour ferry timetable") for i in range(3)])
    return s


def cache_of(store, segment_rows=1000) -> LexicalCache:
    return LexicalCache(store, store.settings.paths.index_dir / "bm25", Spelling(), lambda: generation(store.settings),
                        segment_rows=segment_rows)


def write(store, rows, stale=()):
    with store.writing():
        store.write(rows)
        store.delete_chunks(list(stale))


class Reads:
    """Counts the store reads a sync makes; a read of every chunk fails the test."""

    def __init__(self, store, monkeypatch):
        self.docs: list[str] = []
        real = store.chunks_of

        def chunks_of(versions):
            self.docs += list(versions)
            return real(versions)

        def whole_store():
            raise AssertionError("the whole store was read")

        monkeypatch.setattr(store, "chunks_of", chunks_of)
        monkeypatch.setattr(store, "chunk_pages", whole_store)


def test_first_build_then_nothing_to_do_while_the_store_is_unchanged(store, monkeypatch):
    cache = cache_of(store)
    lex = cache.current()
    second = article(2, "harbour ferry timetable")[1][1].chunk_id
    assert len(lex) == 6 and [c for c, _ in lex.search("ferry section1 article2", 1)] == [second]
    assert len(lex.segments) == 1 and lex.seen["chunks"] == 6 and lex.seen["articles"] == 3
    Reads(store, monkeypatch)
    monkeypatch.setattr(store, "article_ids", lambda: pytest.fail("synced although nothing changed"))
    assert cache.current(lex) is lex
    assert cache_of(store).current().seen == lex.seen  # a new process reads the folder


def test_added_articles_become_a_segment_without_reading_the_store_whole(store, monkeypatch):
    cache = cache_of(store)
    lex = cache.current()
    reads = Reads(store, monkeypatch)
    write(store, [article(3, "lighthouse keeper"), article(4, "lighthouse lamp")])
    after = cache.current(lex)
    assert reads.docs == ["d3.txt", "d4.txt"] and len(after.segments) == 2 and len(after) == 10
    assert {d for d, _ in after.search_articles("lighthouse", 5)} == {"d3.txt", "d4.txt"}
    assert after.search("ferry", 10) and after.fix("lighthuose") == "lighthouse"
    assert after.seen["watermark"] > lex.seen["watermark"]


def test_a_changed_article_replaces_its_old_version_and_a_removed_one_goes(store, monkeypatch):
    cache = cache_of(store)
    cache.current()
    reads = Reads(store, monkeypatch)
    old = article(1, "harbour ferry timetable")[1]
    write(store, [article(1, "glacier tours", version="v2")], stale=[c.chunk_id for c in old])
    lex = cache.current()
    assert reads.docs == ["d1.txt"]
    assert [d for d, _ in lex.search_articles("glacier", 5)] == ["d1.txt"]
    assert "d1.txt" not in {lex.metas_of([c])[c]["doc_id"] for c, _ in lex.search("ferry timetable", 10)}
    assert lex.dead == [{1}, set()] and len(lex) == 6
    store.delete_chunks([c.chunk_id for c in article(2, "")[1]])
    store.delete_articles(["d2.txt"])
    lex = cache.current(lex)
    assert "d2.txt" not in lex.live and {lex.metas_of([c])[c]["doc_id"] for c, _ in lex.search("ferry", 10)} == {"d0.txt"}


def test_a_record_written_without_a_stamp_is_found_by_its_id(store, monkeypatch):
    cache = cache_of(store)
    cache.current()
    doc, chunks, vecs, _, _ = article(7, "volcano")
    store.chunks.upsert(ids=[c.chunk_id for c in chunks], embeddings=vecs, documents=[c.text for c in chunks],
                        metadatas=[{"doc_id": doc.doc_id, "doc_hash": doc.content_hash, "title": doc.title, "source": "",
                                    "published_at": "", "day": -1, "start": c.start, "end": c.end} for c in chunks])
    store.articles.upsert(ids=[doc.doc_id], embeddings=[[1.0, 0, 0]], documents=[doc.text],
                          metadatas=[{"doc_id": doc.doc_id, "doc_hash": doc.content_hash, "n_chunks": 2}])
    assert [d for d, _ in cache.current().search_articles("volcano", 5)] == ["d7.txt"]


def test_half_written_articles_stay_out_until_their_record_lands(store):
    cache = cache_of(store)
    doc, chunks, vecs, _, _ = article(5, "avalanche")
    store.chunks.upsert(ids=[c.chunk_id for c in chunks], embeddings=vecs, documents=[c.text for c in chunks],
                        metadatas=[{"doc_id": doc.doc_id, "doc_hash": doc.content_hash, "title": "", "source": "",
                                    "published_at": "", "day": -1, "start": c.start, "end": c.end} for c in chunks])
    lex = cache.current()
    assert lex.search("avalanche", 5) == [] and len(lex) == 6
    write(store, [article(5, "avalanche")])
    assert [c for c, _ in cache.current(lex).search("avalanche section0", 1)] == [chunks[0].chunk_id]


def test_small_segments_merge_like_a_binary_counter_and_a_mostly_dead_one_is_rewritten(store, monkeypatch):
    cache = cache_of(store, segment_rows=100)
    lex = cache.current()
    sizes = []
    for n in range(3, 7):  # four syncs of one two-chunk article each
        write(store, [article(n, f"topic{n}")])
        lex = cache.current(lex)
        sizes.append([s.n for s in lex.segments])
    assert sizes == [[6, 2], [6, 4], [6, 4, 2], [14]]  # 2+2 -> 4, 4+4 -> 8, then 6 <= 8 -> 14
    assert len(lex) == 14 and all(lex.search(f"topic{n}", 1) for n in range(3, 7))
    reads = Reads(store, monkeypatch)
    for batch in ([0, 1, 2], [3, 4]):
        write(store, [article(n, "renamed", version="v2") for n in batch],
              stale=[c.chunk_id for n in batch for c in article(n, "")[1]])
        lex = cache.current(lex)
    # 6 of 14 dead is kept; 10 of 14 is rewritten from its two live articles, read again
    assert reads.docs == ["d0.txt", "d1.txt", "d2.txt", "d3.txt", "d4.txt", "d5.txt", "d6.txt"]
    assert [s.n for s in lex.segments] == [4, 6, 4] and not any(lex.dead) and len(lex) == 14
    assert {d for d, _ in lex.search_articles("renamed", 9)} == {f"d{n}.txt" for n in range(5)}
    assert sorted(p.name for p in cache.root.iterdir() if p.is_dir()) == sorted(s.name for s in lex.segments)


def test_a_full_build_streams_whole_articles_into_segments_of_the_given_size(store):
    write(store, [article(n, "river", chunks=3) for n in range(3, 9)])
    lex = cache_of(store, segment_rows=7).current()
    assert sum(s.n for s in lex.segments) == 24 and all(s.n >= 7 for s in lex.segments[:-1])
    docs = [d for s in lex.segments for d in s.docs["doc_ids"]]
    assert sorted(docs) == sorted(f"d{n}.txt" for n in range(9))  # each article in exactly one segment


def test_a_cache_of_another_store_or_format_is_rebuilt(store):
    cache = cache_of(store)
    first = cache.current()
    manifest = cache.root / "manifest.json"
    data = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**data, "format": "0"}))
    again = cache_of(store).current()
    assert again.seen["version"] != first.seen["version"] and len(again) == 6
    manifest.write_text(json.dumps({**again.seen, "store": "another/store"}))
    assert cache_of(store).current().seen["version"] != again.seen["version"]


def test_an_unreadable_segment_is_rebuilt(store):
    first = cache_of(store).current()
    (first.segments[0].path / "chunks" / "tf.npy").unlink()
    again = cache_of(store).current()
    assert again.seen["version"] != first.seen["version"] and len(again) == 6 and again.search("ferry", 1)


def test_an_article_removed_by_the_indexer_leaves_scores_as_a_fresh_index_gives(store, monkeypatch):
    cache = cache_of(store)
    lex = cache.current()
    write(store, [article(3, "harbour lighthouse keeper"), article(4, "lighthouse ferry lamp")])
    lex = cache.current(lex)
    assert len(lex.segments) == 2  # the removed articles sit in both segments
    gone = {c.chunk_id for n in (1, 3) for c in article(n, "")[1]}
    reads = Reads(store, monkeypatch)
    assert Indexer(store.settings, store, None).remove(["d1.txt", "d3.txt", "nope"], notice=lambda m: None) == ["d1.txt", "d3.txt"]
    after = cache.current(lex)
    assert reads.docs == [] and set(after.live) == {"d0.txt", "d2.txt", "d4.txt"} and len(after) == 6
    assert not after.metas_of(sorted(gone)) and after.seen["chunks"] == 6
    monkeypatch.undo()
    fresh = LexicalCache(store, store.settings.paths.index_dir / "bm25-fresh", Spelling(),
                         lambda: generation(store.settings)).current()
    assert len(fresh.segments) == 1 and not any(fresh.dead)
    for query in ("harbour ferry", "lighthouse keeper", "lamp timetable section1", "article3 keeper"):
        found = after.search(query, 10)
        assert not {c for c, _ in found} & gone
        # the same (id, score) pairs; ties may come in another order (row order differs)
        assert sorted(found) == sorted(fresh.search(query, 10))
        assert sorted(after.search_articles(query, 5)) == sorted(fresh.search_articles(query, 5))
        assert scores_by_id(after, query) == scores_by_id(fresh, query)


def scores_by_id(lex, query: str) -> dict[str, float]:
    """Live chunk id -> BM25 score of every live chunk holding a query word."""
    found = lex.scores("chunks", query)
    return {} if found is None else {lex.chunk_id(r): float(x) for r, x in enumerate(found)
                                     if x > 0 and lex.metas_of([lex.chunk_id(r)])}
