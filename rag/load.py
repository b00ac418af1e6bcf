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
from itertools import islice
from pathlib import Path

from .errors import RagError
from .text import decode
from .types import Document

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
JSONL_SUFFIXES = {".jsonl", ".jsonl.gz"}
SUPPORTED = sorted(TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES)
# a `date YYYY-MM-DD` line first, or second under a title line
_DATE_LINE = re.compile(r"\A(?:[^\n]*\n)??(\s*date\s*[:=]?\s*(\d{4}-\d{2}-\d{2})\b[ \t]*)", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# a headline's last segment after a spaced dash or bar: "Fed raises rates - CNN Business", "… | The Week UK"
_TITLE_TAIL = re.compile(r"\s+[-–—|•·]\s+(?P<tail>[^-–—|•·]+?)$")


@dataclass(frozen=True)
class Skip:
    """An input that was not indexed, and why (counted in the IndexReport)."""

    input: str
    reason: str


def suffix_of(path: Path) -> str:
    name = path.name.lower()
    return ".jsonl.gz" if name.endswith(".jsonl.gz") else path.suffix.lower()


def is_url(raw) -> bool:
    return isinstance(raw, str) and re.match(r"https?://", raw, re.IGNORECASE) is not None


def expand(paths: list[str | Path]) -> list[tuple[Path, Path] | Skip | str]:
    """(file, root) pairs, root being the folder the user named (doc ids are paths relative to it), and
    Skips for what a folder holds but cannot be read: a broken link, or a link back to a folder already
    read (a loop). Links to folders and files are followed."""
    out: list[tuple[Path, Path] | Skip | str] = []
    for raw in paths:
        if is_url(raw):
            out.append(raw)  # a web page, fetched by load()
            continue
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
        elif isinstance(item, str):
            yield load_url(item, max_mb)
        else:
            yield from load_file(*item, max_mb)


def load_url(url: str, max_mb: float = 50.0, timeout: float = 30.0) -> Document | Skip:
    """A web page read like a saved one (extract_html); its id and source are its URL. An unreachable
    server is a one-line error; a page that cannot be used (an HTTP error, not HTML or text) is a Skip."""
    import urllib.error
    import urllib.request

    from trafilatura.utils import decode_file

    request = urllib.request.Request(url, headers={"User-Agent": "rag (news indexer)",
                                                   "Accept": "text/html,text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(int(max_mb * 1024 * 1024) + 1)
            kind = response.headers.get_content_type()
    except urllib.error.HTTPError as e:
        return Skip(url, f"the server answered {e.code} {e.reason}")
    except (urllib.error.URLError, OSError, ValueError) as e:
        reason = getattr(e, "reason", e)
        raise RagError(f"cannot fetch {url}: {reason}") from None
    if len(raw) > max_mb * 1024 * 1024:
        return Skip(url, f"page over the {max_mb:g} MB limit (RAG_MAX_FILE_MB)")
    if kind not in ("text/html", "application/xhtml+xml", "text/plain"):
        return Skip(url, f"not a web page or text ({kind})")
    text = decode_file(raw)
    doc = html_document(url, text, url, url=url) if kind != "text/plain" else make_document(url, text, url)
    if not doc.text.strip():
        return Skip(url, "no text in the page")
    return replace(doc, key=url, ids=(url,))


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
    if suffix in JSONL_SUFFIXES:
        yield from _load_jsonl(file, root, max_mb)
        return
    raw = file.read_bytes()
    text, problem = decode(raw)
    if problem:
        yield Skip(str(file), problem)
        return
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # as open(file).read() gives it: offsets index this
    if suffix in HTML_SUFFIXES:
        doc = html_document(rel, text, str(file))
    else:
        doc = ((suffix != ".txt" and _front_matter_document(rel, text, str(file)))
               or make_document(rel, text, str(file), markdown=suffix != ".txt"))
    yield identify(doc, file, root) if doc.text.strip() else Skip(str(file), "no text in the file")


def content_problem(file: Path, suffix: str, max_mb: float = 50.0) -> str | None:
    """Why `rag index` would read no article from `file` read as a `suffix` file (one of SUPPORTED), or None.
    Cheap, for a check before indexing (the UI's uploads): a text or HTML file's bytes are only decoded, not
    parsed; a JSON Lines file passes when one of its first 5 records is an article."""
    if suffix not in JSONL_SUFFIXES:
        return decode(file.read_bytes())[1]
    first = list(islice(_load_jsonl(file, file.parent, max_mb, gz=suffix.endswith(".gz")), 5))
    if any(isinstance(item, Document) for item in first):
        return None
    return f"not JSON Lines articles: {first[0].reason}" if first else "empty file"


def extract_html(html: str, url: str | None = None) -> tuple[str | None, str, dict]:
    """(title, text, metadata) of a news page: the article itself, read by trafilatura (made for news
    pages: it leaves out menus, cookie banners and newsletter pitches, and finds the title, author, site
    name and publication date, the last with htmldate). Falls back to all visible text when it finds no
    article. Either way a table row is one line, its cells labelled with their column's header
    ("Route: Holm–Vika | New fare: 52 kronor"), so a chunk holding the row holds what its cells mean,
    and a list item is one "- " line. The stored text, which the article view shows and citation
    offsets index, is this text."""
    meta: dict = {}
    text = ""  # trafilatura finds no article in an empty or script-only page
    try:
        import trafilatura
        from lxml import etree

        xml = trafilatura.extract(html, url=url, output_format="xml", include_tables=True, include_comments=False,
                                  include_images=False, include_links=False, include_formatting=False,
                                  with_metadata=True, favor_recall=True)
        if xml:
            root = etree.fromstring(xml.encode())
            meta = {k: root.get(k) for k in ("title", "author", "sitename", "date") if root.get(k)}
            main = root.find("main")
            text = "\n".join(_xml_lines(main)) if main is not None else ""
    except Exception:  # a page trafilatura cannot parse is read as visible text below
        text = ""
    title, visible, plain = _visible_text(html)
    # on a page too short to find an article in, trafilatura returns all of its text as one paragraph
    if text.strip() and _squash(text) != plain:
        return meta.get("title") or title, text, meta
    return title or meta.get("title"), visible, meta


def _squash(text: str) -> str:
    return re.sub(r"[ \t\xa0\r\n]+", " ", text).strip()


def _xml_lines(element) -> Iterator[str]:
    """trafilatura's XML (head, p, list/item, table/row/cell, quote, ...) as lines of text."""
    for child in element:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag == "list":
            for item in child.iter("item"):
                own = _squash("".join([item.text or ""] + [_xml_text(c) for c in item if c.tag != "list"]))
                if own:
                    yield f"- {own}"
        elif tag == "table":
            yield from _table_lines([[(_squash("".join(cell.itertext())), cell.get("role") == "head")
                                      for cell in row.iter("cell")] for row in child.iter("row")])
        elif tag:
            line = _squash("".join(child.itertext()))
            if line:
                yield line


def _xml_text(element) -> str:
    return "".join(element.itertext()) + (element.tail or "")


def _table_lines(rows: list[list[tuple[str, bool]]]) -> Iterator[str]:
    """Each row one line, cells separated by " | " and labelled with the header row's names."""
    header: list[str] = []
    for row in rows:
        cells = [text for text, _ in row]
        if not any(cells):
            continue
        if not header and all(head for _, head in row):
            header = cells
            yield " | ".join(c for c in cells if c)
            continue
        labelled = [f"{header[i]}: {c}" if i < len(header) and header[i] and c else c for i, c in enumerate(cells)]
        yield " | ".join(c for c in labelled if c)


def _visible_text(html: str) -> tuple[str | None, str, str]:
    """(title, visible text as lines, the same text on one line as the page gives it)."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup(["script", "style", "noscript", "template", "head", "svg", "iframe", "object"]):
        tag.decompose()
    plain = _squash(soup.get_text(" "))
    for table in soup.find_all("table"):
        rows = [[(_squash(c.get_text(" ")), c.name == "th") for c in tr.find_all(["td", "th"])]
                for tr in table.find_all("tr")]
        table.replace_with(soup.new_string("\n" + "\n".join(_table_lines(rows)) + "\n"))
    for li in soup.find_all("li"):
        li.replace_with(soup.new_string(f"\n- {_squash(li.get_text(' '))}\n"))
    lines = (re.sub(r"[ \t\xa0]+", " ", line).strip() for line in soup.get_text("\n").splitlines())
    text = "\n".join(line for line in lines if line and line != "-")
    if not title:
        h1 = BeautifulSoup(html, "html.parser").find("h1")
        title = h1.get_text(" ", strip=True) if h1 else None
    return title, text, plain


def html_document(doc_id: str, html: str, source: str, url: str | None = None) -> Document:
    title, text, meta = extract_html(html, url)
    doc = make_document(doc_id, text, source, title=title, published_at=meta.get("date"))
    return replace(doc, author=meta.get("author"), site=meta.get("sitename"))


def _blank(m: re.Match, group: int = 0) -> str:
    return re.sub(r"[^\n]", " ", m.group(group))


_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)?(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)  # Jekyll, Hugo, Obsidian


def _front_matter_document(doc_id: str, text: str, source: str) -> Document | None:
    """A Markdown file whose YAML front matter gives its `title`, `date` and `author` (PyYAML's safe loader), the
    block blanked but for the title's words where it writes them (offsets index the file); None without one."""
    import yaml

    try:
        meta = yaml.safe_load(front.group(1) or "") if (front := _FRONT_MATTER.match(text)) else None
    except yaml.YAMLError:
        return None
    if not isinstance(meta, dict):
        return None
    title, date, author = (str(v) if v else None for v in (meta.get(k) for k in ("title", "date", "author")))
    blank, at = _blank(front), front.group().find(title) if title else -1
    body = (blank[:at] + title + blank[at + len(title):] if at >= 0 else blank) + text[front.end():]
    return replace(make_document(doc_id, body, source, title=title, published_at=date, markdown=True), author=author)


def make_document(doc_id: str, text: str, source: str, title: str | None = None,
                  published_at: str | None = None, markdown: bool = False, where: str | None = None) -> Document:
    """The stored text has the length and offsets of the text given (the file's text, or the JSONL `text`
    field): control characters and carriage returns read as spaces and a `date` line (first, or under the
    title line) is blanked rather than removed, so `text[start:end]` of a citation is the quote in the source
    too. A `title` given apart from a text whose first 1,000 characters do not hold it (a JSONL record's, a
    web page's) comes first, as its own paragraph: a headline is evidence like any sentence (RealTime QA's
    scraped pages whose text is ad boilerplate name their story only there); offsets then count from it."""
    text = _CONTROL.sub(_blank, text).replace("\r", " ")
    if m := _DATE_LINE.match(text):
        published_at = published_at or m.group(2)
        text = text[:m.start(1)] + _blank(m, 1) + text[m.end(1):]
    if title:
        title = without_site_name(" ".join(_CONTROL.sub(" ", title).split()), source)
    headline = title or ""
    if headline and headline.casefold()[:60] not in _squash(text[:1000]).casefold():
        text = f"{headline}\n\n{text}"
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


def without_site_name(title: str, source: str) -> str:
    """A headline without the site name a page title ends with, when that name is the site's own web domain
    (courlan's): "Fed raises rates - CNN Business" from cnn.com and "… | The Week UK" or "… - The ..." from
    theweek.co.uk lose the tail. A site name is no evidence: kept, it became an answer ("CNN") and matched
    questions about other stories. Any other last segment ("… - Opinion", a file's title) stays."""
    m = _TITLE_TAIL.search(title)
    if m is None or not is_url(source):
        return title
    from courlan import extract_domain  # trafilatura's URL library

    label = (extract_domain(source) or "").split(".")[0]
    name = re.sub(r"[^a-z0-9]", "", m.group("tail").lower())
    if len(name) >= 3 and len(label) >= 3 and (name.startswith(label) or label.startswith(name)):
        return title[:m.start()]
    return title


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


def _load_jsonl(file: Path, root: Path, max_mb: float, gz: bool | None = None) -> Iterator[Document | Skip]:
    """A record's `id` is its identity; a record without one is identified by its file and line. `gz`: the file
    is gzipped (default: its name ends in .gz)."""
    gz = file.name.lower().endswith(".gz") if gz is None else gz
    opener = gzip.open if gz else open
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
