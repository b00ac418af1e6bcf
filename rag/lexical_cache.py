"""Keeps the BM25 segments (rag/segment.py) in step with the store, reading only what changed.

The cache lives in one folder per store and collection: segment folders plus `manifest.json`, which
names the live segments, each segment's dead articles, and what the cache last saw of the store: its
chunk and article counts, the index folder's write generation (rag/store.py), and a watermark, the
newest article-record stamp (`written`, set by `Store.write`) taken in.

    LexicalCache(store, root, spelling, generation).current(lex) -> Lexical

`current` returns `lex` (or a fresh view of the manifest) while the counts and the generation are as
last seen: two count calls, no read of chunks. Otherwise it syncs, from article records only:

- records written since the watermark, plus records whose id the cache does not hold (from the list of
  article ids), are new or changed articles: their chunks are read (by doc_id) into one new segment,
  and their older versions are marked dead;
- cached articles whose record is gone (pruned, or folded into a near-duplicate) are marked dead.

An article record is the commit marker (rag/store.py), so chunks without one never enter. Segments
then merge by size, as in an LSM tree: the newest two while the older is no larger than the newer and
both fit in `segment_rows` (so there are O(log n) small ones), and a segment more than half dead is
rewritten; a merge reads only its live articles' chunks. The whole store is read only on the first
build, or when the cache does not match the store (another collection, an older cache format), streamed
into segments of `segment_rows` chunks so memory stays bounded.

Several processes share the folder: a file lock serialises syncs, the manifest is replaced atomically and
a segment is removed only after the manifest no longer names it.
"""
from __future__ import annotations

import fcntl
import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .lexical import Lexical, Spelling
from .segment import Segment

# bumped when the cache layout or its tokens change (6: CJK bigrams), so an old cache is rebuilt rather than misread
FORMAT = "6"
SEGMENT_ROWS = 250_000  # chunks per segment of a full build, and the largest a merge makes


class LexicalCache:
    def __init__(self, store, root: Path, spelling: Spelling, generation: Callable[[], str],
                 segment_rows: int = SEGMENT_ROWS):
        self.store, self.root, self.spelling, self.generation = store, Path(root), spelling, generation
        self.segment_rows = segment_rows
        self._loaded: dict[str, Segment] = {}
        self._lock = threading.Lock()

    @property
    def speller_path(self) -> Path:
        return self.root / f"speller-{self.spelling.min_len}-{self.spelling.min_count}.pickle"

    def current(self, lex: Lexical | None = None) -> Lexical:
        """The view of the store's committed chunks, synced first when the store changed since last seen."""
        with self._lock, self._file_lock():
            manifest = self._read()
            generation, counts = self.generation(), self.store.counts()
            view = None
            if manifest is not None:
                try:
                    view = lex if lex is not None and lex.seen.get("version") == manifest["version"] else self._view(manifest)
                except (OSError, ValueError, KeyError):  # a segment unreadable: the cache is only derived data
                    view = None
            if view is None:
                return self._rebuild(generation, counts)
            if (manifest["chunks"], manifest["articles"]) == counts and manifest["generation"] == generation:
                return view
            return self._sync(view, manifest, generation, counts)

    @contextmanager
    def _file_lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / "lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _read(self) -> dict | None:
        """The manifest, or None when it is missing, unreadable, of another format or of another store."""
        try:
            manifest = json.loads((self.root / "manifest.json").read_text())
            ok = manifest["format"] == FORMAT and manifest["store"] == self.store.identity()
            return manifest if ok and all((self.root / name).is_dir() for name in manifest["segments"]) else None
        except (OSError, ValueError, KeyError):
            return None

    def _view(self, manifest: dict) -> Lexical:
        names = manifest["segments"]
        self._loaded = {n: self._loaded.get(n) or Segment.load(self.root / n) for n in names}
        return Lexical([self._loaded[n] for n in names], [set(manifest["dead"].get(n, [])) for n in names],
                       self.spelling, self.speller_path, seen=manifest)

    def _save(self, segments: list[Segment], dead: list[set[int]], watermark: int, generation: str,
              counts: tuple[int, int]) -> Lexical:
        manifest = {"format": FORMAT, "store": self.store.identity(), "version": uuid.uuid4().hex,
                    "segments": [s.name for s in segments],
                    "dead": {s.name: sorted(d) for s, d in zip(segments, dead) if d},
                    "watermark": watermark, "generation": generation, "chunks": counts[0], "articles": counts[1]}
        tmp = self.root / f"manifest.json.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(manifest))
        tmp.replace(self.root / "manifest.json")
        self._loaded = {s.name: s for s in segments}
        for path in self.root.iterdir():  # segments no view of this manifest can name any more
            if path.is_dir() and path.name not in self._loaded:
                shutil.rmtree(path, ignore_errors=True)
        return Lexical(segments, dead, self.spelling, self.speller_path, seen=manifest)

    def _build(self, ids: list[str], texts: list[str], metas: list[dict], stamps: dict[str, int]) -> Segment:
        return Segment.build(ids, texts, metas, stamps, self.root / f"s-{uuid.uuid4().hex[:12]}")

    def _rebuild(self, generation: str, counts: tuple[int, int]) -> Lexical:
        """Every committed chunk, read page by page and built into segments of `segment_rows` chunks; an
        article's chunks go into one segment once all of them (its record's `n_chunks`) have been read."""
        for path in self.root.iterdir():
            if path.name != "lock":
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        records = self.store.article_state()
        stamps = {d: int(m.get("written", 0)) for d, m in records.items()}
        segments, pending, done, ready = [], {}, set(), ([], [], [])
        for page in self.store.chunk_pages():
            for cid, text, meta in zip(*page):
                doc = meta["doc_id"]
                record = records.get(doc)
                if doc in done or record is None or record["doc_hash"] != meta["doc_hash"]:
                    continue  # a half-written or replaced version, or a row read twice
                rows = pending.setdefault(doc, [])
                rows.append((cid, text, meta))
                if len(rows) == record.get("n_chunks"):
                    done.add(doc)
                    for col, values in zip(ready, zip(*pending.pop(doc))):
                        col.extend(values)
            if len(ready[0]) >= self.segment_rows:
                segments.append(self._build(*ready, stamps))
                ready = ([], [], [])
        for rows in pending.values():  # fewer chunks than the record says: keep what there is
            for col, values in zip(ready, zip(*rows)):
                col.extend(values)
        if ready[0]:
            segments.append(self._build(*ready, stamps))
        return self._save(segments, [set() for _ in segments], max(stamps.values(), default=0), generation, counts)

    def _sync(self, view: Lexical, manifest: dict, generation: str, counts: tuple[int, int]) -> Lexical:
        present = set(self.store.article_ids())
        records = {d: m for d, m in self.store.records_since(manifest["watermark"]).items() if d in present}
        unknown = [d for d in present if d not in view.live and d not in records]
        records.update(self.store.records(unknown))  # e.g. written by an older version, without a stamp
        changed = {d: m for d, m in records.items() if view.stamp(d) != int(m.get("written", 0))}
        segments, dead = list(view.segments), [set(d) for d in view.dead]
        for doc in [d for d in view.live if d not in present or d in changed]:
            i, k = view.live[doc]
            dead[i].add(k)
        if changed:
            ids, texts, metas = self.store.chunks_of({d: m["doc_hash"] for d, m in changed.items()})
            if ids:
                segments.append(self._build(ids, texts, metas, {d: int(m.get("written", 0)) for d, m in changed.items()}))
                dead.append(set())
        segments, dead = self._compact(segments, dead)
        watermark = max([manifest["watermark"]] + [int(m.get("written", 0)) for m in records.values()])
        return self._save(segments, dead, watermark, generation, counts)

    def _compact(self, segments: list[Segment], dead: list[set[int]]) -> tuple[list[Segment], list[set[int]]]:
        """Drops segments whose articles are all dead, rewrites one more than half dead, and merges the newest
        two while the older holds no more live chunks than the newer and both fit in `segment_rows`."""
        out: list[tuple[Segment, set[int], int]] = []
        for seg, gone in zip(segments, dead):
            live = seg.n - int(np.bincount(seg.doc, minlength=seg.n_docs)[sorted(gone)].sum()) if gone else seg.n
            if live * 2 < seg.n:
                seg, gone = self._merge([(seg, gone)]), set()
                live = seg.n if seg else 0
            if live:
                out.append((seg, gone, live))
        while len(out) >= 2 and out[-2][2] <= out[-1][2] and out[-2][2] + out[-1][2] <= self.segment_rows:
            merged = self._merge(out[-2:])
            out[-2:] = [(merged, set(), merged.n)] if merged else []
        return [s for s, _, _ in out], [d for _, d, _ in out]

    def _merge(self, parts: list[tuple]) -> Segment | None:
        """One segment over the live articles of the (segment, dead articles, ...) parts, their chunks read
        again from the store; None when none of them has chunks there any more."""
        hashes, stamps = {}, {}
        for seg, gone, *_ in parts:
            for k, doc in enumerate(seg.docs["doc_ids"]):
                if k not in gone:
                    hashes[doc], stamps[doc] = seg.docs["hashes"][k], seg.docs["stamps"][k]
        ids, texts, metas = self.store.chunks_of(hashes)
        return self._build(ids, texts, metas, stamps) if ids else None
