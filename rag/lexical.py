"""BM25 over the stored chunks and over whole articles (bm25s), rebuilt only when the store's contents change.

Whole-article BM25 is the strongest single signal for "which article is this about" on news (see
bench/retrieval.py); chunk-level BM25 and dense search then pick the passage inside it.

A misspelt question word ("tsela") matches nothing in BM25 and, to the local answerer, looks like a word
the corpus never uses, so `correct` maps a question word that is not in the corpus to the nearest corpus
word (SymSpell over the corpus's own word counts, built with the BM25 cache and saved beside it). The
API corrects the question before every retriever and the answerer (rag/api.py `_spelled`); measured by
bench/typos.py and the paraphrase set's typo rows.
"""
from __future__ import annotations

import hashlib
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .text import STOPWORDS, stemmer

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s's own token pattern
FORMAT = "3"  # bumped when the cache layout changes, so old caches are rebuilt rather than misread


@dataclass(frozen=True)
class Spelling:
    """Typo correction (settings typo_min_len, typo_long_len, typo_min_count; measured by bench/typos.py)."""

    min_len: int = 4  # a shorter word has too many neighbours one edit away
    long_len: int = 6  # from this length two edits are allowed ("tarrif" -> "tariff"), one below it
    min_count: int = 1  # corrections are corpus words used this often; 2 lost "exemted" -> "exempted" on the seeds

    @classmethod
    def of(cls, settings) -> "Spelling":
        return cls(settings.retrieval.typo_min_len, settings.retrieval.typo_long_len, settings.retrieval.typo_min_count)


def fingerprint(ids: list[str], spelling: Spelling = Spelling()) -> str:
    head = f"{FORMAT}|{spelling.min_len}|{spelling.min_count}"  # the speller is cached with the index
    return hashlib.sha1("\n".join([head, *sorted(ids)]).encode()).hexdigest()[:16]


class Lexical:
    """Keeps every chunk's text and metadata beside its BM25 row, so lexical-only hits need no Chroma call."""

    def __init__(self, ids: list[str], texts: list[str], metas: list[dict], cache_dir: Path | None = None,
                 spelling: Spelling = Spelling()):
        import bm25s

        self.ids, self.texts, self.metas, self.spelling = ids, texts, metas, spelling
        self.pos = {cid: i for i, cid in enumerate(ids)}
        self.stemmer = stemmer()
        self.retriever = bm25s.BM25()
        self.doc_retriever = bm25s.BM25()
        self._bm25s = bm25s
        self.df: dict[str, int] = {}
        self.words: dict[str, int] = {}  # surface word -> occurrences in the articles, for typo correction
        self._speller = None
        self._fixes: dict[str, str | None] = {}
        self._cache: Path | None = None
        self._days: np.ndarray | None = None
        self.doc_ids, self.doc_chunks = self._group()
        if ids:
            tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self.stemmer, show_progress=False)
            self.retriever.index(tokens, show_progress=False)
            articles = [self._article_text(d) for d in self.doc_ids]
            self.doc_retriever.index(bm25s.tokenize(articles, stopwords="en", stemmer=self.stemmer,
                                                    show_progress=False), show_progress=False)
            counts = np.bincount(np.concatenate([np.unique(t) for t in tokens.ids if len(t)] or [np.zeros(0, int)]),
                                 minlength=len(tokens.vocab))
            self.df = {word: int(counts[i]) for word, i in tokens.vocab.items() if word}
            self.words = _word_counts(articles)
        if cache_dir is not None:
            self._save(cache_dir)

    def _group(self) -> tuple[list[str], dict[str, list[int]]]:
        """Each article's chunk rows in text order; the first one is its lead."""
        groups: dict[str, list[int]] = {}
        for i, m in enumerate(self.metas):
            groups.setdefault(m["doc_id"], []).append(i)
        for rows in groups.values():
            rows.sort(key=lambda i: int(self.metas[i]["start"]))
        return list(groups), groups

    def _article_text(self, doc_id: str) -> str:
        """The article rebuilt from its chunks' offsets (overlaps cut), headed by its title."""
        rows = self.doc_chunks[doc_id]
        parts, end = [self.metas[rows[0]].get("title", "")], 0
        for i in rows:
            start = int(self.metas[i]["start"])
            parts.append(self.texts[i][max(end - start, 0):])
            end = max(end, int(self.metas[i]["end"]))
        return "\n".join(parts)

    @classmethod
    def load_or_build(cls, ids: list[str], fetch, cache_root: Path, spelling: Spelling = Spelling()) -> "Lexical":
        """`fetch()` returns (ids, texts, metas); only called when the cache does not match `ids`."""
        key = fingerprint(ids, spelling)
        cache = cache_root / key
        if (cache / "chunks.json").is_file():
            try:
                return cls._load(cache, spelling)
            except (OSError, ValueError, KeyError):
                shutil.rmtree(cache, ignore_errors=True)
        ids, texts, metas = fetch()
        if cache_root.exists():
            for old in cache_root.iterdir():
                shutil.rmtree(old, ignore_errors=True)
        return cls(ids, texts, metas, cache_dir=cache if fingerprint(ids, spelling) == key else None, spelling=spelling)

    def _save(self, cache: Path) -> None:
        tmp = cache.with_name(cache.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        if self.ids:
            self.retriever.save(str(tmp / "bm25"))
            self.doc_retriever.save(str(tmp / "bm25-articles"))
        (tmp / "chunks.json").write_text(json.dumps({"ids": self.ids, "texts": self.texts, "metas": self.metas,
                                                    "df": self.df, "words": self.words}))
        self.speller.save_pickle(str(tmp / "speller.pickle"))
        shutil.rmtree(cache, ignore_errors=True)
        tmp.rename(cache)
        self._cache = cache

    @classmethod
    def _load(cls, cache: Path, spelling: Spelling = Spelling()) -> "Lexical":
        import bm25s

        data = json.loads((cache / "chunks.json").read_text())
        self = cls.__new__(cls)
        cls.__init__(self, [], [], [], spelling=spelling)
        self.ids, self.texts, self.metas, self.df = data["ids"], data["texts"], data["metas"], data["df"]
        self.words, self._cache = data["words"], cache
        self.pos = {cid: i for i, cid in enumerate(self.ids)}
        self.doc_ids, self.doc_chunks = self._group()
        if self.ids:
            self.retriever = bm25s.BM25.load(str(cache / "bm25"))
            self.doc_retriever = bm25s.BM25.load(str(cache / "bm25-articles"))
        return self

    @property
    def speller(self):
        """SymSpell over the corpus words (`spelling.min_len` letters or more, used `min_count` times or more),
        saved with the BM25 cache and read back on the first question with an unknown word."""
        if self._speller is None:
            from symspellpy import SymSpell

            speller = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
            path = self._cache / "speller.pickle" if self._cache else None
            if not (path is not None and path.is_file() and _load_pickle(speller, path)):
                for word, count in self.words.items():
                    if count >= self.spelling.min_count and len(word) >= self.spelling.min_len:
                        speller.create_dictionary_entry(word, count)
            self._speller = speller
        return self._speller

    def correct(self, query: str) -> tuple[str, dict[str, str]]:
        """The query with each misspelt word replaced by its nearest corpus word (`fix`), and the
        replacements made (lower-case word -> correction)."""
        fixes = {w: f for w in {t.lower() for t in _TOKEN.findall(query)} if (f := self.fix(w))}
        if not fixes:
            return query, {}
        return _TOKEN.sub(lambda m: _cased(fixes.get(m.group().lower()), m.group()), query), fixes

    def fix(self, word: str) -> str | None:
        """The corpus word a misspelt lower-case word stands for, or None: the nearest by edit distance
        (adjacent swaps count as one edit); among equally near ones, one keeping the first letter, then the
        most frequent. A word is left as
        written when the corpus has it (or its stem), when it holds a digit, is shorter than `spelling.min_len`
        or a stopword, when it is an English word of its own (symspellpy's frequency list: the corpus
        just lacks it, so there is no evidence of a typo) or when no corpus word is one edit away (two
        from `spelling.long_len` letters)."""
        if (not self.words or word in self.words or len(word) < self.spelling.min_len or any(c.isdigit() for c in word)
                or word in STOPWORDS or word in _english() or self.df.get(self.stemmer.stemWord(word), 0)):
            return None
        if word not in self._fixes:
            from symspellpy import Verbosity

            found = self.speller.lookup(word, Verbosity.CLOSEST, max_edit_distance=2 if len(word) >= self.spelling.long_len else 1)
            while len(self._fixes) >= 4096:
                self._fixes.pop(next(iter(self._fixes)))
            # equally near: one with the same first letter (few typos change it: "Pince" is "Prince", not
            # "since"), then the most frequent
            self._fixes[word] = max(found, key=lambda s: (s.term[0] == word[0], s.count)).term if found else None
        return self._fixes[word]

    def search(self, query: str, n: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the n best chunks with a score above 0, among those `mask` (one weight
        per chunk, 0 = left out) keeps."""
        return self._top(self.retriever, self.ids, query, n, mask)

    def search_articles(self, query: str, n: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(doc id, BM25 score) of the n best whole articles; `mask` is per chunk, as for `search`: an article
        is kept when its lead chunk is."""
        return self._top(self.doc_retriever, self.doc_ids, query, n,
                         None if mask is None else mask[[self.doc_chunks[d][0] for d in self.doc_ids]])

    def _top(self, retriever, keys: list[str], query: str, n: int, mask: np.ndarray | None) -> list[tuple[str, float]]:
        if not keys:
            return []
        tokens = self._bm25s.tokenize([query], stopwords="en", stemmer=self.stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        # bm25s multiplies scores by the mask: filtered search is exact, with no deeper search to filter after
        docs, scores = retriever.retrieve(tokens, k=min(n, len(keys)), show_progress=False, n_threads=1,
                                          weight_mask=mask)
        return [(keys[d], float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]

    def _date_ok(self, filters) -> np.ndarray:
        if self._days is None:
            self._days = np.array([m.get("day", -1) for m in self.metas], dtype=np.int64)
        since, until = filters.days
        ok = np.ones(len(self._days), dtype=bool)
        if since is not None or until is not None:
            ok &= self._days >= 0
        if since is not None:
            ok &= self._days >= since
        if until is not None:
            ok &= self._days <= until
        return ok

    def share(self, filters) -> float:
        """The fraction of chunks a date filter lets through."""
        ok = self._date_ok(filters) & (self._days >= 0)
        return float(ok.mean()) if len(ok) else 0.0

    def mask(self, filters) -> np.ndarray:
        """1.0 for each chunk `filters` (rag.retrieve.Filters) accepts, 0.0 for the others."""
        ok = self._date_ok(filters)
        if filters.source:
            ok &= np.fromiter((filters.accepts_source(m) for m in self.metas), dtype=bool, count=len(self.metas))
        return ok.astype(np.float32)

    def lead(self, doc_id: str) -> str:
        return self.ids[self.doc_chunks[doc_id][0]]

    def doc_freq(self, words: list[str]) -> list[int]:
        """Chunks holding each word; a compound ("US-China") is as rare as its rarest part, since BM25's
        tokenizer splits it."""
        out = []
        for w in words:
            parts = _TOKEN.findall(w.lower())
            out.append(min(self.df.get(s, 0) for s in self.stemmer.stemWords(parts)) if parts else 0)
        return out

    def idf(self, words: list[str]) -> np.ndarray:
        """Rarity of each word in the indexed chunks, for weighting question words when picking sentences."""
        n = max(len(self.ids), 1)
        df = np.array(self.doc_freq(words), dtype=np.float32)
        return np.log(1 + (n - df + 0.5) / (df + 0.5))


def _cased(fixed: str | None, word: str) -> str:
    """The correction written with the word's casing ("Tsela" -> "Tesla"), or the word when none."""
    if fixed is None:
        return word
    return fixed.upper() if word.isupper() and len(word) > 1 else fixed.capitalize() if word[0].isupper() else fixed


def _load_pickle(speller, path: Path) -> bool:
    """False when the file is unreadable or from another symspellpy version: the speller is rebuilt."""
    try:
        return bool(speller.load_pickle(path))
    except (OSError, EOFError, ValueError, KeyError, AttributeError, __import__("pickle").UnpicklingError):
        return False


def _word_counts(texts: list[str]) -> dict[str, int]:
    """Each lower-cased word of the texts (BM25's token pattern, no digits) with its number of occurrences."""
    from collections import Counter

    counts = Counter(w for t in texts for w in _TOKEN.findall(t.lower()) if not any(c.isdigit() for c in w))
    return dict(counts)


_ENGLISH: frozenset[str] | None = None


def _english() -> frozenset[str]:
    """The 82,765 English words of symspellpy's frequency dictionary (Google Books n-grams x SCOWL): a
    question word found there is a word the corpus lacks, not a typo."""
    global _ENGLISH
    if _ENGLISH is None:
        from importlib.resources import files

        text = (files("symspellpy") / "frequency_dictionary_en_82_765.txt").read_text(encoding="utf-8")
        _ENGLISH = frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)
    return _ENGLISH
