"""rag/store.py on an embedded Chroma in a temporary folder, with hand-made 3-d vectors (no model): what a
written article's chunk and article records hold (the record's `written` stamp too), `articles_by_id`, `texts`,
`dense` search by cosine with a date filter, the reads BM25 syncs with (records since a stamp, chunks of given
article versions, article ids, pages), rewriting an article (stale chunks removed), metadata updates and
deletes, day numbers, and the generation mark that tells another process's reader the store changed."""
from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from rag.settings import Settings
from rag.store import Store, day_number, generation, stamp
from rag.types import Chunk, Document

JULY_1 = date(2025, 7, 1).toordinal()
ALPHA = Document(doc_id="a.txt", title="Alpha", text="Alpha one. Alpha two.", source="/news/a.txt",
                 published_at="2025-07-01", content_hash="hash-a", key="/news/a.txt", path="/news/a.txt",
                 author="Ana")
BETA = Document(doc_id="b.txt", title="Beta", text="Beta only.", source="b.txt", published_at=None,
                content_hash="hash-b")
ALPHA_CHUNKS = [Chunk("a-0", "a.txt", "Alpha one.", 0, 10), Chunk("a-1", "a.txt", "Alpha two.", 11, 21)]
BETA_CHUNKS = [Chunk("b-0", "b.txt", "Beta only.", 0, 10)]


def vectors(*rows) -> np.ndarray:
    return np.array(rows, dtype=np.float32)


def batch(doc=ALPHA, chunks=ALPHA_CHUNKS, vecs=None, stale=(), meta=None):
    return doc, chunks, vectors([1, 0, 0], [0.6, 0.8, 0]) if vecs is None else vecs, list(stale), meta


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("store")


@pytest.fixture(scope="module")
def store(index_dir):
    """Alpha (dated, two chunks) and Beta (undated, one chunk), written in one batch."""
    s = Store(Settings(index_dir=index_dir, chroma_url=None))
    with s.writing():
        s.write([batch(meta={"alternates": "[]"}), batch(BETA, BETA_CHUNKS, vectors([0, 0, 1]))])
    return s


def test_day_number_is_the_ordinal_and_minus_one_when_undated():
    assert day_number("2025-07-01") == JULY_1
    assert day_number(None) == -1 and day_number("") == -1


def test_chunk_records_carry_their_article_and_offsets(store):
    state = store.chunk_state()
    assert sorted(state) == ["a-0", "a-1", "b-0"]
    assert state["a-1"] == {"doc_id": "a.txt", "doc_hash": "hash-a", "title": "Alpha", "source": "/news/a.txt",
                            "published_at": "2025-07-01", "day": JULY_1, "start": 11, "end": 21}
    assert (state["b-0"]["published_at"], state["b-0"]["day"]) == ("", -1)
    ids, texts, metas = (sum(col, []) for col in zip(*store.chunk_pages()))
    assert (ids, texts, metas) == (["a-0", "a-1", "b-0"], ["Alpha one.", "Alpha two.", "Beta only."],
                                   [state["a-0"], state["a-1"], state["b-0"]])


def test_article_records_carry_the_text_chunk_count_and_extra_metadata(store):
    got = store.articles_by_id(["b.txt", "a.txt", "a.txt", "missing.txt"])
    assert sorted(got) == ["a.txt", "b.txt"]
    text, meta = got["a.txt"]
    assert text == ALPHA.text
    written = meta.pop("written")
    assert meta == {"doc_id": "a.txt", "doc_hash": "hash-a", "title": "Alpha", "source": "/news/a.txt",
                    "published_at": "2025-07-01", "day": JULY_1, "n_chunks": 2, "key": "/news/a.txt",
                    "path": "/news/a.txt", "author": "Ana", "alternates": "[]"}
    assert got["b.txt"][1]["written"] == written < stamp()  # one stamp per written batch, from the clock
    assert got["b.txt"][1]["n_chunks"] == 1 and "author" not in got["b.txt"][1]
    assert store.articles_by_id([]) == {}
    assert store.article_state() == {d: m | ({"written": written} if d == "a.txt" else {}) for d, (_, m) in got.items()}


def test_an_articles_vector_is_its_chunks_normalised_mean(store):
    got = store.articles.get(ids=["a.txt"], include=["embeddings"])
    assert np.asarray(got["embeddings"][0]) == pytest.approx([0.8 / np.sqrt(0.8), 0.4 / np.sqrt(0.8), 0.0], abs=1e-6)


def test_texts_and_vectors_are_read_back_as_written(store):
    got = store.texts(["a-1", "b-0", "gone"])
    assert sorted(got) == ["a-1", "b-0"] and got["a-1"][0] == "Alpha two."
    assert got["a-1"][1].tolist() == pytest.approx([0.6, 0.8, 0.0]) and got["b-0"][1].tolist() == [0.0, 0.0, 1.0]
    assert store.texts([]) == {}


def test_reads_for_the_bm25_sync(store):
    assert sorted(store.article_ids()) == ["a.txt", "b.txt"] and store.counts() == (3, 2)
    written = store.article_state()["a.txt"]["written"]
    assert sorted(store.records_since(written)) == ["a.txt", "b.txt"] and store.records_since(written + 1) == {}
    assert store.records(["b.txt", "nope"]).keys() == {"b.txt"}
    ids, texts, metas = store.chunks_of({"a.txt": "hash-a", "b.txt": "an older version"})
    assert ids == ["a-0", "a-1"] and texts == ["Alpha one.", "Alpha two."] and metas[1]["start"] == 11
    assert store.identity() == f"{store.chunks.id}/{store.articles.id}"


def test_dense_returns_chunks_by_cosine_similarity(store):
    got = store.dense(vectors([1, 0, 0])[0], 10, None)
    assert [cid for cid, _ in got] == ["a-0", "a-1", "b-0"]
    assert [s for _, s in got] == pytest.approx([1.0, 0.6, 0.0], abs=1e-6)
    assert [cid for cid, _ in store.dense(vectors([0, 0, 1])[0], 1, None)] == ["b-0"]


def test_dense_applies_the_where_filter(store):
    dated = store.dense(vectors([0, 0, 1])[0], 10, {"day": {"$gte": 0}})
    assert [cid for cid, _ in dated] == ["a-0", "a-1"]  # the nearest chunk is undated
    assert store.dense(vectors([1, 0, 0])[0], 10, {"day": {"$gt": JULY_1}}) == []


def test_rewriting_an_article_replaces_its_chunks_and_deletes_the_stale_ones(store, index_dir):
    s = Store(Settings(index_dir=index_dir, collection="rewrite", chroma_url=None))
    s.write([batch()])
    edited = Document(doc_id="a.txt", title="Alpha", text="Alpha one, edited.", source="/news/a.txt",
                      published_at="2025-07-02", content_hash="hash-a2")
    s.write([batch(edited, [Chunk("a2-0", "a.txt", "Alpha one, edited.", 0, 18)], vectors([0, 1, 0]),
                   stale=["a-0", "a-1"])])
    assert s.chunk_state() == {"a2-0": {"doc_id": "a.txt", "doc_hash": "hash-a2", "title": "Alpha",
                                        "source": "/news/a.txt", "published_at": "2025-07-02",
                                        "day": JULY_1 + 1, "start": 0, "end": 18}}
    text, meta = s.articles_by_id(["a.txt"])["a.txt"]
    assert text == "Alpha one, edited." and meta["n_chunks"] == 1 and meta["doc_hash"] == "hash-a2"
    assert sorted(store.chunk_state()) == ["a-0", "a-1", "b-0"]  # another collection is untouched


def test_update_merges_article_metadata_and_deletes_remove_records(index_dir):
    s = Store(Settings(index_dir=index_dir, collection="edits", chroma_url=None))
    s.write([batch(), batch(BETA, BETA_CHUNKS, vectors([0, 0, 1]))])
    s.update_article("a.txt", {"alternates": '[{"doc_id": "copy.txt"}]'})
    meta = s.article_state()["a.txt"]
    assert meta["alternates"] == '[{"doc_id": "copy.txt"}]' and meta["title"] == "Alpha" and meta["n_chunks"] == 2
    s.delete_chunks(["b-0", "a-1"])
    s.delete_articles(["b.txt"])
    assert sorted(s.chunk_state()) == ["a-0"] and sorted(s.article_state()) == ["a.txt"]
    s.write([])  # an empty batch writes nothing
    assert s.chunks.count() == 1 and s.articles.count() == 1


def test_a_write_marks_the_store_changed_for_other_readers(tmp_path):
    settings = Settings(index_dir=tmp_path, chroma_url=None)
    writer, reader = Store(settings), Store(settings)
    before = generation(settings)
    assert not reader.changed_elsewhere()
    with writer.writing():
        writer.write([batch()])
        assert reader.changed_elsewhere() and not writer.changed_elsewhere()
    assert generation(settings) not in ("", before) and not writer.changed_elsewhere()
    assert reader.reopen() and not reader.changed_elsewhere()
    assert sorted(reader.chunk_state()) == ["a-0", "a-1"]
