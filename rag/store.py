"""Chroma storage: chunk vectors plus one article record per document, written so a crash never corrupts."""
from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from .errors import RagError, describe
from .settings import PACKAGED_EMBED_MODEL, Settings
from .text import parse_date
from .types import Chunk, Document


def day_number(published_at: str | None) -> int:
    """Dates as integers so Chroma can filter ranges with $gte/$lte; -1 means unknown."""
    day = parse_date(published_at)
    return day.toordinal() if day else -1


def model_name(settings: Settings) -> str:
    """The embedding model an index records (its chunk collection's `embed_model` metadata): the name sent to
    `embed_url`, else the model folder's name, "all-MiniLM-L6-v2" for the packaged model's (unset or named)."""
    from .embed import default_model_path

    e = settings.embedding
    if e.embed_url:
        return e.embed_url_model
    if not e.embed_model or Path(e.embed_model).resolve() == Path(default_model_path()).resolve():
        return PACKAGED_EMBED_MODEL
    return Path(e.embed_model).name


class Store:
    """Article records are the commit marker: chunks are written first, the article last.

    Retrieval only trusts chunks whose doc_hash matches their article's, so a run killed part-way
    leaves nothing visible that is half-written, and the next run's `repair` removes the leftovers.
    """

    def __init__(self, settings: Settings):
        self.settings = settings
        self.location = settings.store.chroma_url or str(settings.paths.index_dir)
        self._reopen_lock = threading.Lock()
        self.seen_generation = generation(settings)
        self.model = model_name(settings)
        self._open()

    def _open(self) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        settings = self.settings
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        try:
            if settings.store.chroma_url:
                url = urlparse(settings.store.chroma_url)
                if url.scheme not in ("http", "https") or not url.hostname:
                    raise RagError(f"RAG_CHROMA_URL {settings.store.chroma_url!r} is not an http(s) URL")
                self.client = chromadb.HttpClient(host=url.hostname, port=url.port or (443 if url.scheme == "https" else 80),
                                                  ssl=url.scheme == "https", settings=chroma_settings)
                self.client.heartbeat()
            else:
                settings.paths.index_dir.mkdir(parents=True, exist_ok=True)
                self.client = chromadb.PersistentClient(path=str(settings.paths.index_dir), settings=chroma_settings)
            chunks = self.client.get_or_create_collection(f"{settings.store.collection}_chunks", embedding_function=None,
                                                          metadata={"hnsw:space": "cosine", "embed_model": self.model})
            articles = self.client.get_or_create_collection(f"{settings.store.collection}_articles", embedding_function=None,
                                                            metadata={"hnsw:space": "cosine"})
        except RagError:
            raise
        except Exception as e:
            raise RagError(f"cannot open the Chroma store at {self.location}: {describe(e)}") from None
        if settings.store.chroma_url:
            self.chunks = _ServerCollection(chunks, self.location)
            self.articles = _ServerCollection(articles, self.location)
        else:
            self.chunks = _Reopening(self, "chunks", chunks)
            self.articles = _Reopening(self, "articles", articles)
        self.batch = min(self.client.get_max_batch_size(), 1000)

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Inside the write lock: read the store afresh if another run wrote since it was opened, and mark
        it changed for readers in other processes as this run starts and as it ends (even if killed
        between, the start's mark tells them)."""
        if self.changed_elsewhere():
            self.reopen()
        try:
            bump_generation(self.settings)
            self.seen_generation = generation(self.settings)
            yield
        finally:
            bump_generation(self.settings)
            self.seen_generation = generation(self.settings)

    def changed_elsewhere(self) -> bool:
        """True once another process (`rag index`) has written to the store since this one last looked."""
        return generation(self.settings) != self.seen_generation

    def reopen(self, seen: str | None = None) -> bool:
        """Reads the store afresh after another process wrote to it.

        An embedded Chroma client keeps the vector index it loaded: after another process's writes it
        answers "Error finding id" until it is opened again, and Chroma shares one open store per folder
        within a process, so that shared instance is dropped first (calls already running keep the old
        one). A server's client always sees the server's current state, so it is left as it is.
        """
        with self._reopen_lock:
            if seen is not None and seen != self.seen_generation:
                return False  # another thread reopened it already
            self.seen_generation = generation(self.settings)
            if self.settings.store.chroma_url:
                return True
            from chromadb.api.shared_system_client import SharedSystemClient

            identifier = getattr(self.client, "_identifier", str(self.settings.paths.index_dir))
            SharedSystemClient._identifier_to_system.pop(identifier, None)
            SharedSystemClient._identifier_to_refcount.pop(identifier, None)
            self._open()
            return True

    def article_state(self) -> dict[str, dict]:
        return dict(zip(*self._get_all(self.articles, ["metadatas"]))) if self.articles.count() else {}

    def chunk_state(self) -> dict[str, dict]:
        return dict(zip(*self._get_all(self.chunks, ["metadatas"]))) if self.chunks.count() else {}

    def _pages(self, collection, include: list[str], where: dict | None = None) -> Iterator[tuple[list, ...]]:
        """(ids, *included columns) a page of up to 5 Chroma batches at a time."""
        offset = 0
        while True:
            got = collection.get(include=include, where=where, limit=self.batch * 5, offset=offset)
            if not got["ids"]:
                return
            yield (got["ids"], *(got[key] for key in include))
            offset += len(got["ids"])

    def _get_all(self, collection, include: list[str], where: dict | None = None) -> tuple[list, ...]:
        cols: tuple[list, ...] = tuple([] for _ in range(len(include) + 1))
        for page in self._pages(collection, include, where):
            for col, values in zip(cols, page):
                col += values
        return cols

    def counts(self) -> tuple[int, int]:
        """(chunks, article records) in the store."""
        return self.chunks.count(), self.articles.count()

    def identity(self) -> str:
        """The two collections' ids: they change when the collections are deleted and made again."""
        return f"{self.chunks.id}/{self.articles.id}"

    def chunk_pages(self) -> Iterator[tuple[list[str], list[str], list[dict]]]:
        """Every chunk as (ids, texts, metadatas) pages, for a reader that must see all of them once."""
        yield from self._pages(self.chunks, ["documents", "metadatas"])

    def article_ids(self) -> list[str]:
        return self._get_all(self.articles, [])[0]

    def records(self, doc_ids: list[str]) -> dict[str, dict]:
        """doc_id -> article record metadata, of those of `doc_ids` that have one."""
        out = {}
        for i in range(0, len(doc_ids), self.batch):
            got = self.articles.get(ids=doc_ids[i:i + self.batch], include=["metadatas"])
            out.update(zip(got["ids"], got["metadatas"]))
        return out

    def records_since(self, stamp: int) -> dict[str, dict]:
        """doc_id -> metadata of the article records written (`written`, by `write`) at or after `stamp`."""
        return dict(zip(*self._get_all(self.articles, ["metadatas"], {"written": {"$gte": int(stamp)}})))

    def chunks_of(self, versions: dict[str, str]) -> tuple[list[str], list[str], list[dict]]:
        """(ids, texts, metadatas) of the chunks of the given article versions (doc_id -> doc_hash), read by
        doc_id, 100 articles a query."""
        docs, ids, texts, metas = list(versions), [], [], []
        for i in range(0, len(docs), 100):
            for cid, text, meta in zip(*self._get_all(self.chunks, ["documents", "metadatas"],
                                                      {"doc_id": {"$in": docs[i:i + 100]}})):
                if versions.get(meta["doc_id"]) == meta["doc_hash"]:
                    ids.append(cid), texts.append(text), metas.append(meta)
        return ids, texts, metas

    def texts(self, ids: list[str]) -> dict[str, tuple[str, np.ndarray]]:
        """chunk id -> (text, stored vector) of the ids still in the store."""
        if not ids:
            return {}
        got = self.chunks.get(ids=ids, include=["documents", "embeddings"])
        return {i: (t, np.asarray(v, dtype=np.float32)) for i, t, v in zip(got["ids"], got["documents"], got["embeddings"])}

    def write(self, batch: list[tuple[Document, list[Chunk], np.ndarray, list[str], dict]]) -> None:
        """Writes a batch of articles: all their chunks, then all their records, then their stale chunks.

        One call per collection for the whole batch: Chroma's per-call cost made per-article writes a
        third of the indexing overhead (bench/ingest.py). Records still land only after their chunks.
        """
        if not batch:
            return
        written = stamp()  # the records' commit time: what BM25 reads since it last looked (rag/lexical_cache.py)
        ids, vectors, texts, metas, records = [], [], [], [], []
        for doc, chunks, vecs, _, article_meta in batch:
            base = {"doc_id": doc.doc_id, "doc_hash": doc.content_hash, "title": doc.title, "source": doc.source,
                    "published_at": doc.published_at or "", "day": day_number(doc.published_at)}
            ids += [c.chunk_id for c in chunks]
            vectors.append(vecs)
            texts += [c.text for c in chunks]
            metas += [{**base, "start": c.start, "end": c.end} for c in chunks]
            mean = vecs.mean(axis=0)
            records.append((doc, mean / (np.linalg.norm(mean) or 1.0),
                            {**base, **(article_meta or {}), "n_chunks": len(chunks), "written": written,
                             "key": doc.key or "", "path": doc.path or "",
                             **{k: v for k, v in (("author", doc.author), ("site", doc.site)) if v}}))
        stacked = np.concatenate(vectors)
        with self._same_model(stacked.shape[1], writing=True):
            for i in range(0, len(ids), self.batch):
                self.chunks.upsert(ids=ids[i:i + self.batch], embeddings=stacked[i:i + self.batch],
                                   documents=texts[i:i + self.batch], metadatas=metas[i:i + self.batch])
        for i in range(0, len(records), self.batch):
            part = records[i:i + self.batch]
            self.articles.upsert(ids=[d.doc_id for d, _, _ in part], embeddings=[v for _, v, _ in part],
                                 documents=[d.text for d, _, _ in part], metadatas=[m for _, _, m in part])
        self.delete_chunks([cid for _, _, _, stale, _ in batch for cid in stale])

    def update_article(self, doc_id: str, meta: dict) -> None:
        """Merge keys into an article record's metadata (its alternate sources), leaving the rest."""
        self.articles.update(ids=[doc_id], metadatas=[meta])

    def chunk_ids_of(self, doc_ids: list[str]) -> list[str]:
        """The ids of the chunks stored for these articles."""
        return self.chunks.get(where={"doc_id": {"$in": list(doc_ids)}}, include=[])["ids"] if doc_ids else []

    def delete_chunks(self, ids: list[str]) -> None:
        for i in range(0, len(ids), self.batch):
            self.chunks.delete(ids=ids[i:i + self.batch])

    def delete_articles(self, doc_ids: list[str]) -> None:
        for i in range(0, len(doc_ids), self.batch):
            self.articles.delete(ids=doc_ids[i:i + self.batch])

    def dense(self, vector: np.ndarray, n: int, where: dict | None, count: int | None = None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the n nearest chunks. `count`: the chunk count the caller last saw;
        the store is counted again only when that is unknown or under 2n (Chroma wants n_results <= its
        count, and counts row by row: 0.1–0.2 s at a million chunks on a server)."""
        if count is None or count < 2 * n:
            count = self.chunks.count()
        n = min(n, count)
        if n <= 0:
            return []
        with self._same_model(len(vector)):
            got = self.chunks.query(query_embeddings=[vector], n_results=n, where=where or None, include=["distances"])
        return [(i, 1.0 - d) for i, d in zip(got["ids"][0], got["distances"][0])]

    def dimension(self) -> int | None:
        """The length of the stored chunk vectors; None for an empty store."""
        got = self.chunks.get(limit=1, include=["embeddings"])
        return len(got["embeddings"][0]) if len(got["ids"]) else None

    @contextmanager
    def _same_model(self, length: int, writing: bool = False):
        """Vectors of the model the index was built with, or one line saying which model that was: another
        model's vectors of the same length would be compared silently, and of another length Chroma refuses
        them. An empty index takes the model of its first write. Nothing of a refused call is written."""
        from chromadb.errors import InvalidArgumentError

        recorded = (self.chunks.metadata or {}).get("embed_model")
        # counted only on a mismatch, and for an index from before models were recorded (None) only when writing:
        # a question's path stays free of a count (0.1-0.2 s at a million chunks on a server)
        if recorded != self.model and (writing or recorded is not None):
            if self.chunks.count() == 0:
                if writing:
                    self.chunks.modify(metadata={"embed_model": self.model})  # keeps the cosine space (its configuration)
            elif recorded is not None:
                raise RagError(f"the index at {self.location} was built with the embedding model {recorded}, not "
                               f"{self.model}: set RAG_EMBED_MODEL to that model's folder (unset for the packaged "
                               f"{PACKAGED_EMBED_MODEL}) or RAG_EMBED_URL_MODEL to its name, or use another index "
                               "(RAG_INDEX_DIR)")
        try:
            yield
        except InvalidArgumentError:
            stored = self.dimension()
            if stored is None or stored == length:
                raise
            raise RagError(f"the index at {self.location} holds {stored}-dimensional vectors and the embedding "
                           f"model gives {length}: set RAG_EMBED_MODEL (or RAG_EMBED_URL) to the model it was "
                           "built with, or use another index (RAG_INDEX_DIR)") from None

    def articles_by_id(self, doc_ids: list[str]) -> dict[str, tuple[str, dict]]:
        if not doc_ids:
            return {}
        got = self.articles.get(ids=list(dict.fromkeys(doc_ids)), include=["documents", "metadatas"])
        return {i: (d, m) for i, d, m in zip(got["ids"], got["documents"], got["metadatas"])}


_last_stamp = 0
_stamp_lock = threading.Lock()


def stamp() -> int:
    """Nanoseconds since the epoch, strictly increasing within the process."""
    global _last_stamp
    with _stamp_lock:
        _last_stamp = max(time.time_ns(), _last_stamp + 1)
        return _last_stamp


def _generation_file(settings: Settings) -> Path:
    return Path(settings.paths.index_dir) / "generation"


def generation(settings: Settings) -> str:
    """Changes whenever an indexing run writes to the store (`Store.writing`, as it starts and as it ends),
    so a long-lived reader, such as `rag serve`, knows to read the store afresh."""
    try:
        return _generation_file(settings).read_text()
    except OSError:
        return ""


def bump_generation(settings: Settings) -> None:
    path = _generation_file(settings)
    tmp = path.with_name(f".generation-{os.getpid()}")
    tmp.write_text(f"{time.time_ns()}-{os.getpid()}")
    os.replace(tmp, path)


@contextmanager
def write_lock(settings: Settings, notice=print) -> Iterator[None]:
    """One writer per store: a second `rag index` waits for the first instead of interleaving."""
    lock_dir = settings.paths.index_dir
    lock_dir.mkdir(parents=True, exist_ok=True)
    name = "write.lock" if not settings.store.chroma_url else f"write-{hashlib.sha1(settings.store.chroma_url.encode()).hexdigest()[:10]}.lock"
    with open(Path(lock_dir) / name, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            notice(f"another indexing run is writing to {settings.store.chroma_url or lock_dir}; waiting for it to finish")
            t = time.monotonic()
            fcntl.flock(fh, fcntl.LOCK_EX)
            notice(f"lock acquired after {time.monotonic() - t:.1f}s")
        fh.seek(0), fh.truncate(), fh.write(str(os.getpid())), fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


class _Reopening:
    """An embedded collection that, when Chroma reports an internal error (its loaded vector index no longer
    matches what another process wrote), reopens the store once and repeats the call."""

    def __init__(self, store: Store, name: str, collection):
        self._store, self._name, self._collection = store, name, collection

    def __getattr__(self, name: str):
        from chromadb.errors import InternalError

        attr = getattr(self._collection, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            try:
                return attr(*args, **kwargs)
            except InternalError:
                self._store.reopen()
                return getattr(getattr(self._store, self._name)._collection, name)(*args, **kwargs)
        return call


class _ServerCollection:
    """A server collection whose calls report a lost connection as one RagError line.

    Each call makes a new HTTP request, so once the server is back the same object works again.
    """

    def __init__(self, collection, location: str):
        self._collection, self._location = collection, location

    def __getattr__(self, name: str):
        import httpx

        attr = getattr(self._collection, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            try:
                return attr(*args, **kwargs)
            except httpx.TransportError as e:
                raise RagError(f"the Chroma server at {self._location} is unavailable: {describe(e)}") from None
        return call

