"""The Gradio chat UI (`rag serve`, `python app.py`): a thin layer over `rag.RAG`.

Every action calls the `RAG` API; this module only renders its results: streamed answers whose [n]
markers link to source cards, cards that open the whole article at the quote, uploads, settings,
and a named `/ask` API endpoint that returns the same JSON as `rag ask --json`.
"""
from __future__ import annotations

import html
import json
import logging
import os
import re
import shutil
import threading
from pathlib import Path

import gradio as gr

from .errors import RagError
from .models import llm_installed
from .settings import Settings, offline_environment

log = logging.getLogger("rag.ui")

EXAMPLES = [
    "When does the tariff truce expire?",
    "Who led the US officials at the Stockholm talks?",
    "What tariff rate did Trump threaten if rare-earth magnet exports are restricted?",
    "How many tons of soybeans did Bessent say China is ready to buy?",
]
UPLOAD_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".jsonl")
MAX_LISTED_ARTICLES = 300
PASSAGE_CONTEXT = 280  # characters of the article shown either side of a quote on its card
QUEUE_MAX_SIZE = 200  # waiting requests beyond this get a "queue full" error instead of unbounded memory

_rag = None
_rag_lock = threading.Lock()


def get_rag():
    """One `RAG` per server process, created on first use."""
    global _rag
    if _rag is None:
        with _rag_lock:
            if _rag is None:
                from .api import RAG

                _rag = RAG()
    return _rag


# ----------------------------------------------------------------------------------------------- rendering

def esc(text) -> str:
    """HTML-escape text for any HTML we emit; braces and `$` too, so no template engine can read it."""
    return (html.escape(str(text or ""), quote=True)
            .replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;").replace("`", "&#96;"))


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_MARKER = re.compile(r"\[(\d{1,3})\]")


def _md_text(text: str) -> str:
    """Plain text made safe for the chatbot's Markdown: HTML-escaped and Markdown punctuation backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


_REPORTED = re.compile(r"\bas of (\d{4}-\d{2}-\d{2})")
_SPACE_BEFORE_PUNCT = re.compile(r"(\[\d{1,3}\])\s+([.,;:!?])")


def display_line(text: str) -> str:
    """The answer line as a reader should read it: an article's date is when it was *reported* (not the
    "Asked as of" setting), and a citation marker keeps to the word before its punctuation ("August 12 [1].")."""
    return _SPACE_BEFORE_PUNCT.sub(r"\1\2", _REPORTED.sub(r"reported \1", text or ""))


def render_answer_text(text: str, turn: int, cited: set[int] | None = None) -> str:
    """Answer text for the chat, each [n] turned into a link to source card n of this turn."""
    out, pos = [], 0
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if cited is not None and n not in cited:
            continue
        out.append(_md_text(text[pos:m.start()]))
        out.append(f'<a class="cite" href="#src-{turn}-{n}" title="Open source {n}">[{n}]</a>')
        pos = m.end()
    out.append(_md_text(text[pos:]))
    return "".join(out)


def answerer_label(answer, settings: Settings) -> str:
    name = answer.answerer or "local"
    if name != "local" and settings.llm.llm_model and settings.llm.llm_model not in name:
        name = f"{name} ({settings.llm.llm_model})"
    return name


def render_message(answer, turn: int, settings: Settings, filter_note: str = "") -> str:
    """The answer line (dates as "reported …"), its quotes (their dates are on the cards), what was searched for
    when a follow-up was rewritten, which filters left articles out, the answerer and a Copy link."""
    cited = {c.n for c in answer.citations}
    line = display_line(answer.answer or answer.text)
    body = render_answer_text(line, turn, cited)
    parts = []
    if answer.abstained:
        parts.append('<span class="abstained-badge">Not found in the indexed articles</span>\n\n'
                     f'<span class="abstained">{body}</span>')
    else:
        parts.append(body)
        quotes = [c for c in answer.citations if f"[{c.n}]" in line and c.quote not in line]
        if quotes:
            parts.append("\n".join(render_answer_text(f"[{c.n}] “{c.quote}”", turn, cited) for c in quotes))
    searched = (answer.diagnostics or {}).get("standalone_question")
    if searched:
        parts.append(f'<span class="searched-for">Searched for: {_md_text(searched)}</span>')
    if filter_note:
        parts.append(f'<span class="filter-note">{_md_text(filter_note)}</span>')
    if answer.notice:
        parts.append(f'<span class="notice">⚠ {esc(answer.notice)}</span>')
    ms = answer.timings.get("total_ms")
    took = f" · {ms / 1000:.2f} s" if isinstance(ms, (int, float)) and ms >= 1000 else (
        f" · {ms:.0f} ms" if isinstance(ms, (int, float)) else "")
    parts.append(f'<span class="answer-meta">answered by {esc(answerer_label(answer, settings))}{took}</span>'
                 f'<span class="copy-answer" role="button" tabindex="0" title="Copy the answer and its sources">Copy</span>')
    return "\n\n".join(parts)


def error_message(exc: BaseException) -> str:
    """One line for the chat, never a traceback."""
    if isinstance(exc, RagError):
        line = str(exc)
    else:
        first = (str(exc).strip().splitlines() or [""])[0][:300]
        line = f"unexpected error: {exc.__class__.__name__}" + (f": {first}" if first else "")
    line = " ".join(line.split())
    return f'<span class="error-msg">⚠ Error: {_md_text(line)}</span>'


def _display_source(source: str | None) -> str:
    """A file path is shown by its name only: the server's folders are none of the reader's business."""
    s = str(source or "")
    if s.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", s):
        return Path(s).name
    return s


def _passage(text: str, start: int, end: int) -> str:
    """The quote's paragraph (trimmed to a window) with the quote in <mark>."""
    a = text.rfind("\n", 0, start) + 1
    b = text.find("\n", end)
    b = len(text) if b < 0 else b
    lead, tail = "", ""
    if start - a > PASSAGE_CONTEXT:
        a = start - PASSAGE_CONTEXT
        a = text.find(" ", a, start) + 1 or a
        lead = "… "
    if b - end > PASSAGE_CONTEXT:
        b = end + PASSAGE_CONTEXT
        cut = text.rfind(" ", end, b)
        b = cut if cut > end else b
        tail = " …"
    return f"{lead}{esc(text[a:start])}<mark>{esc(text[start:end])}</mark>{esc(text[end:b])}{tail}"


def _locate(text: str, quote: str, start: int, end: int) -> tuple[int, int] | None:
    if 0 <= start < end <= len(text) and text[start:end] == quote:
        return start, end
    i = text.find(quote) if quote else -1
    return (i, i + len(quote)) if i >= 0 else None


def render_card(c, turn: int, article: dict | None) -> str:
    span = _locate(article["text"], c.quote, c.start, c.end) if article else None
    if span:
        passage = _passage(article["text"], *span)
        start, end = span
    else:
        passage = f"<mark>{esc(c.quote)}</mark>"
        start, end = -1, -1
    date = f"reported {esc(c.published_at)}" if c.published_at else '<span class="undated">undated</span>'
    return (f'<div class="src-card" id="src-{turn}-{c.n}" role="button" tabindex="0" '
            f'data-doc="{esc(c.doc_id)}" data-start="{start}" data-end="{end}" title="Open the whole article">'
            f'<div class="src-head"><span class="src-n">[{c.n}]</span> <span class="src-title">{esc(c.title)}</span></div>'
            f'<div class="src-meta">{date} · <span class="src-source">{esc(_display_source(c.source))}</span>'
            + "".join(f' · <span class="src-when">{esc(p)} = {esc(r)}</span>' for p, r in c.dates) + '</div>'
            + _related(c) + f'<div class="src-passage">{passage}</div>'
            f'<div class="src-actions"><span class="src-open">Open article ›</span></div></div>')


def _related(c) -> str:
    """"Also reported by …" for copies folded into the cited article; "Another version: …" for a report of
    the same story that changes a value (a reader should see the two are related)."""
    parts = []
    if c.alternates:
        parts.append("Also reported by " + ", ".join(esc(_display_source(a.get("source") or a.get("doc_id") or ""))
                                                       for a in c.alternates))
    for v in c.versions:
        when = f" (reported {esc(v['published_at'])})" if v.get("published_at") else ""
        parts.append(f"Another version: {esc(v.get('title') or v['doc_id'])}{when}")
    return "".join(f'<div class="src-related">{p}</div>' for p in parts)


SOURCES_H = '<div class="panel-h">Sources</div>'


def render_sources(turns: list[dict]) -> str:
    """Source cards for every answer of the conversation, newest first."""
    if not turns:
        return (SOURCES_H + '<div class="sources-empty">Sources appear here: each citation [n] of an answer gets a '
                'card with its title, date, source and the quoted passage. Click a card or an [n] to read the whole '
                'article.</div>')
    return SOURCES_H + "".join(t["cards"] for t in reversed(turns))


def render_turn_cards(answer, turn: int, question: str) -> str:
    rag = get_rag()
    cards = []
    for c in answer.citations:
        try:
            article = rag.article(c.doc_id)
        except Exception:  # an article removed since it was cited still gets a card, with its quote
            article = None
        cards.append(render_card(c, turn, article))
    body = "".join(cards) or '<div class="sources-none">No sources: the answer cites nothing.</div>'
    return (f'<div class="src-turn" id="turn-{turn}"><div class="src-turn-q">Sources for “{esc(question)}”</div>'
            f"{body}</div>")


ARTICLE_H = '<div class="panel-h">Article</div>'


def render_article(doc: dict, start: int = -1, end: int = -1, opened: str = "user") -> str:
    """The whole article, the quote marked; `opened` is "user" (a click) or "auto" (the newest answer's source)."""
    text = doc.get("text") or ""
    date = f"reported {esc(doc.get('published_at'))}" if doc.get("published_at") else '<span class="undated">undated</span>'
    if 0 <= start < end <= len(text):
        body = f'{esc(text[:start])}<mark class="article-quote">{esc(text[start:end])}</mark>{esc(text[end:])}'
    else:
        body = esc(text)
    shown = _display_source(doc.get("source"))
    ident = "" if shown == doc.get("doc_id") else f' · <code>{esc(doc.get("doc_id"))}</code>'
    return (f'{ARTICLE_H}<div class="article-view" data-opened="{esc(opened)}" data-doc="{esc(doc.get("doc_id"))}">'
            f'<div class="article-title">{esc(doc.get("title"))}</div>'
            f'<div class="article-meta">{date} · {esc(shown)}{ident}</div><div class="article-body">{body}</div></div>')


ARTICLE_EMPTY = (ARTICLE_H + '<div class="article-empty">Click a source card, an [n] in an answer or an article in '
                 'the sidebar to read it here.</div>')


def render_articles(rows: list[dict]) -> str:
    n = len(rows)
    items = "".join(
        f'<li class="art-item" data-doc="{esc(r["doc_id"])}" data-start="-1" data-end="-1" title="Open">'
        f'<span class="art-date">{esc(r.get("published_at") or "undated")}</span> '
        f'<span class="art-title">{esc(r.get("title") or r["doc_id"])}</span></li>'
        for r in rows[:MAX_LISTED_ARTICLES])
    more = f'<div class="art-more">… and {n - MAX_LISTED_ARTICLES:,} more</div>' if n > MAX_LISTED_ARTICLES else ""
    search = ('<input class="art-search" type="search" placeholder="Search titles and dates" '
              'aria-label="Search the article list"> <span class="art-shown"></span>') if n > 1 else ""
    return (f'<div class="art-count"><b>{n:,}</b> article{"s" if n != 1 else ""} indexed</div>'
            f'{search}<ul class="art-list">{items}</ul>{more}')


# ----------------------------------------------------------------------------------------------- filters

FILTER_LABELS = {"since": "Published since", "until": "Published until", "as_of": "Asked as of",
                 "source": "Source contains"}


def filter_values(since, until, as_of, source) -> dict[str, str]:
    """The filters that are set, as stripped strings."""
    raw = {"since": since, "until": until, "as_of": as_of, "source": source}
    return {k: str(v).strip()[:10] if k != "source" else str(v).strip() for k, v in raw.items()
            if v is not None and str(v).strip()}


def filter_problems(values: dict[str, str]) -> list[str]:
    """One line per date filter that is not a date, for inline validation."""
    from .retrieve import iso_date

    out = []
    for k in ("since", "until", "as_of"):
        if k in values:
            try:
                iso_date(values[k])
            except (RagError, ValueError):
                out.append(f"{FILTER_LABELS[k]}: “{values[k]}” is not a date; pick one or type YYYY-MM-DD")
    return out


def undated_left_out(values: dict[str, str]) -> int:
    """How many undated articles a date filter leaves out (those the source filter would have let through)."""
    if not any(k in values for k in ("since", "until", "as_of")):
        return 0
    from .retrieve import Filters

    keep = Filters(source=values.get("source") or None)
    try:
        rows = get_rag().articles()
    except Exception:  # noqa: BLE001 - the note is a courtesy; a store error shows up on the question itself
        return 0
    return sum(1 for r in rows if not r.get("published_at")
               and keep.accepts({"source": r.get("source") or "", "doc_id": r["doc_id"], "title": r.get("title") or "",
                                 "day": -1}))


def undated_note(n: int) -> str:
    if not n:
        return ""
    return f"{n} undated article{'s were' if n != 1 else ' was'} left out by the date filter"


def render_chips(since=None, until=None, as_of=None, source=None) -> str:
    """Active filters as chips above the chat (a click clears one), bad dates, and what a date filter left out."""
    values = filter_values(since, until, as_of, source)
    if not values:
        return ""
    chips = [f'<button class="chip" data-filter="{k}" title="Clear this filter">{esc(FILTER_LABELS[k])}: '
             f'<b>{esc(v)}</b> <span class="chip-x" aria-hidden="true">×</span></button>' for k, v in values.items()]
    if len(values) > 1:
        chips.append('<button class="chip chip-all" data-filter="all" title="Clear every filter">Clear all</button>')
    notes = [f'<div class="filter-warning">⚠ {esc(p)}</div>' for p in filter_problems(values)]
    left_out = undated_note(undated_left_out(values)) if not notes else ""
    if left_out:
        notes.append(f'<div class="filter-warning undated-note">{esc(left_out)}</div>')
    return f'<div class="chips" role="group" aria-label="Active filters">{"".join(chips)}{"".join(notes)}</div>'


def llm_configured(settings: Settings) -> bool:
    """The "openai" answerer has somewhere to go: a key, or a base URL of its own (a local server needs no key)."""
    llm = settings.llm
    return bool(llm.openai_api_key or (llm.llm_base_url and "api.openai.com" not in llm.llm_base_url))


# ----------------------------------------------------------------------------------------------- uploads

def safe_upload_name(name: str) -> str:
    """A plain file name: letters, digits, . _ - only, no leading dot, an allowed suffix, at most 120 chars."""
    base = Path(str(name).replace("\\", "/")).name
    lower = base.lower()
    suffix = next((s for s in sorted(UPLOAD_SUFFIXES, key=len, reverse=True) if lower.endswith(s)), None)
    if suffix is None:
        raise RagError(f"unsupported file type; upload one of {', '.join(UPLOAD_SUFFIXES)}")
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", base[: -len(suffix)]).strip("._-")[:100] or "upload"
    return stem + suffix


def check_upload(path: Path, name: str, max_mb: float) -> str:
    """Validates an uploaded file (type, size, content); returns its safe name or raises RagError."""
    safe = safe_upload_name(name)
    size = path.stat().st_size
    if size > max_mb * 1024 * 1024:
        raise RagError(f"{size / 1048576:.1f} MB is over the {max_mb:g} MB upload limit (RAG_UPLOAD_MAX_MB)")
    if size == 0:
        raise RagError("the file is empty")
    data = path.read_bytes()
    if b"\x00" in data:
        raise RagError("not a text file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RagError("not UTF-8 text") from None
    if safe.endswith(".jsonl"):
        lines = [ln for ln in text.splitlines() if ln.strip()][:5]
        try:
            ok = bool(lines) and all(isinstance(json.loads(ln), dict) for ln in lines)
        except ValueError:
            ok = False
        if not ok:
            raise RagError("not JSON Lines (one JSON object per line)")
    return safe


def add_uploads(files, progress=None) -> str:
    """Copies each valid upload into index_dir/uploads/ and indexes it; returns a Markdown report."""
    rag = get_rag()
    files = [f for f in (files or []) if f]
    if not files:
        return "No file received."
    target = rag.settings.paths.index_dir / "uploads"
    target.mkdir(parents=True, exist_ok=True)
    existing = None
    lines = []
    for i, f in enumerate(files):
        src = Path(f if isinstance(f, (str, Path)) else getattr(f, "path", None) or getattr(f, "name", ""))
        shown = _md_text(src.name)
        try:
            if progress is not None:
                progress(i / len(files), desc=f"Checking {src.name}")
            safe = check_upload(src, src.name, rag.settings.ui.upload_max_mb)
            if existing is None:
                existing = {a["doc_id"]: a.get("source") or "" for a in rag.articles()}
            if safe in existing and Path(existing[safe]).parent != target.resolve() and Path(existing[safe]).parent != target:
                safe = f"upload_{safe}"
            dest = target / safe
            shutil.copyfile(src, dest)
            if progress is not None:
                progress((i + 0.3) / len(files), desc=f"Indexing {safe}")
            report = rag.index([dest], progress=True, notice=lambda m: None)
            if report.seen == 0:
                dest.unlink(missing_ok=True)
                reason = "; ".join(r for _, r in report.skipped) or "nothing to index"
                lines.append(f"✗ **{_md_text(safe)}**: not indexed ({_md_text(reason)})")
            else:
                what = ("added" if report.added else "updated" if report.updated else "already indexed")
                lines.append(f"✓ **{_md_text(safe)}**: {report.seen} article{'s' if report.seen != 1 else ''} "
                             f"{what}, {report.chunks_written} chunks, {report.seconds:.1f} s")
        except RagError as e:
            lines.append(f"✗ **{shown}**: {_md_text(str(e))}")
        except Exception as e:  # noqa: BLE001 - shown as one line, logged in full
            log.exception("upload of %s failed", src.name)
            lines.append(f"✗ **{shown}**: unexpected error: {e.__class__.__name__}")
    if progress is not None:
        progress(1.0, desc="Done")
    return "\n\n".join(lines)


# ----------------------------------------------------------------------------------------------- the app

STATIC = Path(__file__).resolve().parent / "static"
CSS = (STATIC / "ui.css").read_text(encoding="utf-8")
GLOBAL_JS = (STATIC / "ui.js").read_text(encoding="utf-8")  # citations, Copy, Ask enabled, counter, phone sidebar

# Cards and article-list items carry data-doc/start/end; a click asks the server for the whole article.
OPEN_JS = """
const open = (el) => trigger('click', {doc_id: el.dataset.doc, start: Number(el.dataset.start),
                                        end: Number(el.dataset.end)});
element.addEventListener('click', (e) => {
  const el = e.target.closest('[data-doc]');
  if (el && element.contains(el)) open(el);
});
element.addEventListener('keydown', (e) => {
  const el = e.target.closest('[data-doc]');
  if (el && e.target.tagName !== 'INPUT' && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); open(el); }
});
"""

# After an article is shown, scroll the quote into the middle of the article's own box: the page does not move,
# so the question box stays in view. On a phone, where the article is below everything, a click brings it up.
ARTICLE_JS = """
watch('value', () => {
  const m = element.querySelector('mark.article-quote');
  const body = element.querySelector('.article-body');
  if (body) body.scrollTop = 0;
  if (m && window.__rag) window.__rag.scrollInPanel(m);
  const view = element.querySelector('.article-view');
  if (view && view.dataset.opened === 'user' && window.matchMedia('(max-width: 480px)').matches)
    element.scrollIntoView({behavior: 'instant', block: 'start'});
});
"""

# A chip clicked clears its filter.
CHIPS_JS = """
element.addEventListener('click', (e) => {
  const b = e.target.closest('[data-filter]');
  if (b && element.contains(b)) trigger('click', {filter: b.dataset.filter});
});
"""


def build_demo():
    settings = get_rag().settings
    limit = settings.answer.max_question_chars
    can_llm = llm_configured(settings)

    def respond(question, chat, turns, top_k, answerer, since, until, as_of, source):
        q = (question or "").strip()
        if not q:  # Ask is disabled on an empty box; Enter on one does nothing either
            yield (gr.skip(),) * 6
            return
        chat = list(chat or [])
        turns = list(turns or [])
        chat.append({"role": "user", "content": _md_text(q)})
        if len(q) > limit:
            chat.append({"role": "assistant", "content": error_message(RagError(
                f"the question is {len(q):,} characters; the limit is {limit:,}: please shorten it"))})
            yield gr.skip(), chat, turns, gr.skip(), gr.skip(), gr.skip()
            return
        chat.append({"role": "assistant", "content": "…"})
        yield "", chat, turns, gr.skip(), gr.skip(), gr.skip()
        turn = len(turns) + 1
        text, answer = "", None
        try:
            values = filter_values(since, until, as_of, source)
            problems = filter_problems(values)
            if problems:
                raise RagError(problems[0])
            rag = get_rag()
            history = [{"question": t["question"], "answer": t.get("answer", "")} for t in turns]
            stream = rag.stream(q, history=history,
                                answerer=answerer if answerer in {"local", "local-llm", "openai"} else None,
                                k=int(top_k) if top_k else None, since=values.get("since"), until=values.get("until"),
                                as_of=values.get("as_of"), source=values.get("source"))
            for piece in stream:
                if isinstance(piece, str):
                    text += piece
                    chat[-1] = {"role": "assistant", "content": render_answer_text(display_line(text), turn) + " ▌"}
                    yield gr.skip(), chat, gr.skip(), gr.skip(), gr.skip(), gr.skip()
                else:
                    answer = piece
            if answer is None:
                raise RagError("the engine returned no answer")
            note = undated_note(undated_left_out(values))
            chat[-1] = {"role": "assistant", "content": render_message(answer, turn, rag.settings, note)}
            turns.append({"question": q, "answer": "" if answer.abstained else answer.answer,
                          "cards": render_turn_cards(answer, turn, q)})
            shown = gr.skip()
            if answer.citations:  # the Article panel follows the newest answer: its first source, at the quote
                c = answer.citations[0]
                try:
                    doc = rag.article(c.doc_id)
                    span = _locate(doc["text"], c.quote, c.start, c.end) or (-1, -1)
                    shown = render_article(doc, *span, opened="auto")
                except Exception:  # noqa: BLE001 - the cards still carry the quotes
                    shown = ARTICLE_EMPTY
            yield gr.skip(), chat, turns, render_sources(turns), shown, {"chat": chat, "turns": turns}
        except Exception as e:  # noqa: BLE001 - every failure is one line in the chat
            if not isinstance(e, RagError):
                log.exception("question failed")
            chat[-1] = {"role": "assistant", "content": error_message(e)}
            yield gr.skip(), chat, turns, gr.skip(), gr.skip(), gr.skip()

    def open_article(evt: gr.EventData):
        data = getattr(evt, "_data", None) or {}
        doc_id = str(data.get("doc_id") or "")
        if not doc_id:
            return gr.skip()
        try:
            doc = get_rag().article(doc_id)
            start, end = int(data.get("start", -1)), int(data.get("end", -1))
            return render_article(doc, start, end)
        except (TypeError, ValueError):
            return render_article(get_rag().article(doc_id))
        except Exception as e:  # noqa: BLE001
            return ARTICLE_H + (f'<div class="article-empty">⚠ '
                                f'{esc(str(e) if isinstance(e, RagError) else "could not open the article")}</div>')

    def list_articles():
        try:
            return render_articles(get_rag().articles())
        except Exception as e:  # noqa: BLE001
            return f'<div class="art-count">⚠ {esc(str(e) if isinstance(e, RagError) else e.__class__.__name__)}</div>'

    def upload(files, progress=gr.Progress(track_tqdm=True)):
        report = add_uploads(files, progress)
        return report, list_articles(), None

    def clear():
        return [], [], render_sources([]), ARTICLE_EMPTY, "", {"chat": [], "turns": []}

    def restore(saved):
        """The conversation kept in the browser's storage, back after a reload."""
        saved = saved if isinstance(saved, dict) else {}
        chat, turns_ = list(saved.get("chat") or []), list(saved.get("turns") or [])
        if not chat:
            return gr.skip(), gr.skip(), gr.skip()
        return chat, turns_, render_sources(turns_)

    def clear_filter(since_, until_, as_of_, source_, evt: gr.EventData):
        which = str((getattr(evt, "_data", None) or {}).get("filter") or "")
        values = {"since": since_, "until": until_, "as_of": as_of_, "source": source_}
        for k in values:
            if which in (k, "all"):
                values[k] = None if k != "source" else ""
        return (values["since"], values["until"], values["as_of"], values["source"],
                render_chips(values["since"], values["until"], values["as_of"], values["source"]))

    def regenerate(chat, turns_):
        """Takes back the last question and its answer, and puts the question back to be asked again."""
        chat, turns_ = list(chat or []), list(turns_ or [])
        users = [i for i, m in enumerate(chat) if m.get("role") == "user"]
        if not users:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        last = users[-1]
        answered = any(m.get("role") == "assistant" and "answer-meta" in str(m.get("content")) for m in chat[last:])
        if answered and turns_:
            question_ = turns_.pop()["question"]
        else:
            question_ = html.unescape(re.sub(r"\\(.)", r"\1", str(chat[last].get("content") or "")))
        return question_, chat[:last], turns_, render_sources(turns_)

    def stopped(chat):
        chat = list(chat or [])
        if chat and chat[-1].get("role") == "assistant":
            content = str(chat[-1].get("content") or "")
            if "answer-meta" not in content and "error-msg" not in content:
                content = content.removesuffix(" ▌").removesuffix("…")
                chat[-1] = {"role": "assistant",
                            "content": content + '\n\n<span class="answer-meta stopped">■ stopped</span>'}
        return chat

    def ask(question: str) -> dict:
        """Answer a question about the indexed news articles. Returns the same JSON as `rag ask --json`."""
        try:
            return get_rag().ask(question).to_json()
        except RagError as e:
            raise gr.Error(str(e), print_exception=False) from None
        except Exception as e:  # noqa: BLE001
            log.exception("/ask failed")
            first = (str(e).strip().splitlines() or [""])[0][:300]
            raise gr.Error(f"unexpected error: {e.__class__.__name__}: {first}", print_exception=False) from None

    answerers = ["local", *(["local-llm"] if llm_installed() else []), *(["openai"] if can_llm else [])]
    answerer_info = ("local: extractive, instant" + (" · local-llm: the packaged Qwen2.5 1.5B, offline, seconds per "
                     "answer" if "local-llm" in answerers else "") + (" · openai: the LLM at RAG_LLM_BASE_URL"
                     if can_llm else " · an OpenAI-compatible LLM is offered once RAG_LLM_BASE_URL or "
                     "OPENAI_API_KEY is set"))

    with gr.Blocks(title="rag · ask the news", fill_width=True) as demo:
        turns = gr.State([])
        saved = gr.BrowserState({"chat": [], "turns": []}, storage_key="rag-conversation")
        with gr.Sidebar(open=True, width=330, elem_id="sidebar"):
            gr.Markdown("### rag\nAnswers questions about news articles with quoted, cited evidence.")
            with gr.Accordion("Filters", open=True, elem_id="filters-accordion"):
                since = gr.DateTime(label="Published since", include_time=False, type="string", elem_id="since")
                until = gr.DateTime(label="Published until", include_time=False, type="string", elem_id="until")
                as_of = gr.DateTime(label="Asked as of", include_time=False, type="string", elem_id="as-of",
                                    info="answer as on that day: later articles left out, the newest before it first")
                source = gr.Textbox(label="Source contains", placeholder="e.g. reuters, TMTPOST", max_lines=1,
                                    elem_id="source", info="matched against each article's title, source and id")
            with gr.Accordion("Indexed articles", open=True):
                articles_html = gr.HTML("", elem_id="articles", js_on_load=OPEN_JS)
            with gr.Accordion("Add articles", open=True):
                gr.Markdown(f".txt .md .html .jsonl, ≤ {settings.ui.upload_max_mb:g} MB each", elem_id="upload-hint")
                files = gr.File(label="Upload articles", show_label=False, file_count="multiple",
                                file_types=list(UPLOAD_SUFFIXES), type="filepath", elem_id="upload", height=110)
                upload_status = gr.Markdown(elem_id="upload-status")
            with gr.Accordion("Settings", open=False, elem_id="settings-accordion"):
                top_k = gr.Slider(1, 20, value=settings.retrieval.top_k, step=1, label="Passages per answer (top-k)",
                                  elem_id="top-k")
                chosen = settings.answer.answerer
                answerer = gr.Radio(answerers, value=chosen if chosen in answerers else "local",
                                    label="Answerer", elem_id="answerer", info=answerer_info)
        with gr.Row(equal_height=False, elem_id="main-row"):
            with gr.Column(scale=3, min_width=300, elem_id="chat-col"):
                chips = gr.HTML("", elem_id="filter-chips", js_on_load=CHIPS_JS)
                chatbot = gr.Chatbot(elem_id="chat", label="Answers", height=520, sanitize_html=True,
                                     line_breaks=True, buttons=[], feedback_options=None,
                                     placeholder="Ask a question about the indexed news articles. "
                                                 "Every answer quotes its sources.")
                with gr.Row(elem_id="ask-row"):
                    question = gr.Textbox(elem_id="question", show_label=False, scale=8, max_lines=4,
                                          placeholder="Ask about the news, e.g. When does the tariff truce expire?",
                                          autofocus=True)
                    ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="ask")
                gr.HTML(f'<span class="q-count" data-question-limit="{limit}"></span>', elem_id="q-counter")
                with gr.Row(elem_id="chat-tools"):
                    regen_btn = gr.Button("↻ Regenerate", size="sm", scale=0, min_width=110, elem_id="regenerate")
                    stop_btn = gr.Button("■ Stop", size="sm", scale=0, min_width=80, elem_id="stop")
                    clear_btn = gr.Button("New chat", size="sm", scale=0, min_width=100, elem_id="clear")
                with gr.Row(elem_id="examples"):
                    example_btns = [gr.Button(q, size="sm", elem_classes=["example"]) for q in EXAMPLES]
            with gr.Column(scale=2, min_width=300, elem_id="side-col"):
                sources = gr.HTML(render_sources([]), elem_id="sources", js_on_load=OPEN_JS,
                                  max_height=420, autoscroll=False)
                article = gr.HTML(ARTICLE_EMPTY, elem_id="article", js_on_load=ARTICLE_JS)

        filters = [since, until, as_of, source]
        chat_inputs = [question, chatbot, turns, top_k, answerer, *filters]
        chat_outputs = [question, chatbot, turns, sources, article, saved]
        kw = dict(api_visibility="private", show_progress="hidden")
        asks = [question.submit(respond, chat_inputs, chat_outputs, **kw),
                ask_btn.click(respond, chat_inputs, chat_outputs, **kw)]
        for b, q in zip(example_btns, EXAMPLES):
            asks.append(b.click(lambda q=q: q, None, question, api_visibility="private", queue=False).then(
                respond, chat_inputs, chat_outputs, **kw))
        asks.append(regen_btn.click(regenerate, [chatbot, turns], [question, chatbot, turns, sources],
                                    api_visibility="private", queue=False).then(respond, chat_inputs, chat_outputs, **kw))
        stop_btn.click(stopped, chatbot, chatbot, cancels=asks, api_visibility="private", queue=False)
        clear_btn.click(clear, None, [chatbot, turns, sources, article, question, saved], api_visibility="private",
                        queue=False)
        chatbot.clear(lambda: ([], render_sources([]), ARTICLE_EMPTY, {"chat": [], "turns": []}), None,
                      [turns, sources, article, saved], api_visibility="private", queue=False)
        for f in filters:
            f.change(render_chips, filters, chips, api_visibility="private", queue=False)
        chips.click(clear_filter, filters, [*filters, chips], api_visibility="private", queue=False)
        sources.click(open_article, None, article, api_visibility="private")
        articles_html.click(open_article, None, article, api_visibility="private")
        files.upload(upload, files, [upload_status, articles_html, files], api_visibility="private",
                     concurrency_limit=1, concurrency_id="index")
        demo.load(list_articles, None, articles_html, api_visibility="private", queue=False)
        demo.load(restore, saved, [chatbot, turns, sources], api_visibility="private", queue=False)
        gr.api(ask, api_name="ask")
    demo.queue(default_concurrency_limit=settings.ui.ui_concurrency, max_size=QUEUE_MAX_SIZE)
    return demo


def serve(host: str | None = None, port: int | None = None) -> int:
    """Start the web UI (blocks until interrupted). Seeds a fresh index first."""
    offline_environment()
    rag = get_rag()
    report = rag.ensure_index()
    if report:
        print(f"first run: indexed {report.seen} seed articles from {rag.settings.paths.seeds_dir}", flush=True)
    try:  # load the models now, so the first visitor does not wait for them
        rag.ask(EXAMPLES[0])
    except Exception as e:  # noqa: BLE001 - an empty index, say; questions will then report it
        log.warning("warm-up question failed: %s", e)
    demo = build_demo()
    settings = rag.settings
    host = host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = int(port or os.environ.get("GRADIO_SERVER_PORT") or 7860)
    auth = (settings.ui.ui_user, settings.ui.ui_password) if settings.ui.ui_user and settings.ui.ui_password else None
    demo.launch(server_name=host, server_port=port, share=False, auth=auth, show_error=False,
                max_file_size=int(settings.ui.upload_max_mb * 1024 * 1024), css=CSS, js=GLOBAL_JS,
                footer_links=["api"], ssr_mode=False, mcp_server=False, enable_monitoring=False)
    return 0
