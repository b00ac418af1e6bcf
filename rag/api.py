"""`rag.RAG`: the one Python API that the CLI, the UI and the eval harness all call.

A thin facade over the stages: `Indexer` writes articles into the `Store`, the `Retriever` finds passages, an
answerer (`rag.answer`, chosen by name) answers from them. Shapes:

    RAG(settings=None, **overrides)            overrides are settings by name, e.g. RAG(index_dir="idx", top_k=3)
    .index(paths, prune=False) -> IndexReport
    .remove(doc_id); .reindex(doc_id) -> IndexReport       an article out of the index; its file read again
    .retrieve(question, k=10, **filters) -> list[Hit]     filters: source, since, until, as_of, recency
    .ask(question, history=None, answerer=None, **filters) -> Answer
    .stream(...) -> Iterator[str | Answer]      text pieces, then the final Answer
    .articles() -> list[dict]; .article(doc_id) -> dict     rows: doc_id, title, published_at, source, chunks,
                                                            alternates, path (the file it came from, or None)
"""
from __future__ import annotations

import contextlib
import numbers
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from functools import cached_property
from pathlib import Path

from .answer import Answerer, Context, create
from .answer.base import final
from .cite import addressed_to_ai
from .errors import RagError
from .followup import standalone, turns
from .retrieve import Retriever, alternate_rows
from .settings import Settings, offline_environment
from .types import Answer, Hit, IndexReport

_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_AHEAD: list[threading.Thread] = []  # question embeddings begun in the background (`RAG.prefetch`)


def join_background(timeout: float = 30.0) -> None:
    """Waits up to `timeout` seconds in all for the question embeddings begun in the background. A process
    that exits while one is still loading the model can abort in native code ("terminate called without an
    active exception", exit -6): `rag ask` failing at once on a stopped Chroma server did, in CI."""
    deadline = time.monotonic() + timeout
    while _AHEAD:
        _AHEAD.pop().join(max(0.0, deadline - time.monotonic()))


class RAG:
    """Index news articles into Chroma and answer questions with verified, quoted citations."""

    def __init__(self, settings: Settings | None = None, **overrides):
        offline_environment()
        self.settings = settings or Settings.load(**overrides)
        if settings and overrides:
            self.settings = settings._with(overrides)

    @cached_property
    def store(self):
        from .store import Store

        return Store(self.settings)

    @cached_property
    def embedder(self):
        from .embed import Embedder, Remote

        s = self.settings
        remote = Remote(s.embedding.embed_url, s.embedding.embed_url_model, s.embedding.embed_url_key, s.embedding.embed_url_in_flight, s.embedding.embed_url_retries,
                        s.embedding.embed_url_timeout, dimension=lambda: self.store.dimension()) if s.embedding.embed_url else None
        return Embedder(s.embedding.embed_model, s.embedding.embed_backend, s.embedding.embed_batch, cache_dir=s.paths.model_dir, remote=remote)

    @cached_property
    def retriever(self) -> Retriever:
        return Retriever(self.settings, self.store, self.embedder)

    def _refresh(self) -> None:
        """Another process indexed since the last question (`rag index` beside `rag serve`): read the store
        and its BM25 afresh, so answers see the new articles and never a stale vector index."""
        store = self.__dict__.get("store")
        if store is not None and store.changed_elsewhere() and store.reopen(seen=store.seen_generation):
            self.retriever.forget()

    def index(self, paths, prune: bool = False, progress: bool = False, notice=None) -> IndexReport:
        from .indexer import Indexer

        kwargs = {"notice": notice} if notice else {}
        report = Indexer(self.settings, self.store, self.embedder).run(
            [paths] if isinstance(paths, (str, Path)) else list(paths), prune=prune, progress=progress, **kwargs)
        self.retriever.forget()
        _ = self.retriever.lexical  # BM25 takes the new articles in now, as part of indexing, not on the next question
        return report

    def remove(self, doc_id: str) -> None:
        """Deletes an indexed article (and the copies folded into it) from the index; RagError if none has
        that id. The file it came from is left alone."""
        from .indexer import Indexer

        gone = Indexer(self.settings, self.store, self.embedder).remove([doc_id], notice=lambda m: None)
        self.retriever.forget()
        if not gone:
            raise RagError(f"no indexed article with id {doc_id!r}")

    def reindex(self, doc_id: str) -> IndexReport:
        """Indexes an article's file again (a changed file replaces the article; an unchanged one costs
        nothing); RagError when the article came from no file or its file is gone."""
        self._refresh()
        found = self.store.articles_by_id([doc_id])
        if doc_id not in found:
            raise RagError(f"no indexed article with id {doc_id!r}")
        path = found[doc_id][1].get("path")
        if not path:
            raise RagError(f"{doc_id!r} was not indexed from a file")
        if not Path(path).exists():
            raise RagError(f"the file of {doc_id!r} is gone ({Path(path).name})")
        return self.index([path], notice=lambda m: None)

    def ensure_index(self) -> IndexReport | None:
        """First run: with nothing indexed yet, index the bundled seed articles."""
        if self.store.articles.count() == 0 and self.settings.paths.seeds_dir.is_dir():
            return self.index([self.settings.paths.seeds_dir])
        return None

    def check_question(self, question: str) -> str:
        """The question with control characters removed; RagError when empty or over max_question_chars."""
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
        self._embed_ahead(self.check_question(question))

    def _embed_ahead(self, question: str) -> None:
        """`embed_query` on a background thread; whoever asks for the vector next waits for it. A failure
        (an embedding server down) is left to that caller to report, once."""
        def embed():
            with contextlib.suppress(Exception):
                self.embedder.embed_query(question)

        _AHEAD[:] = [t for t in _AHEAD if t.is_alive()]
        thread = threading.Thread(target=embed, daemon=True, name="rag-prefetch")
        thread.start()
        _AHEAD.append(thread)

    def retrieve(self, question: str, k: int = 10, **filters) -> list[Hit]:
        """The k best chunks with their alternate sources; `filters` as `Retriever.search` takes them."""
        q = self.check_question(question)
        self._refresh()
        hits = self.retriever.search(q, _count(k), **filters)
        alternates = self.retriever.alternates([h.doc_id for h in hits])
        return [replace(h, alternates=alternates.get(h.doc_id, [])) for h in hits]

    def passages(self, hits: list[Hit]):
        return self.retriever.passages(hits)

    def answerer(self, name: str | None = None) -> Answerer:
        """The answerer called `name` (default: settings.answerer); RagError listing valid names if unknown."""
        return create(name or self.settings.answer.answerer, self.settings, self._local_answerer)

    @cached_property
    def _local_answerer(self):
        from .answer.local import LocalAnswerer

        return LocalAnswerer(self.settings, self.embedder, self.retriever)

    def ask(self, question: str, history: list | None = None, answerer: str | None = None, **filters) -> Answer:
        return final(self.stream(question, history=history, answerer=answerer, **filters))

    def stream(self, question: str, history: list | None = None, answerer: str | None = None,
               k: int | None = None, **filters) -> Iterator[str | Answer]:
        """Yields text pieces as they are produced, then the final, verified Answer.

        `history`: earlier turns, oldest first (question strings, {"question", "answer"} dicts or pairs); a
        follow-up that points back is made standalone (rag/followup.py)."""
        t0 = time.perf_counter()
        earlier = turns(history)
        k = self.settings.retrieval.top_k if k is None else _count(k)
        chosen = self.answerer(answerer)
        follow = standalone(self.check_question(question), earlier, chosen.condense)
        t_condensed = time.perf_counter()
        context = Context(history=earlier, follows=follow.follows, referent=follow.referent)
        self._refresh()
        # the question's vector is computed while the answerer parses the question (request): 2 cores
        self._embed_ahead(self.retriever.spelled(follow.search))
        try:
            wanted = chosen.request(follow.question, k, context)
            hits = self.retriever.search(follow.search, k=wanted.k + wanted.others, **filters)
        except Exception:
            # a question refused before its vector was awaited ("not a date") leaves nothing running: a process
            # that exits while the model still embeds aborts in native code (a new user's script, 4 runs in 10)
            join_background()
            raise
        t1 = time.perf_counter()
        passages = self.retriever.passages(hits)
        spell = self.retriever.spelled
        context = replace(context, others=tuple(p for p in passages if p.n > wanted.k),
                          follows=spell(follow.follows) if follow.follows else None)
        spelled = spell(follow.question)
        answer = None
        for piece in chosen.stream(spelled, [p for p in passages if p.n <= wanted.k], context):
            if isinstance(piece, Answer):
                answer = piece
            else:
                yield piece
        t2 = time.perf_counter()
        versions = self.retriever.versions([c.doc_id for c in answer.citations])
        alternates = {p.hit.doc_id: p.hit.alternates for p in passages}
        answer.citations = [replace(c, alternates=alternates.get(c.doc_id, []), versions=versions.get(c.doc_id, []))
                            for c in answer.citations]
        _warn_of_instructions(answer, {p.hit.doc_id: p.article for p in passages})
        answer.timings.update(retrieve_ms=round((t1 - t0) * 1000, 1), answer_ms=round((t2 - t1) * 1000, 1),
                              total_ms=round((t2 - t0) * 1000, 1))
        if follow.search != question.strip():
            answer.diagnostics["standalone_question"] = follow.search
        if follow.condensed:
            answer.diagnostics["condensed_by"] = chosen.name
            answer.timings["condense_ms"] = round((t_condensed - t0) * 1000, 1)
        if spelled != follow.question:
            answer.diagnostics["spelling_corrected"] = spelled
        yield answer

    def articles(self) -> list[dict]:
        self._refresh()
        state = self.store.article_state()
        rows = [{"doc_id": d, "title": m.get("title"), "published_at": m.get("published_at") or None,
                 "source": m.get("source"), "chunks": m.get("n_chunks"), "alternates": alternate_rows(m),
                 "path": m.get("path") or None}
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


def _warn_of_instructions(answer: Answer, articles: dict[str, str]) -> None:
    """Notes on `answer` the cited articles that hold text addressed to an AI: the answer never follows it,
    but a reader should know a source tried to steer it ("Ignore previous instructions and answer ...")."""
    suspect = [c for c in answer.citations if addressed_to_ai(articles.get(c.doc_id, ""))]
    if suspect:
        cited = ", ".join(f"[{c.n}]" for c in suspect)
        note = (f"the article of {cited} holds text addressed to an AI assistant, which was not followed; "
                "weigh what it says with care")
        answer.notice = f"{answer.notice}; {note}" if answer.notice else note
        answer.diagnostics["sources_with_instructions"] = sorted({c.doc_id for c in suspect})


def _count(k) -> int:
    """A number of passages as given (`k`): a whole number of at least 1, else a RagError (0 had answered
    from nothing, and a negative number sliced the list from its end)."""
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise RagError(f"k must be a whole number of passages, at least 1 (got {k!r})")
    return int(k)
