"""`rag.RAG`: the one Python API that the CLI, the UI and the eval harness all call."""
from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

from .answer.base import Passage
from .answer.phrases import candidates, question_kind
from .errors import RagError
from .followup import standalone
from .retrieve import Filters, diversify, fuse, iso_date, recency_boost, to_hit, wants_recent
from .settings import Settings, offline_environment
from .store import day_number
from .types import Answer, Hit, IndexReport

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# Retrieved beyond the top k for the local answerer to find a report that disagrees with its answer
# (eval: conflicting questions); never quoted as the answer itself.
OTHER_PASSAGES = 10
# A number question's other side is sought this much further down, in the chunks that hold a number. On
# RealTime QA it changes no answer and costs number questions 1.11x median latency (bench/number_depth.py);
# ranking such chunks higher in retrieval instead cost dev MRR 0.759 -> 0.756.
NUMBER_DEPTH = 10


class RAG:
    """Index news articles into Chroma and answer questions with verified, quoted citations."""

    def __init__(self, settings: Settings | None = None, **overrides):
        offline_environment()
        self.settings = settings or Settings.load(**overrides)
        if settings and overrides:
            self.settings = settings._with(overrides)
        self._lexical = None

    @cached_property
    def store(self):
        from .store import Store

        return Store(self.settings)

    @cached_property
    def embedder(self):
        from .embed import Embedder, Remote

        s = self.settings
        remote = Remote(s.embedding.embed_url, s.embedding.embed_url_model, s.embedding.embed_url_key, s.embedding.embed_url_in_flight, s.embedding.embed_url_retries,
                        s.embedding.embed_url_timeout, dimension=self._stored_dimension) if s.embedding.embed_url else None
        return Embedder(s.embedding.embed_model, s.embedding.embed_backend, s.embedding.embed_batch, cache_dir=s.paths.index_dir / "models", remote=remote)

    def _stored_dimension(self) -> int | None:
        got = self.store.chunks.get(limit=1, include=["embeddings"])
        return len(got["embeddings"][0]) if len(got["ids"]) else None

    @property
    def lexical(self):
        from .lexical import Lexical

        count = self.store.chunks.count()
        if self._lexical is None or len(self._lexical.ids) != count:
            ids = self.store._get_all(self.store.chunks, [])[0] if count else []
            self._lexical = Lexical.load_or_build(ids, self._committed_chunks, self._cache_root())
        return self._lexical

    def _loaded_lexical(self):
        """The BM25 state retrieval just checked against the store, without counting the store again."""
        return self._lexical if self._lexical is not None else self.lexical

    def _cache_root(self) -> Path:
        name = "bm25" if not self.settings.store.chroma_url else "bm25-" + re.sub(r"\W+", "_", self.settings.store.chroma_url)
        return self.settings.paths.index_dir / f"{name}-{self.settings.store.collection}"

    def _committed_chunks(self):
        """Chunks whose article record matches them: a half-written article is invisible to BM25."""
        articles = self.store.article_state()
        ids, texts, metas = self.store.all_chunks()
        keep = [i for i, m in enumerate(metas) if articles.get(m["doc_id"], {}).get("doc_hash") == m["doc_hash"]]
        return [ids[i] for i in keep], [texts[i] for i in keep], [metas[i] for i in keep]

    def _refresh(self) -> None:
        """Another process indexed since the last question (`rag index` beside `rag serve`): read the store
        and its BM25 afresh, so answers see the new articles and never a stale vector index."""
        store = self.__dict__.get("store")
        if store is not None and store.changed_elsewhere() and store.reopen(seen=store.seen_generation):
            self._lexical = None

    def index(self, paths, prune: bool = False, progress: bool = False, notice=None) -> IndexReport:
        from .indexer import Indexer

        kwargs = {"notice": notice} if notice else {}
        report = Indexer(self.settings, self.store, self.embedder).run(
            [paths] if isinstance(paths, (str, Path)) else list(paths), prune=prune, progress=progress, **kwargs)
        self._lexical = None
        return report

    def ensure_index(self) -> IndexReport | None:
        """First run: with nothing indexed yet, index the bundled seed articles."""
        if self.store.articles.count() == 0 and self.settings.paths.seeds_dir.is_dir():
            return self.index([self.settings.paths.seeds_dir])
        return None

    def check_question(self, question: str) -> str:
        q = _CONTROL.sub(" ", question or "").strip()
        if not q:
            raise RagError("the question is empty")
        if len(q) > self.settings.answer.max_question_chars:
            raise RagError(f"the question is {len(q):,} characters; the limit is {self.settings.answer.max_question_chars:,} "
                           "(RAG_MAX_QUESTION_CHARS)")
        return q

    def prefetch(self, question: str) -> None:
        """Embeds the question on a background thread: on a cold start it overlaps opening the store
        (importing chromadb alone takes about 1.5 s)."""
        q = self.check_question(question)
        threading.Thread(target=self.embedder.embed_query, args=(q,), daemon=True).start()

    def retrieve(self, question: str, k: int = 10, source: str | None = None, since: str | None = None,
                 until: str | None = None, as_of: str | None = None, recency: bool | None = None) -> list[Hit]:
        """`as_of` means "asked on that day": later articles are left out and recency counts back from it
        (on RealTime QA this lifts hit@5 from 0.91 to 0.98, bench/retrieval.py)."""
        hits = self._search(question, k, source, since, until, as_of, recency)
        alternates = self._alternates([h.doc_id for h in hits])
        for h in hits:
            h.alternates = alternates.get(h.doc_id, [])
        return hits

    def _search(self, question: str, k: int = 10, source: str | None = None, since: str | None = None,
                until: str | None = None, as_of: str | None = None, recency: bool | None = None) -> list[Hit]:
        """Ranked hits with their similarity to the question; alternates are left to the caller's article read."""
        q = self.check_question(question)
        self._refresh()
        as_of = iso_date(as_of) if as_of else None
        filters = Filters(source=source, since=since, until=until or as_of)
        where = filters.where()
        lex = self.lexical
        if not lex.ids:
            return []
        n = max(self.settings.retrieval.candidates, k)
        q = self._spelled(q, lex)
        vector = self.embedder.embed_query(q)
        found = dict(self._dense(lex, vector, n, filters, where))
        dense = list(found)
        depth = n * 3 if (source or where) else n  # filtered out after the search, so look deeper
        lexical = [cid for cid, _ in lex.search(q, depth) if filters.accepts(lex.metas[lex.pos[cid]])][:n]
        dense = [cid for cid in dense if filters.accepts(lex.metas[lex.pos[cid]])]
        scores = fuse([(dense, self.settings.retrieval.dense_weight), (lexical, self.settings.retrieval.bm25_weight)], self.settings.retrieval.rrf_k)
        if self.settings.retrieval.article_weight:
            self._fuse_articles(lex, q, scores, filters, n, depth)
        metas = {cid: lex.metas[lex.pos[cid]] for cid in scores}
        if recency if recency is not None else (as_of is not None or wants_recent(q)):
            scores = recency_boost(scores, metas, self.settings.retrieval.recency_half_life_days,
                                   day_number(as_of) if as_of else None)
        ranked = diversify(sorted(scores, key=lambda c: -scores[c]), metas, per_doc=2)
        hits = [to_hit(cid, scores[cid], lex.texts[lex.pos[cid]], metas[cid]) for cid in ranked[:k]]
        missing = self.store.vectors([h.chunk_id for h in hits if h.chunk_id not in found])
        for h in hits:
            h.similarity = round(float(found[h.chunk_id] if h.chunk_id in found else missing[h.chunk_id] @ vector), 6)
        return hits

    def _spelled(self, q: str, lex) -> str:
        """The question with misspelt words corrected to corpus words (rag/lexical.py), for every retriever
        and the answerer: on the paraphrase set's typo rows, answers matched the clean question's 0.81 with
        BM25 and the answerer corrected, 0.97 with dense retrieval too (README, bench/typos.py)."""
        return lex.correct(q)[0] if self.settings.retrieval.typo_correction else q

    def _dense(self, lex, vector, n: int, filters: Filters, where: dict | None) -> list[tuple[str, float]]:
        """A date filter most chunks pass is cheaper applied to a deeper unfiltered search than inside Chroma,
        which pre-filters every id before its vector search (bench/retrieval.py, as_of rows)."""
        share = lex.share(filters) if where else 1.0
        if where and share >= 0.5:
            got = self.store.dense(vector, int(n / share) + n, None)
            return [(c, s) for c, s in got if c in lex.pos and filters.accepts(lex.metas[lex.pos[c]])][:n]
        return [(c, s) for c, s in self.store.dense(vector, n, where) if c in lex.pos]

    def _alternates(self, doc_ids: list[str]) -> dict[str, list[dict]]:
        """Near-duplicate copies folded into each article at indexing (rag/dedup.py), as alternate sources."""
        if not doc_ids:
            return {}
        got = self.store.articles.get(ids=list(dict.fromkeys(doc_ids)), include=["metadatas"])
        return {d: _alternate_rows(m) for d, m in zip(got["ids"], got["metadatas"])}

    def _versions(self, doc_ids: list[str]) -> dict[str, list[dict]]:
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

    def _fuse_articles(self, lex, q: str, scores: dict[str, float], filters: Filters, n: int, depth: int) -> None:
        """Adds each article's whole-text BM25 rank to its chunks; a top article with no candidate chunk
        enters through its lead."""
        weight, k = self.settings.retrieval.article_weight, self.settings.retrieval.rrf_k
        docs = [d for d, _ in lex.search_articles(q, depth) if filters.accepts(lex.metas[lex.doc_chunks[d][0]])][:n]
        rank = {d: r for r, d in enumerate(docs)}
        present = {lex.metas[lex.pos[cid]]["doc_id"] for cid in scores}
        for d in docs:
            if d not in present:
                scores[lex.lead(d)] = 0.0
        for cid in scores:
            r = rank.get(lex.metas[lex.pos[cid]]["doc_id"])
            if r is not None:
                scores[cid] += weight / (k + r + 1)

    def passages(self, hits: list[Hit]) -> list[Passage]:
        """Each hit with its whole article, read once per question; the same read fills the hits' alternates."""
        articles = self.store.articles_by_id([h.doc_id for h in hits])
        out = []
        for h in hits:
            text, meta = articles.get(h.doc_id, (None, None))
            h.alternates = _alternate_rows(meta) if meta else h.alternates
            if text is not None and text[h.start:h.end] == h.text:
                out.append(Passage(n=len(out) + 1, hit=h, article=text))
        return out

    def answerer(self, name: str | None = None):
        name = name or self.settings.answer.answerer
        local = self._local_answerer
        if name == "local":
            return local
        if name == "openai":
            from .answer.llm import OpenAIAnswerer

            return OpenAIAnswerer(self.settings, fallback=local)
        if name == "local-llm":
            from .answer.local_llm import LocalLLMAnswerer

            return LocalLLMAnswerer(self.settings, fallback=local)
        raise RagError(f"unknown answerer {name!r}; use 'local', 'local-llm' or 'openai'")

    @cached_property
    def _local_answerer(self):
        from .answer.local import LocalAnswerer

        return LocalAnswerer(self.embedder, lambda words: self._loaded_lexical().idf(words),
                             lambda words: self._loaded_lexical().doc_freq(words), self.settings.answer.abstain_threshold,
                             self.settings.answer.max_answer_sentences, self.settings.answer.answer_rescore)

    def ask(self, question: str, history: list[str] | None = None, answerer: str | None = None, **filters) -> Answer:
        answer = None
        for piece in self.stream(question, history=history, answerer=answerer, **filters):
            if isinstance(piece, Answer):
                answer = piece
        return answer

    def stream(self, question: str, history: list[str] | None = None, answerer: str | None = None,
               k: int | None = None, **filters) -> Iterator[str | Answer]:
        """Yields text pieces as they are produced, then the final, verified Answer."""
        t0 = time.perf_counter()
        q = standalone(self.check_question(question), history)
        k = k or self.settings.retrieval.top_k
        chosen = self.answerer(answerer)
        local = chosen is self._local_answerer
        reach = k + OTHER_PASSAGES if local else k
        deeper = NUMBER_DEPTH if local and question_kind(q) == "number" else 0
        hits = self._search(q, k=reach + deeper, **filters)
        hits = hits[:reach] + [h for h in hits[reach:] if candidates("number", h.text)]
        t1 = time.perf_counter()
        passages = self.passages(hits)
        main = [p for p in passages if p.n <= k]
        others = {"others": [p for p in passages if p.n > k]} if local else {}
        answer = None
        spelled = self._spelled(q, self._loaded_lexical())
        for piece in chosen.stream(spelled, main, **others):
            if isinstance(piece, Answer):
                answer = piece
            else:
                yield piece
        t2 = time.perf_counter()
        versions = self._versions([c.doc_id for c in answer.citations])
        for c in answer.citations:
            c.alternates = next((h.alternates for h in hits if h.doc_id == c.doc_id), [])
            c.versions = versions.get(c.doc_id, [])
        answer.timings.update(retrieve_ms=round((t1 - t0) * 1000, 1), answer_ms=round((t2 - t1) * 1000, 1),
                              total_ms=round((t2 - t0) * 1000, 1))
        if q != question.strip():
            answer.diagnostics["standalone_question"] = q
        if spelled != q:
            answer.diagnostics["spelling_corrected"] = spelled
        yield answer

    def articles(self) -> list[dict]:
        self._refresh()
        state = self.store.article_state()
        rows = [{"doc_id": d, "title": m.get("title"), "published_at": m.get("published_at") or None,
                 "source": m.get("source"), "chunks": m.get("n_chunks"), "alternates": _alternate_rows(m)}
                for d, m in state.items()]
        return sorted(rows, key=lambda r: (r["published_at"] or "", r["doc_id"]), reverse=True)

    def article(self, doc_id: str) -> dict:
        self._refresh()
        found = self.store.articles_by_id([doc_id])
        if doc_id not in found:
            raise RagError(f"no indexed article with id {doc_id!r}")
        text, meta = found[doc_id]
        return {"doc_id": doc_id, "text": text, "title": meta.get("title"), "source": meta.get("source"),
                "published_at": meta.get("published_at") or None}


def _alternate_rows(meta: dict) -> list[dict]:
    return [{k: a.get(k) for k in ("doc_id", "title", "source", "published_at", "similarity")}
            for a in json.loads(meta.get("alternates") or "[]")]
