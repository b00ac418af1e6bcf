"""Turn files and folders of news articles into Documents; bad inputs become skips, never crashes."""
from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

from .errors import RagError
from .types import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED = sorted(TEXT_SUFFIXES | HTML_SUFFIXES | {".jsonl", ".jsonl.gz"})
_DATE_LINE = re.compile(r"^\s*date\s*[:=]?\s*(\d{4}-\d{2}-\d{2})\b[ \t]*", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Skip:
    """An input that was not indexed, and why (counted in the IndexReport)."""

    input: str
    reason: str


def suffix_of(path: Path) -> str:
    name = path.name.lower()
    return ".jsonl.gz" if name.endswith(".jsonl.gz") else path.suffix.lower()


def expand(paths: list[str | Path]) -> list[tuple[Path, Path] | Skip]:
    """(file, root) pairs, root being the folder the user named (doc ids are paths relative to it), and
    Skips for what a folder holds but cannot be read: a broken link, or a link back to a folder already
    read (a loop). Links to folders and files are followed."""
    out: list[tuple[Path, Path] | Skip] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise RagError(f"{raw}: {'a broken link' if p.is_symlink() else 'no such file or folder'}")
        out += _walk(p) if p.is_dir() else [(p, p.parent)]
    return out


def _walk(root: Path) -> list[tuple[Path, Path] | Skip]:
    files: list[tuple[Path, Path]] = []
    skips: list[Skip] = []
    read: dict[tuple[int, int], Path] = {}  # folders already read, by device and inode
    for folder, dirs, names in os.walk(root, followlinks=True):
        here = Path(folder)
        st = here.stat()
        if (st.st_dev, st.st_ino) in read:
            skips.append(Skip(str(here), f"link to {os.path.realpath(here)}, a folder already read as "
                                         f"{read[(st.st_dev, st.st_ino)]} (a loop or a second way to it)"))
            dirs[:] = []
            continue
        read[(st.st_dev, st.st_ino)] = here
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            f = here / name
            if name.startswith("."):
                continue
            if not f.exists():  # os.walk lists a broken link among the files, whatever it pointed to
                skips.append(Skip(str(f), f"broken link to {os.readlink(f)}"))
            elif suffix_of(f) in SUPPORTED:
                files.append((f, root))
    return sorted(files, key=lambda pair: pair[0].as_posix()) + skips


def load(paths: list[str | Path], max_mb: float = 50.0) -> Iterator[Document | Skip]:
    for item in expand(paths):
        if isinstance(item, Skip):
            yield item
        else:
            yield from load_file(*item, max_mb)


def id_choices(file: Path, root: Path) -> tuple[str, ...]:
    """The ids a file may take, shortest first: its path relative to the folder named (`report.txt` for a
    file named directly), then with one more parent folder each (`south/report.txt`, ...), up to its whole
    absolute path. The indexer gives it the first one no other file holds (rag/indexer.py, `Ids`)."""
    rel = file.relative_to(root).parts
    parts = Path(os.path.abspath(file)).parts
    return tuple(dict.fromkeys(["/".join(rel)] + ["/".join(parts[-n:]).replace("//", "/")
                                                  for n in range(len(rel) + 1, len(parts) + 1)]))


def identify(doc: Document, file: Path, root: Path, line: int | None = None) -> Document:
    key = os.path.realpath(file) + (f"#{line}" if line else "")
    ids = tuple(i + (f"#{line}" if line else "") for i in id_choices(file, root))
    return replace(doc, doc_id=ids[0], key=key, ids=ids, path=os.path.abspath(file))


def load_file(file: Path, root: Path, max_mb: float = 50.0) -> Iterator[Document | Skip]:
    suffix = suffix_of(file)
    rel = file.relative_to(root).as_posix()
    if suffix not in SUPPORTED:
        yield Skip(str(file), f"unsupported file type {suffix or '(none)'}; use one of {', '.join(SUPPORTED)}")
        return
    size = file.stat().st_size
    if size > max_mb * 1024 * 1024:
        yield Skip(str(file), f"file is {size / 1048576:.0f} MB, over the {max_mb:g} MB limit (RAG_MAX_FILE_MB)")
        return
    if suffix in {".jsonl", ".jsonl.gz"}:
        yield from _load_jsonl(file, root, max_mb)
        return
    raw = file.read_bytes()
    text, problem = decode(raw)
    if problem:
        yield Skip(str(file), problem)
        return
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as open(file).read() gives it: offsets index this
    if suffix in HTML_SUFFIXES:
        title, text = html_to_text(text)
        doc = make_document(rel, text, str(file), title=title)
    else:
        doc = make_document(rel, text, str(file), markdown=suffix != ".txt")
    yield identify(doc, file, root) if doc.text.strip() else Skip(str(file), "no text in the file")


def decode(raw: bytes) -> tuple[str, str | None]:
    if not raw.strip():
        return "", "empty file"
    if b"\x00" in raw[:8192]:
        return "", "binary file, not text"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as e:
        return "", f"not UTF-8 text (bad byte at offset {e.start})"


def html_to_text(html: str) -> tuple[str | None, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup(["script", "style", "noscript", "template", "head", "svg", "iframe", "object"]):
        tag.decompose()
    lines = (re.sub(r"[ \t\xa0]+", " ", line).strip() for line in soup.get_text("\n").splitlines())
    text = "\n".join(line for line in lines if line)
    if not title:
        h1 = BeautifulSoup(html, "html.parser").find("h1")
        title = h1.get_text(" ", strip=True) if h1 else None
    return title, text


def _blank(m: re.Match) -> str:
    return re.sub(r"[^\n]", " ", m.group())


def make_document(doc_id: str, text: str, source: str, title: str | None = None,
                  published_at: str | None = None, markdown: bool = False, where: str | None = None) -> Document:
    """The stored text has the length and offsets of the text given (the file's text, or the JSONL `text`
    field): control characters and carriage returns read as spaces and a leading `date` line is blanked
    rather than removed, so `text[start:end]` of a citation is the quote in the source too."""
    text = _CONTROL.sub(_blank, text).replace("\r", " ")
    m = _DATE_LINE.match(text)
    if m:
        published_at = published_at or m.group(1)
        text = _blank(m) + text[m.end():]
    if not title:
        first = text.strip().split("\n", 1)[0].strip()
        title = re.sub(r"^#+\s*", "", first) if markdown else first
        if len(title) > 120:
            title = title[:120].rsplit(" ", 1)[0] + "…"
    published_at, problem = parse_date(published_at)
    warnings = ((where or source, problem),) if problem else ()
    digest = hashlib.sha256(f"{title}\x1f{published_at}\x1f{text}".encode()).hexdigest()[:16]
    return Document(doc_id=doc_id, title=title or doc_id, text=text, source=source,
                    published_at=published_at, content_hash=digest, warnings=warnings)


def parse_date(value) -> tuple[str | None, str | None]:
    """A publication date as YYYY-MM-DD, read with dateutil: ISO dates and datetimes with any time zone,
    RFC 2822 as in RSS feeds ("Mon, 31 Mar 2025 23:30:00 GMT"), "March 31, 2025", "31 March 2025", 2025/03/31.
    The day is the one written, in the value's own time zone. Returns (date, None), (None, None) for no
    value, or (None, why) for a value that is not a whole date, which the index report counts as a warning.
    """
    if value is None or not str(value).strip():
        return None, None
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})", text)
    try:
        if m:
            return date(*map(int, m.groups())).isoformat(), None
        from dateutil import parser

        # parsed twice with different defaults: a part missing from the value shows as a difference
        a, b = (parser.parse(text, default=datetime(y, y, y)) for y in (1, 2))
    except (ValueError, OverflowError):
        return None, f"publication date {text[:60]!r} could not be read; the article is undated"
    if a.date() != b.date():
        return None, f"publication date {text[:60]!r} is not a whole date; the article is undated"
    return a.date().isoformat(), None


def _load_jsonl(file: Path, root: Path, max_mb: float) -> Iterator[Document | Skip]:
    """A record's `id` is its identity; a record without one is identified by its file and line."""
    opener = gzip.open if file.name.lower().endswith(".gz") else open
    try:
        with opener(file, "rb") as fh:
            for lineno, line in enumerate(io.BufferedReader(fh), 1):
                if not line.strip():
                    continue
                item = _jsonl_record(line, f"{file}:{lineno}", max_mb)
                if isinstance(item, Document):
                    item = identify(item, file, root, lineno) if not item.doc_id else \
                        replace(item, path=os.path.abspath(file))
                yield item
    except (OSError, EOFError) as e:
        yield Skip(str(file), f"cannot read ({e.__class__.__name__}: {e})")


def _jsonl_record(line: bytes, where: str, max_mb: float) -> Document | Skip:
    if len(line) > max_mb * 1024 * 1024:
        return Skip(where, f"line over the {max_mb:g} MB limit")
    try:
        rec = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return Skip(where, f"malformed JSON line ({e.__class__.__name__})")
    if not isinstance(rec, dict) or not isinstance(rec.get("text"), str) or not rec["text"].strip():
        return Skip(where, "JSON line has no non-empty 'text' field")
    title = rec.get("title") if isinstance(rec.get("title"), str) else None
    return make_document(str(rec.get("id") or ""), rec["text"], str(rec.get("url") or where), title=title,
                         published_at=rec.get("published_at"), where=where)
