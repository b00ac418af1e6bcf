"""One BM25 segment: the chunks of a set of whole articles, indexed once and never changed (rag/lexical.py
searches several as one index; rag/lexical_cache.py decides when to build, merge and drop them).

    Segment.build(ids, texts, metas, stamps, path=None) -> Segment   rows in the order given; saved when path
    Segment.load(path) -> Segment                                    its arrays memory-mapped
    .n, .n_docs                rows (chunks) and articles
    .chunks, .articles         Index: term frequencies per stem column and lengths, over rows / over
                               articles (bm25s's tokens; its scores are computed from them at query time)
    .find(ids) -> rows         -1 where a chunk id is not in the segment
    .meta(row) -> dict         doc_id, title, source, published_at, day, start, end
    .docs                      per article (lists, by article number): doc_ids, titles, sources, published,
                               hashes, stamps (the article record's `written`), days, leads (its first row)
    .words                     surface word -> occurrences in its articles (typo correction)
    .acronyms                  initials -> [phrase, count]: its articles' most used capitalised phrase for
                               them (rag/acronyms.py)

A chunk's metadata is as stored (rag/store.py): doc_id, doc_hash, title, source, published_at, day, start, end.
Rows keep the order given; an article's lead is its chunk with the smallest `start`.
"""
from __future__ import annotations

import json
import math
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .acronyms import most_used
from .text import CJK, STOPWORDS, cjk_split, stemmer, undotted

TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's own token pattern
_ROW_ARRAYS = ("ids", "order", "doc", "start", "end")
K1, B = 1.5, 0.75  # bm25s's defaults


def tokens(text: str) -> list[str]:
    """bm25s's tokens of `text` (its token pattern), a CJK run in them as its character bigrams (`cjk_split`):
    bm25s would index a whole Chinese sentence as one word."""
    found = TOKEN.findall(text)
    return found if CJK.search(text) is None else [t for token in found for t in cjk_split(token)]  # one check a text


def query_tokens(query: str) -> list[str]:
    """The query's stems as BM25 indexes them: lower-cased, English stopwords out, repeats kept (bm25s counts
    a repeated query word twice). The query's dotted initials are one word ("U.S." is "US", `undotted`), so a
    question matches the articles that write "US" however it spells it. On the dev suite: paraphrases 0.842 ->
    0.854 (consistency 0.825 -> 0.842), and with the LLM RGB accuracy 0.78 -> 0.80, no set worse. The
    articles' text is tokenized as written: undotting it too took seeds retrieval MRR 0.962 -> 0.950 and
    RGB's 0.661 -> 0.642 ("U.S." is in nearly every sentence of US-China news, and "US" is also "us")."""
    words = [w for w in tokens(undotted(query).lower()) if w not in STOPWORDS]
    return stemmer().stemWords(words) if words else []


def idf(df, n):
    """bm25s's (Lucene's) idf of a stem in `df` of `n` rows, as bm25s stores it (float32 of a float64 log)."""
    return np.float32(math.log(1 + (n - df + 0.5) / (df + 0.5)))


def scores(idf32: np.float32, tf: np.ndarray, lengths: np.ndarray, average: float) -> np.ndarray:
    """bm25s's "lucene" score of one stem in rows of `lengths` tokens holding it `tf` times, `average` the
    index's mean length: the same floating-point operations as bm25s, so the same float32 values."""
    tf = tf.astype(np.float64)
    return (np.float64(idf32) * (tf / (K1 * ((1 - B) + B * lengths / average) + tf))).astype(np.float32)


@dataclass
class Index:
    """Term frequencies as CSC columns, one per stem: rows `indices[indptr[t]:indptr[t+1]]` hold the stem
    `tf[...]` times; `lengths[row]` is a row's token count. Scores are computed at query time from these and
    the statistics of all segments (rag/lexical.py), so any split of the rows into segments scores as one."""

    vocab: dict[str, int]
    tf: np.ndarray
    indices: np.ndarray
    indptr: np.ndarray
    lengths: np.ndarray

    @property
    def n(self) -> int:
        return len(self.lengths)

    @classmethod
    def build(cls, texts: list[str]) -> tuple["Index", dict[str, int]]:
        """The index of `texts`, and each lower-cased word's occurrences in them (words with a digit left out).

        bm25s's tokens: lower-cased, its token pattern, English stopwords out, Snowball stems; counted with
        numpy rather than bm25s's Python loops over documents and tokens."""
        surface: defaultdict[str, int] = defaultdict()
        surface.default_factory = surface.__len__  # a new word gets the next number, at C speed through map()
        lengths = np.zeros(len(texts), dtype=np.int64)
        flat: list[int] = []
        for i, text in enumerate(texts):
            ids = list(map(surface.__getitem__, tokens(text.lower())))
            lengths[i] = len(ids)
            flat.extend(ids)
        words, codes = list(surface), np.asarray(flat, dtype=np.int32)
        del flat
        occurrences = {w: int(c) for w, c in zip(words, np.bincount(codes, minlength=len(words)))
                       if not any(ch.isdigit() for ch in w)}
        content = [w for w in words if w not in STOPWORDS]
        stems = dict(zip(content, stemmer().stemWords(content)))
        vocab: dict[str, int] = {}
        stem_of = np.array([vocab.setdefault(stems[w], len(vocab)) if w in stems else -1 for w in words] + [-1],
                           dtype=np.int32)
        token = stem_of[codes]
        del codes
        kept = token >= 0
        row = np.repeat(np.arange(len(texts), dtype=np.int32), lengths)[kept]
        token = token[kept]
        v = max(len(vocab), 1)
        pairs, tf = np.unique(row.astype(np.int64) * v + token, return_counts=True)  # (row, stem) pairs, sorted
        del token, kept
        rows, cols = (pairs // v).astype(np.int32), (pairs % v).astype(np.int32)
        del pairs
        order = np.argsort(cols, kind="stable")  # by column, rows ascending within each
        indptr = np.concatenate([[0], np.cumsum(np.bincount(cols, minlength=len(vocab)))]).astype(np.int64)
        return cls(vocab, tf[order].astype(np.float32), rows[order], indptr,
                   np.bincount(row, minlength=len(texts)).astype(np.int32)), occurrences

    def save(self, path: Path) -> None:
        path.mkdir()
        for key in ("tf", "indices", "indptr", "lengths"):
            np.save(path / f"{key}.npy", getattr(self, key))
        (path / "vocab.json").write_text(json.dumps(self.vocab))

    @classmethod
    def load(cls, path: Path) -> "Index":
        arrays = (np.load(path / f"{k}.npy", mmap_mode="r") for k in ("tf", "indices", "indptr", "lengths"))
        return cls(json.loads((path / "vocab.json").read_text()), *arrays)

    def column(self, token: str) -> tuple[np.ndarray, np.ndarray] | None:
        """(rows, term frequencies) of the rows holding `token` (a stem), or None."""
        t = self.vocab.get(token)
        if t is None:
            return None
        a, b = int(self.indptr[t]), int(self.indptr[t + 1])
        return (self.indices[a:b], self.tf[a:b]) if b > a else None


class Segment:
    def __init__(self, path: Path | None, rows: dict[str, np.ndarray], docs: dict, chunks: Index, articles: Index,
                 words: dict[str, int], acronyms: dict[str, list]):
        self.path, self.docs, self.chunks, self.articles = path, docs, chunks, articles
        self.ids, self.order, self.doc, self.start, self.end = (rows[k] for k in _ROW_ARRAYS)
        self.n, self.n_docs = len(self.ids), len(docs["doc_ids"])
        self.words, self.acronyms = words, acronyms

    @property
    def name(self) -> str:
        return self.path.name if self.path else ""

    @classmethod
    def build(cls, ids: list[str], texts: list[str], metas: list[dict], stamps: dict[str, int],
              path: Path | None = None) -> "Segment":
        """A segment over the given chunks (all chunks of each article), saved to `path` when given.

        `stamps`: doc_id -> the article record's `written` (0 when it has none)."""
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
        chunks, _ = Index.build(texts)
        whole = [_article_text(groups[d], texts, metas) for d in doc_ids]
        articles, words = Index.build(whole)
        acronyms = {k: list(v) for k, v in most_used(whole).items()}
        if path is not None:
            tmp = path.with_name(path.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            tmp.mkdir(parents=True)
            chunks.save(tmp / "chunks")
            articles.save(tmp / "articles")
            for key in _ROW_ARRAYS:
                np.save(tmp / f"{key}.npy", rows[key])
            (tmp / "docs.json").write_text(json.dumps(docs))
            (tmp / "words.json").write_text(json.dumps(words))
            (tmp / "acronyms.json").write_text(json.dumps(acronyms))
            tmp.rename(path)
        return cls(path, rows, docs, chunks, articles, words, acronyms)

    @classmethod
    def load(cls, path: Path) -> "Segment":
        rows = {k: np.load(path / f"{k}.npy", mmap_mode="r") for k in _ROW_ARRAYS}
        docs = json.loads((path / "docs.json").read_text())
        # read now: the folder may go once merged
        return cls(path, rows, docs, Index.load(path / "chunks"), Index.load(path / "articles"),
                   json.loads((path / "words.json").read_text()), json.loads((path / "acronyms.json").read_text()))

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
