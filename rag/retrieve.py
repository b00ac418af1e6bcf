"""Hybrid retrieval: dense (Chroma) + chunk BM25 + whole-article BM25, fused by weighted distribution-based
score fusion or reciprocal rank (`fusion` setting), with filters, recency and per-article diversity; then each
hit's whole article for the answerer.

    Retriever(settings, store, embedder)
      .search(question, k, source=, since=, until=, as_of=, recency=) -> list[Hit], best first
      .passages(hits) -> list[Passage]        hits numbered 1..n with their articles, alternates filled
      .alternates(doc_ids) / .versions(doc_ids) -> {doc_id: [article rows]}
      .lexical -> rag.lexical.Lexical          BM25 state, synced when the store changed (rag/lexical_cache.py)
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from .answer.base import Passage
from .errors import RagError
from .lexical import Lexical, Spelling
from .lexical_cache import LexicalCache
from .store import Store, day_number, generation
from .text import parse_date, wants_recent
from .types import Hit


@dataclass(frozen=True)
class Filters:
    """Which articles a question may draw on: a source substring and a published-date range."""

    source: str | None = None
    since: str | None = None
    until: str | None = None

    def where(self) -> dict | None:
        clauses = []
        since, until = self.days
        if since is not None:
            clauses.append({"day": {"$gte": since}})
        if until is not None:
            clauses.append({"day": {"$lte": until}})
        if self.since or self.until:
            clauses.append({"day": {"$gte": 0}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    @cached_property
    def days(self) -> tuple[int | None, int | None]:
        """The range as day numbers, parsed once rather than for every candidate."""
        return (day_number(iso_date(self.since)) if self.since else None,
                day_number(iso_date(self.until)) if self.until else None)

    def described(self) -> str:
        """The filters for a message: "source, id or title contains 'ap'; published on or after 2030-01-01"."""
        said = [f"source, id or title contains {self.source!r}"] if self.source else []
        said += [f"published on or after {self.since}"] if self.since else []
        said += [f"published on or before {self.until}"] if self.until else []
        return "; ".join(said)

    @property
    def active(self) -> bool:
        return bool(self.source or self.since or self.until)

    def accepts_source(self, meta: dict) -> bool:
        return not self.source or self.source.lower() in " ".join(
            str(meta.get(k) or "") for k in ("source", "doc_id", "title")).lower()  # a byline is often in the title

    def accepts(self, meta: dict) -> bool:
        if not self.accepts_source(meta):
            return False
        day = meta.get("day", -1)
        since, until = self.days
        if (since is not None or until is not None) and day < 0:
            return False
        if since is not None and day < since:
            return False
        return not (until is not None and day > until)


def iso_date(value: str) -> str:
    """YYYY-MM-DD of a date value (rag.text.parse_date); RagError when it is not one."""
    day = parse_date(value)
    if day is None:
        raise RagError(f"not a date: {value!r} (use YYYY-MM-DD)")
    return day.isoformat()


DATE_FILTERS = ("since", "until", "as_of")  # the filters that leave out an article without a date


def undated_left_out(values: dict[str, str], rows: list[dict]) -> int:
    """How many of the articles (`RAG.articles` rows) a date filter leaves out for being undated, counting only
    those the source filter would have let through; 0 when no date filter is set."""
    if not any(values.get(k) for k in DATE_FILTERS):
        return 0
    keep = Filters(source=values.get("source") or None)
    return sum(1 for r in rows if not r.get("published_at") and keep.accepts_source(
        {"source": r.get("source") or "", "doc_id": r["doc_id"], "title": r.get("title") or ""}))


def undated_note(n: int) -> str:
    """"N undated articles were left out by the date filter", or "" for none."""
    if not n:
        return ""
    return f"{n} undated article{'s were' if n != 1 else ' was'} left out by the date filter"


def fuse(rankings: list[tuple[list[str], float]], k: int) -> dict[str, float]:
    """Weighted reciprocal rank fusion: each ranking (ids, best first) adds weight / (k + rank) to its ids."""
    scores: dict[str, float] = {}
    for ids, weight in rankings:
        for rank, cid in enumerate(ids):
            scores[cid] = scores.get(cid, 0.0) + weight / (k + rank + 1)
    return scores


def spread(scored: list[tuple[str, float]]) -> dict[str, float]:
    """Distribution-based scaling of one scorer's (id, score) list (DBSF, as Haystack's DocumentJoiner and
    Qdrant do it): mean − 3σ of the list maps to 0 and mean + 3σ to 1, so a clear leader stands out and a near
    tie does not; a list of equal scores says nothing (all 0)."""
    if not scored:
        return {}
    values = np.array([x for _, x in scored], dtype=np.float64)
    low, width = values.mean() - 3 * values.std(), 6 * values.std()
    return {key: float((x - low) / width) if width > 0 else 0.0 for key, x in scored}


def fuse_scores(lists: list[tuple[list[tuple[str, float]], float]]) -> dict[str, float]:
    """Weighted distribution-based score fusion: each list of (id, score) adds weight × its `spread` score."""
    scores: dict[str, float] = {}
    for scored, weight in lists:
        for key, x in spread(scored).items():
            scores[key] = scores.get(key, 0.0) + weight * x
    return scores


def recency_boost(scores: dict[str, float], metas: dict[str, dict], half_life: float, as_of: int | None) -> dict[str, float]:
    """Multiplies each fused score by 2^(-age/half_life), age measured from the newest candidate or `as_of`."""
    days = [m.get("day", -1) for m in metas.values() if m.get("day", -1) >= 0]
    if not days:
        return scores
    ref = as_of if as_of is not None else max(days)
    out = {}
    for cid, s in scores.items():
        day = metas[cid].get("day", -1)
        age = max(ref - day, 0) if day >= 0 else 3 * half_life
        out[cid] = s * (0.5 + 0.5 * 2 ** (-age / half_life))
    return out


def diversify(ranked: list[str], metas: dict[str, dict], per_doc: int) -> list[str]:
    """Keep at most `per_doc` chunks of one article near the top so other articles get a look in."""
    counts: dict[str, int] = {}
    head, tail = [], []
    for cid in ranked:
        doc = metas[cid]["doc_id"]
        counts[doc] = counts.get(doc, 0) + 1
        (head if counts[doc] <= per_doc else tail).append(cid)
    return head + tail


def to_hit(cid: str, score: float, text: str, meta: dict, similarity: float = 0.0) -> Hit:
    return Hit(chunk_id=cid, doc_id=meta["doc_id"], title=meta.get("title", ""), source=meta.get("source", ""),
               published_at=meta.get("published_at") or None, score=round(score, 6), text=text,
               start=int(meta["start"]), end=int(meta["end"]), similarity=round(similarity, 6))


def alternate_rows(meta: dict) -> list[dict]:
    """The near-duplicate copies folded into an article at indexing (rag/dedup.py), from its record."""
    return [{k: a.get(k) for k in ("doc_id", "title", "source", "published_at", "similarity")}
            for a in json.loads(meta.get("alternates") or "[]")]


class Retriever:
    """Finds the chunks that answer a question in one store. Reads only; `Indexer` writes."""

    def __init__(self, settings, store: Store, embedder):
        self.settings, self.store, self.embedder = settings, store, embedder
        self._lexical: Lexical | None = None
        self._stale = False
        self._lock = threading.Lock()

    @cached_property
    def cache(self) -> LexicalCache:
        s = self.settings
        # a server's store is named by its chunk collection's id, not its URL: a server restarted on another
        # port keeps its BM25 cache (a rebuild is minutes at a million chunks, bench/scale.py)
        name = "bm25" if not s.store.chroma_url else f"bm25-{self.store.chunks.id}"
        return LexicalCache(self.store, s.paths.index_dir / f"{name}-{s.store.collection}", Spelling.of(s),
                            lambda: generation(s))

    @property
    def lexical(self) -> Lexical:
        """The BM25 state over the committed chunks: one count of the article records per question, and a sync
        that reads only what changed (rag/lexical_cache.py) when that count moved or `forget` was called
        (`RAG` calls it when the index folder's write generation moved, rag/store.py). Records, the commit
        marker, are counted rather than chunks: Chroma counts row by row, 0.1–0.2 s for a million chunks on
        a server against about 10 ms for their 50,000 records (bench/scale.py: two chunk counts, here and in
        `Store.dense`, were two thirds of a question's 0.3 s)."""
        lex = self._lexical
        if lex is None or self._stale or self.store.articles.count() != lex.seen.get("articles"):
            with self._lock:
                self._stale, self._lexical = False, self.cache.current(self._lexical)
        return self._lexical

    @property
    def words(self) -> Lexical:
        """The BM25 state retrieval last checked against the store, without counting the store again: the
        answerer's word statistics (idf, document frequency)."""
        return self._lexical if self._lexical is not None else self.lexical

    def idf(self, words: list[str]):
        return self.words.idf(words)

    def doc_freq(self, words: list[str]) -> list[int | None]:
        return self.words.doc_freq(words)

    def unknown(self, query: str) -> list[str]:
        return self.words.unknown(query)

    def forget(self) -> None:
        """The next search checks the store afresh (after indexing, or another process's)."""
        self._stale = True

    def spelled(self, question: str) -> str:
        """The question as the corpus writes it, for every retriever and the answerer (rag/lexical.py): an
        acronym the corpus never uses spelt out as the corpus does (`acronym_expansion`), then misspelt words
        corrected to corpus words (`typo_correction`; on the paraphrase set's typo rows, answers matched the
        clean question's 0.81 with BM25 and the answerer corrected, 0.97 with dense retrieval too: README,
        bench/typos.py)."""
        if self.settings.retrieval.acronym_expansion:
            question = self.words.expand(question)[0]
        return self.words.correct(question)[0] if self.settings.retrieval.typo_correction else question

    def search(self, question: str, k: int = 10, source: str | None = None, since: str | None = None,
               until: str | None = None, as_of: str | None = None, recency: bool | None = None) -> list[Hit]:
        """The k best chunks, each with its fused score and its cosine similarity to the question.

        `as_of` means "asked on that day": later articles are left out and recency counts back from it (on
        RealTime QA this lifts hit@5 from 0.91 to 0.98, bench/retrieval.py). `recency` (default: when the
        question asks for the latest) weighs newer articles up. Raises RagError for a bad date, and when no
        indexed article passes `source`, `since` and `until` (a misspelt source had answered "could not find";
        an `as_of` before every article is a question asked too early, answered as such)."""
        s = self.settings
        as_of = iso_date(as_of) if as_of else None
        filters = Filters(source=source, since=since, until=until or as_of)
        where = filters.where()
        lex = self.lexical
        if not len(lex):
            return []
        mask = lex.mask(filters) if filters.active else None
        if mask is not None and not mask.any():
            given = Filters(source=source, since=since, until=until)
            if given.active and (given == filters or not lex.mask(given).any()):
                raise RagError(f"no indexed article matches the filters: {given.described()}")
        n = max(s.retrieval.candidates, k)
        q = self.spelled(question)
        vector = self.embedder.embed_query(q)
        dense = self._dense(lex, vector, n, filters, where)
        found = dict(dense)
        scores, metas = self._fused(lex, q, dense, mask, n)
        if recency if recency is not None else (as_of is not None or wants_recent(q)):
            scores = recency_boost(scores, metas, s.retrieval.recency_half_life_days, day_number(as_of) if as_of else None)
        ranked = diversify(sorted(scores, key=lambda c: -scores[c]), metas, per_doc=s.retrieval.per_article)[:k]
        stored = self.store.texts(ranked)  # a chunk deleted since the BM25 state was read is left out
        return [to_hit(cid, scores[cid], stored[cid][0], metas[cid], float(found[cid] if cid in found else stored[cid][1] @ vector))
                for cid in ranked if cid in stored]

    def _dense(self, lex: Lexical, vector, n: int, filters: Filters, where: dict | None) -> list[tuple[str, float]]:
        """A date filter most chunks pass is cheaper applied to a deeper unfiltered search than inside Chroma,
        which pre-filters every id before its vector search (bench/retrieval.py, as_of rows). Chunks the BM25
        state does not hold (half-written, or removed since) are left out."""
        share, count = lex.share(filters) if where else 1.0, lex.seen.get("chunks")
        if where and share >= 0.5:
            got = self.store.dense(vector, int(n / share) + n, None, count)
            metas = lex.metas_of([c for c, _ in got])
            return [(c, x) for c, x in got if c in metas and filters.accepts(metas[c])][:n]
        got = self.store.dense(vector, n, where, count)
        metas = lex.metas_of([c for c, _ in got])
        return [(c, x) for c, x in got if c in metas and filters.accepts_source(metas[c])]

    def _fused(self, lex: Lexical, q: str, dense: list[tuple[str, float]], mask,
               n: int) -> tuple[dict[str, float], dict[str, dict]]:
        """Chunk id -> fused score of the dense, chunk BM25 and whole-article BM25 lists. Every dense and chunk
        BM25 candidate is kept, at weight 0 too (then it only carries its article's score); an article's score
        goes to each of its candidate chunks, and a top article with no candidate chunk enters through its lead.
        With them, the metadata of those chunks (read for the candidates only, `Lexical.metas_of`)."""
        r = self.settings.retrieval
        lists = [(dense, r.dense_weight), (lex.search(q, n, mask), r.bm25_weight)]
        articles = lex.search_articles(q, n, mask) if r.article_weight else []
        if r.fusion == "dbsf":
            scores, by_doc = fuse_scores(lists), fuse_scores([(articles, r.article_weight)])
        else:
            scores = fuse([([c for c, _ in got], weight) for got, weight in lists], r.rrf_k)
            by_doc = fuse([([d for d, _ in articles], r.article_weight)], r.rrf_k)
        metas = lex.metas_of(list(scores))
        present = {metas[cid]["doc_id"] for cid in scores}
        leads = [lex.lead(d) for d in by_doc if d not in present]
        metas.update(lex.metas_of(leads))
        out = {**scores, **{cid: 0.0 for cid in leads}}
        for cid in out:
            out[cid] += by_doc.get(metas[cid]["doc_id"], 0.0)
        return out, metas

    def passages(self, hits: list[Hit]) -> list[Passage]:
        """Each hit with its whole article (read once per question), numbered 1..n, its alternates filled;
        a hit whose text no longer sits at its offsets (the article changed since) is left out."""
        articles = self.store.articles_by_id([h.doc_id for h in hits])
        out = []
        for h in hits:
            text, meta = articles.get(h.doc_id, (None, None))
            if text is not None and text[h.start:h.end] == h.text:
                out.append(Passage(n=len(out) + 1, hit=replace(h, alternates=alternate_rows(meta)), article=text))
        return out

    def alternates(self, doc_ids: list[str]) -> dict[str, list[dict]]:
        """Near-duplicate copies folded into each article at indexing (rag/dedup.py), as alternate sources."""
        if not doc_ids:
            return {}
        got = self.store.articles.get(ids=list(dict.fromkeys(doc_ids)), include=["metadatas"])
        return {d: alternate_rows(m) for d, m in zip(got["ids"], got["metadatas"])}

    def versions(self, doc_ids: list[str]) -> dict[str, list[dict]]:
        """The other versions of each article (near-copies that change a value, rag/dedup.py), described by
        their own article records; two reads of the article collection, none when nothing is cited."""
        if not doc_ids:
            return {}
        linked = {d: [v["doc_id"] for v in json.loads(m.get("versions") or "[]")]
                  for d, (_, m) in self.store.articles_by_id(doc_ids).items()}
        others = {v for vs in linked.values() for v in vs}
        if not others:
            return {}
        got = self.store.articles.get(ids=sorted(others), include=["metadatas"])
        rows = {i: {"doc_id": i, **{k: m.get(k) or None for k in ("title", "source", "published_at")}}
                for i, m in zip(got["ids"], got["metadatas"])}
        return {d: [rows[v] for v in vs if v in rows] for d, vs in linked.items()}
