"""One BM25 segment: the chunks of a set of whole articles, indexed once and never changed (rag/lexical.py
searches several as one index; rag/lexical_cache.py decides when to build, merge and drop them).

    Segment.build(ids, texts, metas, stamps, path=None) -> Segment   rows in the order given; saved when path
    Segment.load(path) -> Segment                                    arrays and bm25s scores memory-mapped
    .n, .n_docs                rows (chunks) and articles
    .chunks, .articles         Index: bm25s scores per token column, over rows / over articles
    .find(ids) -> rows         -1 where a chunk id is not in the segment
    .meta(row) -> dict         doc_id, title, source, published_at, day, start, end
    .docs                      per article (lists, by article number): doc_ids, titles, sources, published,
                               hashes, stamps (the article record's `written`), days, leads (its first row)
    .words                     surface word -> occurrences in its articles (typo correction)

A chunk's metadata is as stored (rag/store.py): doc_id, doc_hash, title, source, published_at, day, start, end.
Rows keep the order given; an article's lead is its chunk with the smallest `start`.
"""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .text import stemmer

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's own token pattern
_ROW_ARRAYS = ("ids", "order", "doc", "start", "end")


def tokenize(texts: list[str]):
    """bm25s tokens as the whole package uses them: English stopwords out, Snowball stems."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer(), show_progress=False)


def query_tokens(query: str) -> list[str]:
    """The query's stemmed tokens, repeats kept (bm25s counts a repeated query word twice)."""
    import bm25s

    return bm25s.tokenize([query], stopwords="en", stemmer=stemmer(), return_ids=False, show_progress=False)[0]


def idf(df, n):
    """bm25s's (Lucene's) idf for a token in `df` of `n` rows; float64."""
    return np.log(1 + (n - np.asarray(df, dtype=np.float64) + 0.5) / (np.asarray(df, dtype=np.float64) + 0.5))


@dataclass
class Index:
    """A bm25s index's scores as CSC columns, one per token: rows `indices[indptr[t]:indptr[t+1]]` score
    `data[...]` (idf x term-frequency part). A column's length is the token's document frequency."""

    vocab: dict[str, int]
    data: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    n: int

    @classmethod
    def of(cls, retriever) -> "Index":
        s = retriever.scores
        return cls(retriever.vocab_dict, s["data"], s["indices"], s["indptr"], int(s["num_docs"]))

    def column(self, token: str) -> tuple[np.ndarray, np.ndarray] | None:
        t = self.vocab.get(token)
        if t is None:
            return None
        a, b = int(self.indptr[t]), int(self.indptr[t + 1])
        return (self.indices[a:b], self.data[a:b]) if b > a else None

    def df(self, token: str) -> int:
        t = self.vocab.get(token)
        return 0 if t is None else int(self.indptr[t + 1] - self.indptr[t])


class Segment:
    def __init__(self, path: Path | None, rows: dict[str, np.ndarray], docs: dict, chunks: Index, articles: Index,
                 words: dict[str, int]):
        self.path, self.docs, self.chunks, self.articles = path, docs, chunks, articles
        self.ids, self.order, self.doc, self.start, self.end = (rows[k] for k in _ROW_ARRAYS)
        self.n, self.n_docs = len(self.ids), len(docs["doc_ids"])
        self.words = words

    @property
    def name(self) -> str:
        return self.path.name if self.path else ""

    @classmethod
    def build(cls, ids: list[str], texts: list[str], metas: list[dict], stamps: dict[str, int],
              path: Path | None = None) -> "Segment":
        """A segment over the given chunks (all chunks of each article), saved to `path` when given.

        `stamps`: doc_id -> the article record's `written` (0 when it has none)."""
        import bm25s

        groups: dict[str, list[int]] = {}
        for i, m in enumerate(metas):
            groups.setdefault(m["doc_id"], []).append(i)
        doc_ids = list(groups)
        number = {d: k for k, d in enumerate(doc_ids)}
        for rows in groups.values():
            rows.sort(key=lambda i: int(metas[i]["start"]))
        leads = [groups[d][0] for d in doc_ids]
        docs = {"doc_ids": doc_ids, "titles": [metas[i].get("title", "") for i in leads],
                "sources": [metas[i].get("source", "") for i in leads],
                "published": [metas[i].get("published_at", "") for i in leads],
                "hashes": [metas[i].get("doc_hash", "") for i in leads],
                "stamps": [int(stamps.get(d, 0)) for d in doc_ids],
                "days": [int(metas[i].get("day", -1)) for i in leads], "leads": leads}
        encoded = np.array([i.encode() for i in ids], dtype=bytes)
        rows = {"ids": encoded, "order": np.argsort(encoded, kind="stable").astype(np.int32),
                "doc": np.array([number[m["doc_id"]] for m in metas], dtype=np.int32),
                "start": np.array([int(m["start"]) for m in metas], dtype=np.int32),
                "end": np.array([int(m["end"]) for m in metas], dtype=np.int32)}
        chunk_index, article_index = bm25s.BM25(), bm25s.BM25()
        chunk_index.index(tokenize(texts), show_progress=False)
        articles = [_article_text(groups[d], texts, metas) for d in doc_ids]
        article_index.index(tokenize(articles), show_progress=False)
        words = word_counts(articles)
        if path is not None:
            tmp = path.with_name(path.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            chunk_index.save(str(tmp / "chunks"), show_progress=False)
            article_index.save(str(tmp / "articles"), show_progress=False)
            for key in _ROW_ARRAYS:
                np.save(tmp / f"{key}.npy", rows[key])
            (tmp / "docs.json").write_text(json.dumps(docs))
            (tmp / "words.json").write_text(json.dumps(words))
            tmp.rename(path)
        return cls(path, rows, docs, Index.of(chunk_index), Index.of(article_index), words)

    @classmethod
    def load(cls, path: Path) -> "Segment":
        import bm25s

        rows = {k: np.load(path / f"{k}.npy", mmap_mode="r") for k in _ROW_ARRAYS}
        docs = json.loads((path / "docs.json").read_text())
        return cls(path, rows, docs, Index.of(bm25s.BM25.load(str(path / "chunks"), mmap=True)),
                   Index.of(bm25s.BM25.load(str(path / "articles"), mmap=True)),
                   json.loads((path / "words.json").read_text()))  # read now: the folder may go once merged

    def find(self, ids: np.ndarray) -> np.ndarray:
        """The row of each chunk id (bytes), -1 where it is not here."""
        at = np.searchsorted(self.ids, ids, sorter=self.order)
        rows = self.order[np.minimum(at, self.n - 1)]
        return np.where(self.ids[rows] == ids, rows, -1)

    def meta(self, row: int) -> dict:
        d = int(self.doc[row])
        return {"doc_id": self.docs["doc_ids"][d], "title": self.docs["titles"][d], "source": self.docs["sources"][d],
                "published_at": self.docs["published"][d], "day": self.docs["days"][d],
                "start": int(self.start[row]), "end": int(self.end[row])}


def _article_text(rows: list[int], texts: list[str], metas: list[dict]) -> str:
    """The article rebuilt from its chunks' offsets (overlaps cut), headed by its title."""
    parts, end = [metas[rows[0]].get("title", "")], 0
    for i in rows:
        start = int(metas[i]["start"])
        parts.append(texts[i][max(end - start, 0):])
        end = max(end, int(metas[i]["end"]))
    return "\n".join(parts)


def word_counts(texts: list[str]) -> dict[str, int]:
    """Each lower-cased word of the texts (BM25's token pattern, no digits) with its number of occurrences."""
    from collections import Counter

    counts = Counter(w for t in texts for w in TOKEN.findall(t.lower()) if not any(c.isdigit() for c in w))
    return dict(counts)
