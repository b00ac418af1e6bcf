"""BM25 over the stored chunks and over whole articles, as one index over several segments (rag/segment.py).

Whole-article BM25 is the strongest single signal for "which article is this about" on news (see
bench/retrieval.py); chunk-level BM25 and dense search then pick the passage inside it.

Segments, as in Lucene: each is built once over the chunks of some whole articles and never changed, so
an indexing run adds a small segment instead of rebuilding the index (rag/lexical_cache.py keeps them in
step with the store). An article that was changed or removed is masked out of its old segment (its
"dead" articles). Segments keep term frequencies and lengths, not scores, and a query's scores are
computed from the statistics of the live rows of all segments (document frequencies, row count, mean
length), with bm25s's formula and floating-point operations: whatever the segments and dead articles,
every score equals the one a fresh bm25s index over the live chunks gives (tests/test_lexical.py), but for
CJK text, which is tokenized as character bigrams where bm25s reads a whole sentence as one word.

A misspelt question word ("tsela") matches nothing in BM25 and, to the local answerer, looks like a word
the corpus never uses, so `correct` maps a question word that is not in the corpus to the nearest corpus
word (SymSpell over the corpus's own word counts, cached beside the segments and topped up with the words
of new ones). The API corrects the question before every retriever and the answerer (rag/api.py
`_spelled`); measured by bench/typos.py and the paraphrase set's typo rows.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from .acronyms import acronyms, merge
from .segment import TOKEN, Segment, idf, query_tokens, scores
from .text import CJK, STOPWORDS, stemmer


@dataclass(frozen=True)
class Spelling:
    """Typo correction (settings typo_min_len, typo_long_len, typo_min_count; measured by bench/typos.py)."""

    min_len: int = 4  # a shorter word has too many neighbours one edit away
    long_len: int = 6  # from this length two edits are allowed ("tarrif" -> "tariff"), one below it
    min_count: int = 1  # corrections are corpus words used this often; 2 lost "exemted" -> "exempted" on the seeds

    @classmethod
    def of(cls, settings) -> "Spelling":
        return cls(settings.retrieval.typo_min_len, settings.retrieval.typo_long_len, settings.retrieval.typo_min_count)


class Lexical:
    """A read-only view of segments minus their dead articles; a change makes a new view (rag/lexical_cache.py).

    Rows are numbered across segments in order (segment 0's rows first); `search` and `mask` work on that
    numbering. `dead[i]` holds article numbers of `segments[i]` that are masked out. `speller_path` is
    where the speller is cached (None: built in memory). `seen` is what the cache knew of the store when it
    made this view (rag/lexical_cache.py)."""

    def __init__(self, segments: list[Segment], dead: list[set[int]] | None = None, spelling: Spelling = Spelling(),
                 speller_path: Path | None = None, seen: dict | None = None):
        self.segments, self.spelling, self.speller_path = segments, spelling, speller_path
        self.dead = dead if dead is not None else [set() for _ in segments]
        self.seen = seen or {}
        self.row_offsets = np.cumsum([0] + [s.n for s in segments])
        self.doc_offsets = np.cumsum([0] + [s.n_docs for s in segments])
        self.rows = int(self.row_offsets[-1])  # dead articles' rows included
        self.stemmer = stemmer()
        self._speller = None
        self._fixes: dict[str, str | None] = {}

    @classmethod
    def of(cls, ids: list[str], texts: list[str], metas: list[dict], spelling: Spelling = Spelling(),
           speller_path: Path | None = None) -> "Lexical":
        """One in-memory segment over the given chunks (metas as stored: doc_id, title, start, end, ...)."""
        return cls([Segment.build(ids, texts, metas, {})] if ids else [], spelling=spelling, speller_path=speller_path)

    @cached_property
    def live(self) -> dict[str, tuple[int, int]]:
        """doc_id -> (segment, article number) of every article not dead; a later segment wins."""
        out = {}
        for i, seg in enumerate(self.segments):
            dead = self.dead[i]
            out.update((d, (i, k)) for k, d in enumerate(seg.docs["doc_ids"]) if k not in dead)
        return out

    @cached_property
    def _doc_alive(self) -> np.ndarray | None:
        """Per article across segments: False when dead; None when none is."""
        if not any(self.dead):
            return None
        alive = np.ones(int(self.doc_offsets[-1]), dtype=bool)
        for i, dead in enumerate(self.dead):
            alive[[int(self.doc_offsets[i]) + k for k in dead]] = False
        return alive

    @cached_property
    def _doc_of_row(self) -> np.ndarray:
        return np.concatenate([s.doc + int(o) for s, o in zip(self.segments, self.doc_offsets)]
                              or [np.zeros(0, np.int32)])

    @cached_property
    def _alive(self) -> np.ndarray | None:
        """Per row: False for a dead article's chunk; None when there is none."""
        return None if self._doc_alive is None else self._doc_alive[self._doc_of_row]

    @cached_property
    def _days(self) -> np.ndarray:
        return np.concatenate([np.asarray(s.docs["days"], dtype=np.int64)[s.doc] for s in self.segments]
                              or [np.zeros(0, np.int64)])

    @cached_property
    def _leads(self) -> np.ndarray:
        """Each article's lead chunk, as a row across segments."""
        return np.concatenate([np.asarray(s.docs["leads"], dtype=np.int64) + int(o)
                               for s, o in zip(self.segments, self.row_offsets)] or [np.zeros(0, np.int64)])

    def __len__(self) -> int:
        """Chunks that are not dead."""
        return self.rows if self._alive is None else int(self._alive.sum())

    def _locate(self, row: int) -> tuple[Segment, int]:
        i = int(np.searchsorted(self.row_offsets, row, side="right")) - 1
        return self.segments[i], row - int(self.row_offsets[i])

    def chunk_id(self, row: int) -> str:
        seg, r = self._locate(row)
        return seg.ids[r].decode()

    def doc_id(self, doc: int) -> str:
        i = int(np.searchsorted(self.doc_offsets, doc, side="right")) - 1
        return self.segments[i].docs["doc_ids"][doc - int(self.doc_offsets[i])]

    def metas_of(self, ids: list[str]) -> dict[str, dict]:
        """chunk id -> metadata (doc_id, title, source, published_at, day, start, end) of the ids that are
        live here; the others (dead, or never indexed) are left out."""
        if not ids:
            return {}
        keys = np.array([c.encode() for c in ids], dtype=bytes)
        out = {}
        for i, seg in enumerate(self.segments):
            dead = self.dead[i]
            for j, r in enumerate(seg.find(keys)):
                if r >= 0 and int(seg.doc[r]) not in dead:
                    out[ids[j]] = seg.meta(int(r))
        return out

    def lead(self, doc_id: str) -> str:
        i, k = self.live[doc_id]
        seg = self.segments[i]
        return seg.ids[seg.docs["leads"][k]].decode()

    def stamp(self, doc_id: str) -> int | None:
        """The live version's article-record stamp (`written`), None when the article is not here."""
        found = self.live.get(doc_id)
        return None if found is None else self.segments[found[0]].docs["stamps"][found[1]]

    def search(self, query: str, n: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the n best live chunks with a score above 0, among those `mask` (one
        weight per row, 0 = left out) keeps."""
        found = self._top("chunks", query, n, mask if mask is not None else self._alive)
        return [(self.chunk_id(r), s) for r, s in found]

    def search_articles(self, query: str, n: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(doc id, BM25 score) of the n best live whole articles; `mask` is per row, as for `search`: an
        article is kept when its lead chunk is."""
        doc_mask = mask[self._leads] if mask is not None else self._doc_alive
        return [(self.doc_id(d), s) for d, s in self._top("articles", query, n, doc_mask)]

    def _top(self, which: str, query: str, n: int, mask: np.ndarray | None) -> list[tuple[int, float]]:
        """The n best rows (chunks or articles, numbered across segments) with a score above 0."""
        from bm25s.selection import topk

        found = self.scores(which, query)
        if found is None:
            return []
        if mask is not None:
            found *= mask  # as bm25s's weight_mask: filtered search is exact, with no deeper search to filter after
        top, rows = topk(found, min(n, len(found)), backend="auto", sorted=True)
        return [(int(r), float(s)) for r, s in zip(rows, top) if s > 0]

    def scores(self, which: str, query: str) -> np.ndarray | None:
        """BM25 scores of every row of `which` ("chunks" or "articles"), numbered across segments; None when
        no query word is in a live row. Dead rows score too (callers mask them)."""
        indexes = [getattr(s, which) for s in self.segments]
        alive = self._alive if which == "chunks" else self._doc_alive
        live, average = self._stats[which]
        if not live:
            return None
        out, matched = np.zeros(sum(ix.n for ix in indexes), dtype=np.float32), False
        offsets = np.cumsum([0] + [ix.n for ix in indexes])
        for token in query_tokens(query):
            columns = [(ix, int(o), c) for ix, o in zip(indexes, offsets) if (c := ix.column(token)) is not None]
            df = sum(len(rows) if alive is None else int(np.count_nonzero(alive[rows + o])) for _, o, (rows, _) in columns)
            if not df:
                continue
            matched, weight = True, idf(df, live)
            for ix, o, (rows, tf) in columns:
                out[rows + o if o else rows] += scores(weight, tf, ix.lengths[rows], average)
        return out if matched else None

    @cached_property
    def _stats(self) -> dict[str, tuple[int, float]]:
        """which -> (live rows, their mean length in tokens): the N and average length of BM25."""
        out = {}
        for which, alive in (("chunks", self._alive), ("articles", self._doc_alive)):
            lengths = np.concatenate([getattr(s, which).lengths for s in self.segments] or [np.zeros(0, np.int32)])
            if alive is not None:
                lengths = lengths[alive]
            out[which] = (len(lengths), float(lengths.mean()) if len(lengths) else 0.0)
        return out

    def _date_ok(self, filters) -> np.ndarray:
        since, until = filters.days
        ok = np.ones(self.rows, dtype=bool)
        if since is not None or until is not None:
            ok &= self._days >= 0
        if since is not None:
            ok &= self._days >= since
        if until is not None:
            ok &= self._days <= until
        return ok

    def share(self, filters) -> float:
        """The fraction of live chunks a date filter lets through."""
        ok = self._date_ok(filters) & (self._days >= 0)
        if self._alive is not None:
            ok = ok[self._alive]
        return float(ok.mean()) if len(ok) else 0.0

    def mask(self, filters) -> np.ndarray:
        """1.0 for each live chunk `filters` (rag.retrieve.Filters) accepts, 0.0 for the others."""
        ok = self._date_ok(filters)
        if filters.source:  # judged once per article, not per chunk
            docs = np.fromiter((filters.accepts_source({"source": src, "doc_id": d, "title": t})
                                for s in self.segments
                                for d, t, src in zip(s.docs["doc_ids"], s.docs["titles"], s.docs["sources"])),
                               dtype=bool, count=int(self.doc_offsets[-1]))
            ok &= docs[self._doc_of_row]
        if self._alive is not None:
            ok &= self._alive
        return ok.astype(np.float32)

    def _df(self, token: str) -> int:
        """Live chunks holding a stem."""
        alive, out = self._alive, 0
        for seg, offset in zip(self.segments, self.row_offsets):
            column = seg.chunks.column(token)
            if column is not None:
                out += len(column[0]) if alive is None else int(np.count_nonzero(alive[column[0] + int(offset)]))
        return out

    def doc_freq(self, words: list[str]) -> list[int | None]:
        """Chunks holding each word; a compound ("US-China") is as rare as its rarest part, since BM25's
        tokenizer splits it. None for a word BM25 does not index (a stopword, or a single character: the "6" of
        "Pixel 6"), which no count of chunks says anything about."""
        return [min(self._df(s) for s in stems) if (stems := query_tokens(w)) else None for w in words]

    def idf(self, words: list[str]) -> np.ndarray:
        """Rarity of each word in the indexed chunks, for weighting question words when picking sentences."""
        n = max(len(self), 1)
        df = np.array([d or 0 for d in self.doc_freq(words)], dtype=np.float32)
        return np.log(1 + (n - df + 0.5) / (df + 0.5))

    @cached_property
    def words(self) -> dict[str, int]:
        """Surface word -> occurrences in the articles of all segments (dead ones too, until merged: typo
        correction only ranks equally near corrections by it)."""
        if len(self.segments) == 1:
            return self.segments[0].words
        out: dict[str, int] = {}
        for seg in self.segments:
            for w, c in seg.words.items():
                out[w] = out.get(w, 0) + c
        return out

    @property
    def speller(self):
        """SymSpell over the corpus words (`spelling.min_len` letters or more, used `min_count` times or more)
        and the English forms of corpus stems (`_english_forms`), read from `speller_path` and topped up with
        the words it lacks (a new segment's), saved back when it gained any; built on the first question with
        an unknown word."""
        if self._speller is None:
            from symspellpy import SymSpell

            speller = SymSpell(max_dictionary_edit_distance=2, prefix_length=7)
            path = self.speller_path
            loaded = path is not None and path.is_file() and _load_pickle(speller, path)
            added = 0
            corpus = [(w, c) for w, c in self.words.items() if c >= self.spelling.min_count]
            for word, count in [*corpus, *((w, 1) for w in self._english_forms())]:
                if len(word) >= self.spelling.min_len:
                    if word in speller.words:
                        speller.words[word] = count  # counts break ties between equally near corrections
                    else:
                        speller.create_dictionary_entry(word, count)
                        added += 1
            if path is not None and (added or not loaded):
                tmp = path.with_name(f"{path.name}.{id(self)}.tmp")
                speller.save_pickle(tmp)
                tmp.replace(path)
            self._speller = speller
        return self._speller

    @cached_property
    def long_forms(self) -> dict[str, tuple[str, int]]:
        """Initials -> the capitalised phrase they most often stand for in the corpus, and its count."""
        return merge([s.acronyms for s in self.segments])

    def expand(self, query: str) -> tuple[str, dict[str, str]]:
        """The query with each acronym the corpus never uses ("USTR") replaced by the capitalised phrase its
        letters stand for most often in the corpus ("U.S. Trade Representative"; rag/acronyms.py), and the
        replacements made."""
        found = {token: long[0] for token, letters in acronyms(query)
                 if not self._uses(letters.lower()) and (long := self.long_forms.get(letters)) is not None}
        if not found:
            return query, {}
        pattern = "|".join(rf"(?<!\w){re.escape(t)}(?!\w)" for t in found)  # "AI", not the "AI" of "SAID"
        return re.sub(pattern, lambda m: found[m.group()], query), found

    def unknown(self, query: str) -> list[str]:
        """The query's words, as written, that are neither a corpus word (as written or by stem) nor an English
        one (`_english`): in a spelling-corrected query (`correct`), a name the corpus never mentions
        ("Tarnby"), however the question is cased and whatever the NER makes of it."""
        # Latin letters only: capitals and the English list say nothing about a word of another script
        return [w for w in dict.fromkeys(TOKEN.findall(query))
                if w.isascii() and w.isalpha() and len(w) >= self.spelling.min_len and (low := w.lower()) not in STOPWORDS
                and low not in _english() and not self._uses(low) and not _near_english(low)]

    def _uses(self, word: str) -> bool:
        """Whether the corpus has a lower-case word, as written or by its stem: no typo, no unknown acronym."""
        return any(word in s.words for s in self.segments) or bool(self._df(self.stemmer.stemWord(word)))

    def _english_forms(self) -> list[str]:
        """English words (`_english`) the corpus uses only in another form: their stem is a corpus stem
        ("exempt" where the corpus writes "exemptions"), so a typo of one ("exmept") is corrected to it."""
        words = sorted(w for w in _english() if len(w) >= self.spelling.min_len and w not in self.words)
        vocab = set().union(*(s.chunks.vocab for s in self.segments))
        return [w for w, st in zip(words, self.stemmer.stemWords(words)) if st in vocab]

    def correct(self, query: str) -> tuple[str, dict[str, str]]:
        """The query with each misspelt word replaced by its nearest corpus word (`fix`), and the
        replacements made (lower-case word -> correction)."""
        fixes = {w: f for w in {t.lower() for t in TOKEN.findall(query)} if (f := self.fix(w))}
        if not fixes:
            return query, {}
        return TOKEN.sub(lambda m: _cased(fixes.get(m.group().lower()), m.group()), query), fixes

    def fix(self, word: str) -> str | None:
        """The corpus word a misspelt lower-case word stands for, or None: the nearest by edit distance
        (adjacent swaps count as one edit); among equally near ones, one keeping the first letter, then the
        most frequent. A word is left as
        written when the corpus has it (or its stem), when it holds a digit or CJK, is shorter than `spelling.min_len`
        or a stopword, when it is an English word of its own (symspellpy's frequency list: the corpus
        just lacks it, so there is no evidence of a typo) or when no corpus word is one edit away (two
        from `spelling.long_len` letters)."""
        if (not self.rows or len(word) < self.spelling.min_len or any(c.isdigit() for c in word) or CJK.search(word)
                or word in STOPWORDS or word in _english() or self._uses(word)):
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


_ENGLISH: frozenset[str] | None = None


def _near_english(word: str) -> bool:
    """Whether one edit (a letter dropped, added, replaced, or two swapped: Norvig's `edits1`) makes the word an
    English one (`_english`): "newpaper", "retailate" are misspellings the corpus cannot correct, not names."""
    letters, splits = "abcdefghijklmnopqrstuvwxyz", [(word[:i], word[i:]) for i in range(len(word) + 1)]
    edits = ({a + b[1:] for a, b in splits if b} | {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
             | {a + c + b[1:] for a, b in splits if b for c in letters} | {a + c + b for a, b in splits for c in letters})
    return not edits.isdisjoint(_english())


def _english() -> frozenset[str]:
    """The 82,765 English words of symspellpy's frequency dictionary (Google Books n-grams x SCOWL): a
    question word found there is a word the corpus lacks, not a typo."""
    global _ENGLISH
    if _ENGLISH is None:
        from importlib.resources import files

        text = (files("symspellpy") / "frequency_dictionary_en_82_765.txt").read_text(encoding="utf-8")
        _ENGLISH = frozenset(line.split(" ", 1)[0] for line in text.splitlines() if line)
    return _ENGLISH
