"""load -> chunk -> embed -> store, idempotently: unchanged articles cost nothing, changed ones are replaced."""
from __future__ import annotations

import sys
import time
from collections.abc import Callable

from .chunk import Chunker
from .embed import Embedder
from .load import Skip, load
from .settings import Settings
from .store import Store, write_lock
from .types import Chunk, Document, IndexReport


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
            self._chunker = Chunker(self.embedder.tokenize, self.settings.chunk_tokens, self.settings.chunk_overlap)
        return self._chunker

    def run(self, paths, prune: bool = False, progress: bool = False,
            notice: Callable[[str], None] = lambda m: print(m, file=sys.stderr)) -> IndexReport:
        report, t0 = IndexReport(), time.perf_counter()
        docs = list(load(paths, self.settings.max_file_mb))
        with write_lock(self.settings, notice):
            articles = self.store.article_state()
            chunks_by_doc = self._repair(articles, report)
            pending: list[tuple[Document, list[Chunk], list[str], bool]] = []
            seen: set[str] = set()
            bar = _progress(len(docs), progress)
            for item in docs:
                bar.update(1)
                if isinstance(item, Skip):
                    report.skipped.append((item.input, item.reason))
                    notice(f"skipped {item.input}: {item.reason}")
                    continue
                if item.doc_id in seen:
                    report.skipped.append((item.source, f"duplicate id {item.doc_id!r} in this run"))
                    continue
                seen.add(item.doc_id)
                old = articles.get(item.doc_id)
                have = chunks_by_doc.get(item.doc_id, {})
                if old and old["doc_hash"] == item.content_hash and len(have) == old["n_chunks"]:
                    report.unchanged += 1
                    continue
                chunks = self.chunker.chunks(item)
                if not chunks:
                    report.skipped.append((item.source, "no text to index"))
                    continue
                stale = [cid for cid in have if cid not in {c.chunk_id for c in chunks}]
                pending.append((item, chunks, stale, old is not None))
                if sum(len(p[1]) for p in pending) >= self.settings.embed_batch * 4:
                    self._flush(pending, report)
            self._flush(pending, report)
            bar.close()
            if prune:
                gone = [d for d in articles if d not in seen]
                self.store.delete_chunks([cid for d in gone for cid in chunks_by_doc.get(d, {})])
                self.store.delete_articles(gone)
                report.removed = len(gone)
        report.seconds = time.perf_counter() - t0
        return report

    def _repair(self, articles: dict[str, dict], report: IndexReport) -> dict[str, dict[str, dict]]:
        """Drop chunks a killed run left behind (no article record, or an older/newer version than it)."""
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
        return by_doc

    def _flush(self, pending: list, report: IndexReport) -> None:
        if not pending:
            return
        texts = [embedding_text(doc, c, self.settings.title_in_embedding) for doc, chunks, _, _ in pending for c in chunks]
        vectors = self.embedder.embed(texts)
        i = 0
        for doc, chunks, stale, existed in pending:
            self.store.write(doc, chunks, vectors[i:i + len(chunks)], stale)
            i += len(chunks)
            report.chunks_written += len(chunks)
            if existed:
                report.updated += 1
            else:
                report.added += 1
        pending.clear()


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="article", disable=not enabled or total < 2, file=sys.stderr, leave=False)
