"""load -> chunk -> embed -> store, idempotently: unchanged articles cost nothing, changed ones are replaced."""
from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import replace

from .chunk import Chunker
from .dedup import NearDuplicates, decode, differing_values, encode, signature
from .embed import Embedder
from .errors import RagError
from .load import Skip, load
from .settings import Settings
from .store import Store, write_lock
from .types import Chunk, Document, IndexReport

FLUSH_CHUNKS = 256  # chunks encoded per batch and handed to the writer thread


def embedding_text(doc: Document, chunk: Chunk, with_title: bool) -> str:
    """What the model sees: the title gives a short chunk the context of its story."""
    if not with_title or chunk.text.startswith(doc.title):
        return chunk.text
    return f"{doc.title}\n{chunk.text}"


class Indexer:
    def __init__(self, settings: Settings, store: Store, embedder: Embedder):
        self.settings, self.store, self.embedder = settings, store, embedder
        self._chunker: Chunker | None = None

    @property
    def chunker(self) -> Chunker:
        if self._chunker is None:
            indexing = self.settings.indexing
            self._chunker = Chunker(self.embedder.tokenize, indexing.chunk_tokens, indexing.chunk_overlap)
        return self._chunker

    def run(self, paths, prune: bool = False, progress: bool = False,
            notice: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> IndexReport:
        report, t0 = IndexReport(), time.perf_counter()
        docs = list(load(paths, self.settings.indexing.max_file_mb))
        with write_lock(self.settings, notice), self.store.writing():
            articles = self.store.article_state()
            stored = self._repair(articles, report)
            folds = Folds(articles, self.settings.indexing.near_duplicate_threshold,
                          lambda d: (self.store.articles_by_id([d]).get(d) or (None,))[0])
            ids = Ids(articles)
            seen: set[str] = set()
            bar = _progress(len(docs), progress)

            def say(message: str) -> None:
                with bar.external_write_mode(file=sys.stderr):  # the message on its own line, the bar redrawn below
                    notice(message)
            with Writer() as writer:
                pending: list[tuple[Document, list[Chunk], list[str], bool]] = []
                for item in docs:
                    bar.update(1)
                    if isinstance(item, Skip):
                        report.skipped.append((item.input, item.reason))
                        say(f"skipped {item.input}: {item.reason}")
                        continue
                    item = ids.assign(item)
                    for where, warning in item.warnings:
                        report.warnings.append((where, warning))
                        say(f"warning: {where}: {warning}")
                    if item.doc_id in seen:
                        why = "the same file as one read before in this run" if item.key and ids.by_key.get(
                            item.key) == item.doc_id else "duplicate id"
                        report.skipped.append((item.source, f"{why} (id {item.doc_id!r})"))
                        continue
                    seen.add(item.doc_id)
                    old = articles.get(item.doc_id)
                    if old and old["doc_hash"] == item.content_hash and stored.complete(item.doc_id, old["n_chunks"]):
                        report.unchanged += 1
                        if item.key and old.get("key") != item.key:  # recorded before files had a key
                            self.store.update_article(item.doc_id, {"key": item.key, "path": item.path or ""})
                        continue
                    have = stored.get(item.doc_id) if old else []
                    if folds.fold(item):
                        report.folded += 1
                        if old:
                            self.store.delete_chunks(list(have))
                            self.store.delete_articles([item.doc_id])
                        continue
                    chunks = self.chunker.chunks(item)
                    if not chunks:
                        report.skipped.append((item.source, "no text to index"))
                        continue
                    stale = [cid for cid in have if cid not in {c.chunk_id for c in chunks}]
                    pending.append((item, chunks, stale, old is not None))
                    if sum(len(p[1]) for p in pending) >= FLUSH_CHUNKS:
                        self._flush(pending, report, folds, writer)
                self._flush(pending, report, folds, writer)
            bar.close()
            if prune:
                gone = [d for d in articles if d not in seen]
                self.store.delete_chunks([cid for d in gone for cid in stored.get(d)])
                self.store.delete_articles(gone)
                report.removed = len(gone)
                folds.keep_only(seen, gone)
            else:
                report.missing_ids = missing_files(articles, seen, paths)
                report.missing = len(report.missing_ids)
            for doc_id, meta in folds.changed().items():
                self.store.update_article(doc_id, meta)
        report.seconds = time.perf_counter() - t0
        return report

    def remove(self, doc_ids: list[str], notice: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> list[str]:
        """Deletes indexed articles with their chunks and the copies folded into them; an article that listed
        one as another version no longer does. Returns the ids that were indexed (and are now gone)."""
        with write_lock(self.settings, notice), self.store.writing():
            articles = self.store.article_state()
            gone = [d for d in dict.fromkeys(doc_ids) if d in articles]
            if not gone:
                return []
            folds = Folds(articles, self.settings.indexing.near_duplicate_threshold, lambda d: None)
            # the record (the commit marker) first: a run killed before the chunks go leaves only orphan
            # chunks, which retrieval never trusts and the next run's `_repair` deletes
            self.store.delete_articles(gone)
            self.store.delete_chunks(self.store.chunk_ids_of(gone))
            folds.drop(gone)
            for doc_id, meta in folds.changed().items():
                self.store.update_article(doc_id, meta)
        return gone

    def _repair(self, articles: dict[str, dict], report: IndexReport) -> "StoredChunks":
        """Drop chunks a killed run left behind (no article record, or an older/newer version than it).

        When the store holds exactly the chunks its records count, nothing was left behind and no chunk is
        read: on a big store, reading every chunk's metadata was most of a small run's time."""
        if self.store.chunks.count() == sum(int(m.get("n_chunks", 0)) for m in articles.values()):
            return StoredChunks(self.store)
        by_doc: dict[str, dict[str, dict]] = {}
        orphans = []
        for cid, meta in self.store.chunk_state().items():
            art = articles.get(meta["doc_id"])
            if art is None or art["doc_hash"] != meta["doc_hash"]:
                orphans.append(cid)
            else:
                by_doc.setdefault(meta["doc_id"], {})[cid] = meta
        self.store.delete_chunks(orphans)
        report.repaired = len(orphans)
        return StoredChunks(self.store, by_doc)

    def _flush(self, pending: list, report: IndexReport, folds: Folds, writer: Writer) -> None:
        if not pending:
            return
        title = self.settings.embedding.title_in_embedding
        texts = [embedding_text(doc, c, title) for doc, chunks, _, _ in pending for c in chunks]
        vectors = self.embedder.embed(texts)
        rows, at = [], 0
        for doc, chunks, stale, _ in pending:
            rows.append((doc, chunks, vectors[at:at + len(chunks)], stale, folds.record(doc.doc_id)))
            at += len(chunks)
        counts = [(len(chunks), existed) for _, chunks, _, existed in pending]
        pending.clear()

        def write() -> None:
            self.store.write(rows)
            for n, existed in counts:
                report.chunks_written += n
                if existed:
                    report.updated += 1
                else:
                    report.added += 1
        writer.submit(write)


class StoredChunks:
    """Each indexed article's stored chunk ids: all read by a repair (`by_doc`), or else read per article
    when one is replaced, folded or pruned, and taken as complete (the store's chunk count matched)."""

    def __init__(self, store: Store, by_doc: dict[str, dict[str, dict]] | None = None):
        self.store, self.by_doc = store, by_doc

    def get(self, doc_id: str) -> list[str]:
        if self.by_doc is not None:
            return list(self.by_doc.get(doc_id, {}))
        return self.store.chunk_ids_of([doc_id])

    def complete(self, doc_id: str, n_chunks: int) -> bool:
        return self.by_doc is None or len(self.by_doc.get(doc_id, {})) == n_chunks


def missing_files(articles: dict[str, dict], seen: set[str], paths) -> list[str]:
    """Indexed articles whose files, under a folder named in this run, no longer exist (kept until --prune)."""
    folders = [os.path.join(os.path.abspath(p), "") for p in paths if os.path.isdir(p)]
    return [d for d, m in articles.items() if d not in seen and m.get("path")
            and any(m["path"].startswith(f) for f in folders) and not os.path.exists(m["path"])]


class Ids:
    """Gives each file an id no other file holds, and the same file the same id on every run.

    A file's id is the first of its `Document.ids` (its path relative to the folder named, then with more
    of its parent folders) not held by another file: `rag index north/report.txt` then `south/report.txt`
    gives `report.txt` and `south/report.txt`. A file already indexed keeps its id, found by its key (its
    real path), however it is named. Records written before keys were kept count as the file whose
    source they name.
    """

    def __init__(self, articles: dict[str, dict]):
        self.holder: dict[str, str | None] = {}  # id -> key of the file holding it (None: no key known)
        self.source: dict[str, str] = {}
        for d, m in articles.items():
            self.holder[d], self.source[d] = m.get("key") or None, m.get("source") or ""
            for a in json.loads(m.get("alternates") or "[]"):
                self.holder[a["doc_id"]], self.source[a["doc_id"]] = a.get("key") or None, a.get("source") or ""
        self.by_key = {k: d for d, k in self.holder.items() if k}

    def assign(self, doc: Document) -> Document:
        if not doc.key:
            return doc
        chosen = self.by_key.get(doc.key) or next((i for i in doc.ids if self._free(i, doc)), doc.key)
        self.holder[chosen], self.by_key[doc.key] = doc.key, chosen
        return doc if chosen == doc.doc_id else replace(doc, doc_id=chosen)

    def _free(self, doc_id: str, doc: Document) -> bool:
        if doc_id not in self.holder:
            return True
        if self.holder[doc_id] is None:  # an older record: the same file if it names the same source
            source = self.source.get(doc_id, "")
            return source == doc.source or os.path.realpath(source.split(":")[0]) == doc.key.split("#")[0]
        return False


class Writer:
    """Stores one encoded batch on a background thread while the next one is encoded (bench/ingest.py).

    At most one batch is in flight and batches are written in order, each article's chunks before its
    record, so what a crash leaves behind is the same as with inline writes; a write error is raised
    in the indexing thread at the next submit or at `wait`.
    """

    def __init__(self):
        from concurrent.futures import ThreadPoolExecutor

        self._pool = ThreadPoolExecutor(1, thread_name_prefix="rag-writer")
        self._last = None

    def submit(self, fn) -> None:
        self.wait()
        self._last = self._pool.submit(fn)

    def wait(self) -> None:
        last, self._last = self._last, None
        if last is not None:
            last.result()

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc) -> None:
        try:
            if exc[0] is None:
                self.wait()
        finally:
            self._pool.shutdown(wait=True)


class Folds:
    """Which articles are near-duplicates of which; kept across runs in the article records' metadata.

    A copy is listed as an alternate source of the first indexed article it (or an earlier copy of it)
    nearly repeats, and its chunks are not stored, so one wire story takes one place in the results.
    A near-duplicate whose differing words carry a value (a date, amount or name: `differing_values`)
    is not a copy but another report of the story: it is indexed, and each of the two lists the other
    in its "versions" ([{"doc_id", "similarity"}], JSON in the article record like "alternates").
    `text_of` reads a stored article's text, to compare a new near-duplicate with it.
    """

    def __init__(self, articles: dict[str, dict], threshold: float, text_of: Callable[[str], str | None]):
        if not 0 <= threshold <= 1:
            raise RagError(f"near_duplicate_threshold must be between 0 (off) and 1, not {threshold}")
        self.index = NearDuplicates(threshold) if threshold > 0 else None
        self.alternates = {d: json.loads(m.get("alternates") or "[]") for d, m in articles.items()}
        self.owner = {a["doc_id"]: d for d, alts in self.alternates.items() for a in alts}
        self.versions = {d: json.loads(m.get("versions") or "[]") for d, m in articles.items()}
        self.live, self.touched, self.signatures = set(articles), set(), {}
        self.text_of, self.texts = text_of, {}
        for d, m in articles.items():
            if self.index and m.get("minhash"):
                self.index.add(d, decode(m["minhash"]))
            for a in self.alternates[d]:
                if self.index and a.get("minhash"):
                    self.index.add(a["doc_id"], decode(a["minhash"]))

    def fold(self, doc: Document) -> bool:
        """True when `doc` nearly copies an indexed article and is now listed as its alternate instead."""
        if self.index is None:
            return False
        canon = self.owner.get(doc.doc_id)
        if canon and any(a["doc_id"] == doc.doc_id and a["doc_hash"] == doc.content_hash and a.get("same_values")
                         for a in self.alternates[canon]):
            return True
        sig = signature(doc.text, doc.title)
        matches = self.index.matches(doc.doc_id, sig)
        self._unlist(doc.doc_id)
        self._unlink(doc.doc_id)
        self.index.add(doc.doc_id, sig)
        canon, versions = None, {}
        for other, similarity in matches:
            other = self.owner.get(other, other)
            if other == doc.doc_id or other in versions:
                continue
            text = self.texts.get(other) or self.text_of(other)
            if text is None or not any(differing_values(text, doc.text)):
                canon = other
                break
            versions[other] = similarity
        if canon is None:
            self.signatures[doc.doc_id], self.texts[doc.doc_id] = sig, doc.text
            for other, similarity in versions.items():
                self.versions.setdefault(doc.doc_id, []).append({"doc_id": other, "similarity": round(similarity, 3)})
                self.versions.setdefault(other, []).append({"doc_id": doc.doc_id, "similarity": round(similarity, 3)})
                self.touched.add(other)
            return False
        self.live.discard(doc.doc_id)
        moved = self.alternates.pop(doc.doc_id, [])
        self.alternates.setdefault(canon, []).extend(moved + [{
            "doc_id": doc.doc_id, "title": doc.title, "source": doc.source, "published_at": doc.published_at,
            "key": doc.key or "", "path": doc.path or "", "doc_hash": doc.content_hash,
            "similarity": round(similarity, 3), "minhash": encode(sig), "same_values": True}])
        self.owner.update({a["doc_id"]: canon for a in self.alternates[canon]})
        self.touched.add(canon)
        return True

    def _unlist(self, doc_id: str) -> None:
        canon = self.owner.pop(doc_id, None)
        if canon:
            self.alternates[canon] = [a for a in self.alternates[canon] if a["doc_id"] != doc_id]
            self.touched.add(canon)

    def _unlink(self, doc_id: str) -> None:
        for v in self.versions.pop(doc_id, []):
            self.versions[v["doc_id"]] = [w for w in self.versions.get(v["doc_id"], []) if w["doc_id"] != doc_id]
            self.touched.add(v["doc_id"])

    def record(self, doc_id: str) -> dict:
        """Metadata for the article record being written: its alternates, versions and signature."""
        self.live.add(doc_id)
        self.touched.discard(doc_id)
        meta = {"alternates": json.dumps(self.alternates.get(doc_id, [])),
                "versions": json.dumps(self.versions.get(doc_id, []))}
        if doc_id in self.signatures:
            meta["minhash"] = encode(self.signatures[doc_id])
        return meta

    def keep_only(self, seen: set[str], gone: list[str]) -> None:
        """After a prune: articles and alternates whose files were not named are no longer listed."""
        self.live -= set(gone)
        for doc_id in gone:
            self._unlink(doc_id)
        for canon, alts in self.alternates.items():
            kept = [a for a in alts if a["doc_id"] in seen]
            if len(kept) != len(alts):
                self.alternates[canon] = kept
                self.touched.add(canon)

    def drop(self, gone: list[str]) -> None:
        """Articles removed from the index: no longer live nor another's version; their copies go with them."""
        for doc_id in gone:
            self.live.discard(doc_id)
            self._unlink(doc_id)
            for a in self.alternates.pop(doc_id, []):
                self.owner.pop(a["doc_id"], None)

    def changed(self) -> dict[str, dict]:
        """Stored articles whose alternates or versions changed after their record was written: new metadata."""
        return {d: {"alternates": json.dumps(self.alternates.get(d, [])), "versions": json.dumps(self.versions.get(d, []))}
                for d in self.touched if d in self.live}


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="article", disable=not enabled or total < 2, file=sys.stderr, leave=False)
