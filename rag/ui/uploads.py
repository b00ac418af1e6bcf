"""Articles uploaded in the chat UI: checked as `rag index` checks files (rag.load), copied under the index
folder, indexed, and reported one line per file."""
from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import RagError
from ..load import SUPPORTED, content_problem, suffix_of
from ..text import plural
from .render import md_text

if TYPE_CHECKING:
    from ..api import RAG

log = logging.getLogger("rag.ui")

Progress = Callable[..., object]  # gr.Progress: progress(fraction, desc=...)


def safe_upload_name(name: str) -> str:
    """A plain file name: letters, digits, . _ - only, no leading dot, a suffix `rag index` reads (rag.load's
    SUPPORTED, lower-cased), at most 100 characters before it. Raises RagError for any other suffix."""
    base = Path(str(name).replace("\\", "/")).name
    suffix = suffix_of(Path(base))
    if suffix not in SUPPORTED:
        raise RagError(f"unsupported file type; upload one of {', '.join(SUPPORTED)}")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", base[: -len(suffix)]).strip("._-")[:100] or "upload"
    return stem + suffix


def check_upload(path: Path, name: str, max_mb: float) -> str:
    """Checks an uploaded file (its name's type, its size against the upload limit, its content as rag.load
    reads it); returns its safe name or raises RagError saying what is wrong, in one line."""
    safe = safe_upload_name(name)
    size = path.stat().st_size
    if size > max_mb * 1024 * 1024:
        raise RagError(f"{size / 1048576:.1f} MB is over the {max_mb:g} MB upload limit (RAG_UPLOAD_MAX_MB)")
    problem = content_problem(path, suffix_of(Path(safe)))
    if problem:
        raise RagError(problem)
    return safe


def add_uploads(rag: RAG, files: list | None, progress: Progress | None = None) -> str:
    """Copies each valid upload (a path, or an object with .path or .name) into index_dir/uploads/ and indexes
    it with `rag` (a RAG); returns a Markdown report, one ✓ or ✗ line per file."""
    files = [f for f in (files or []) if f]
    if not files:
        return "No file received."
    target = rag.settings.paths.index_dir / "uploads"
    target.mkdir(parents=True, exist_ok=True)
    existing = None
    lines = []
    for i, f in enumerate(files):
        src = Path(f if isinstance(f, (str, Path)) else getattr(f, "path", None) or getattr(f, "name", ""))
        shown = md_text(src.name)
        try:
            if progress is not None:
                progress(i / len(files), desc=f"Checking {src.name}")
            safe = check_upload(src, src.name, rag.settings.ui.upload_max_mb)
            if existing is None:
                existing = {a["doc_id"]: a.get("source") or "" for a in rag.articles()}
            # an upload never replaces an article indexed from elsewhere that has the same id
            if safe in existing and Path(existing[safe]).parent not in (target.resolve(), target):
                safe = f"upload_{safe}"
            dest = target / safe
            shutil.copyfile(src, dest)
            if progress is not None:
                progress((i + 0.3) / len(files), desc=f"Indexing {safe}")
            report = rag.index([dest], progress=True, notice=lambda m: None)
            if report.seen == 0:
                dest.unlink(missing_ok=True)
                reason = "; ".join(r for _, r in report.skipped) or "nothing to index"
                lines.append(f"✗ **{md_text(safe)}**: not indexed ({md_text(reason)})")
            else:
                what = ("added" if report.added else "updated" if report.updated else "already indexed")
                lines.append(f"✓ **{md_text(safe)}**: {report.seen} {plural(report.seen, 'article')} "
                             f"{what}, {report.chunks_written} {plural(report.chunks_written, 'chunk')}, "
                             f"{report.seconds:.1f} s")
        except RagError as e:
            lines.append(f"✗ **{shown}**: {md_text(str(e))}")
        except Exception as e:  # noqa: BLE001 - shown as one line, logged in full
            log.exception("upload of %s failed", src.name)
            lines.append(f"✗ **{shown}**: unexpected error: {e.__class__.__name__}")
    if progress is not None:
        progress(1.0, desc="Done")
    return "\n\n".join(lines)
