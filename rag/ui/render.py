"""The chat UI's HTML and Markdown: answers, source cards, the article view, the article list and filter chips.

Pure functions of their arguments (no Gradio, no index): the app fetches what they show and passes it in.
Everything a reader or an article wrote is escaped here, before Gradio's sanitizer sees it.
"""
from __future__ import annotations

import html
import re
from collections.abc import Mapping
from pathlib import Path

from ..errors import RagError, describe, one_line
from ..retrieve import DATE_FILTERS, iso_date, undated_note
from ..settings import Settings
from ..text import plural
from ..types import Answer, Citation

MAX_LISTED_ARTICLES = 300
PASSAGE_CONTEXT = 280  # characters of the article shown either side of a quote on its card

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")
_MARKER = re.compile(r"\[(\d{1,3})\]")
_REPORTED = re.compile(r"\bas of (\d{4}-\d{2}-\d{2})")
_SPACE_BEFORE_PUNCT = re.compile(r"(\[\d{1,3}\])\s+([.,;:!?])")


def esc(text: object) -> str:
    """HTML-escape text for any HTML we emit; braces and `$` too, so no template engine can read it."""
    return (html.escape(str(text or ""), quote=True)
            .replace("{", "&#123;").replace("}", "&#125;").replace("$", "&#36;").replace("`", "&#96;"))


def md_text(text: str) -> str:
    """Plain text made safe for the chatbot's Markdown: HTML-escaped and Markdown punctuation backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def message_text(content: object) -> str:
    """A chat message's text as the Chatbot sends it back: a string, or a list of parts of which the
    {"type": "text", "text": ...} ones hold it."""
    if isinstance(content, list):
        return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return str(content or "")


def display_line(text: str) -> str:
    """The answer line as a reader should read it: an article's date is when it was *reported* (not the
    "Asked as of" setting), and a citation marker keeps to the word before its punctuation ("August 12 [1].")."""
    return _SPACE_BEFORE_PUNCT.sub(r"\1\2", _REPORTED.sub(r"reported \1", text or ""))


def render_answer_text(text: str, turn: int, cited: set[int] | None = None) -> str:
    """Answer text as chat Markdown, each [n] (of `cited`, or every one) a link to source card n of this turn."""
    out, pos = [], 0
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if cited is not None and n not in cited:
            continue
        out.append(md_text(text[pos:m.start()]))
        out.append(f'<a class="cite" href="#src-{turn}-{n}" title="Open source {n}">[{n}]</a>')
        pos = m.end()
    out.append(md_text(text[pos:]))
    return "".join(out)


def answerer_label(answer: Answer, settings: Settings) -> str:
    """Who answered: "local", or an LLM answerer with its model ("openai (gpt-4o-mini)"); a label that names its
    model already ("local-llm:qwen….gguf") is left as it is."""
    name = answer.answerer or "local"
    if name != "local" and ":" not in name and settings.llm.llm_model and settings.llm.llm_model not in name:
        name = f"{name} ({settings.llm.llm_model})"
    return name


def render_message(answer: Answer, turn: int, settings: Settings, filter_note: str = "") -> str:
    """The chat message for a finished answer: its line (dates as "reported …"), its quotes (their dates are on
    the cards), what was searched for when a follow-up was rewritten or the question corrected (`Answer.searched`),
    which filters left articles out, the answerer and a Copy link."""
    cited = {c.n for c in answer.citations}
    line = display_line(answer.answer or answer.text)
    body = render_answer_text(line, turn, cited)
    parts = []
    if answer.abstained:
        parts.append('<span class="abstained-badge">Not found in the indexed articles</span>\n\n'
                     f'<span class="abstained">{body}</span>')
    else:
        parts.append(body)
        if quotes := _quote_lines(answer, line, turn, cited):
            parts.append(quotes)
    searched = answer.searched
    if searched:
        parts.append(f'<span class="searched-for">Searched for: {md_text(searched)}</span>')
    if filter_note:
        parts.append(f'<span class="filter-note">{md_text(filter_note)}</span>')
    if answer.notice:
        parts.append(f'<span class="notice">⚠ {esc(answer.notice)}</span>')
    ms = answer.timings.get("total_ms")
    took = f" · {ms / 1000:.2f} s" if isinstance(ms, (int, float)) and ms >= 1000 else (
        f" · {ms:.0f} ms" if isinstance(ms, (int, float)) else "")
    parts.append(f'<span class="answer-meta">answered by {esc(answerer_label(answer, settings))}{took}</span>'
                 f'<span class="copy-answer" role="button" tabindex="0" title="Copy the answer and its sources">Copy</span>')
    return "\n\n".join(parts)


def _quote_lines(answer: Answer, line: str, turn: int, cited: set[int]) -> str:
    """"[n] “quote”" for each citation the line marks without holding its quote, one a line ("" for none)."""
    return "\n".join(render_answer_text(f"[{c.n}] “{c.quote}”", turn, cited)
                     for c in answer.citations if f"[{c.n}]" in line and c.quote not in line)


def render_instant(answer: Answer, turn: int | None) -> str:
    """The extractive answer the chat shows at once while a local LLM writes its own under it: a label, its line
    and quotes. Its [n] link to this `turn`'s cards while they are its cards; with `turn` None (the LLM's answer
    has the cards now) they are plain text and the quotes stay as its evidence."""
    line = display_line(answer.answer or answer.text)
    cited = {c.n for c in answer.citations} if turn is not None else set()
    ms = answer.timings.get("total_ms")
    took = f", {ms / 1000:.2f} s" if isinstance(ms, (int, float)) else ""
    parts = [f'<span class="instant-label">Instant answer (extractive{took})</span>',
             render_answer_text(line, turn or 0, cited)]
    if not answer.abstained and (quotes := _quote_lines(answer, line, turn or 0, cited)):
        parts.append(quotes)
    return "\n\n".join(parts)


def error_message(exc: BaseException) -> str:
    """An error as one chat line, never a traceback: a RagError's own words, else the exception's class and
    the first line of its message."""
    line = one_line(exc) if isinstance(exc, RagError) else f"unexpected error: {describe(exc)}"
    return f'<span class="error-msg">⚠ Error: {md_text(line)}</span>'


def display_source(source: str | None) -> str:
    """A file path is shown by its name only: the server's folders are none of the reader's business."""
    s = str(source or "")
    if s.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", s):
        return Path(s).name
    return s


def locate(text: str, quote: str, start: int, end: int) -> tuple[int, int] | None:
    """The quote's (start, end) in the article text: the citation's offsets if they still hold, else its first
    occurrence, else None."""
    if 0 <= start < end <= len(text) and text[start:end] == quote:
        return start, end
    i = text.find(quote) if quote else -1
    return (i, i + len(quote)) if i >= 0 else None


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


def render_card(c: Citation, turn: int, article: dict | None) -> str:
    """Source card n of a turn: title, date, source, what the quote's relative dates meant, related reports and
    the quote marked in its paragraph of `article` (an article dict with "text"; None: the quote alone)."""
    span = locate(article["text"], c.quote, c.start, c.end) if article else None
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
            f'<div class="src-meta">{date} · <span class="src-source">{esc(display_source(c.source))}</span>'
            + "".join(f' · <span class="src-when">{esc(p)} = {esc(r)}</span>' for p, r in c.dates) + '</div>'
            + _related(c) + f'<div class="src-passage">{passage}</div>'
            f'<div class="src-actions"><span class="src-open">Open article ›</span></div></div>')


def _related(c: Citation) -> str:
    """"Also reported by …" for copies folded into the cited article; "Another version: …" for a report of
    the same story that changes a value (a reader should see the two are related)."""
    parts = []
    if c.alternates:
        parts.append("Also reported by " + ", ".join(esc(display_source(a.get("source") or a.get("doc_id") or ""))
                                                       for a in c.alternates))
    for v in c.versions:
        when = f" (reported {esc(v['published_at'])})" if v.get("published_at") else ""
        parts.append(f"Another version: {esc(v.get('title') or v['doc_id'])}{when}")
    return "".join(f'<div class="src-related">{p}</div>' for p in parts)


def render_turn_cards(answer: Answer, turn: int, question: str, articles: Mapping[str, dict | None]) -> str:
    """One turn's block of source cards under its question; `articles` maps each cited doc_id to its article
    dict, or to None for one that could not be read (its card still shows the quote)."""
    cards = "".join(render_card(c, turn, articles.get(c.doc_id)) for c in answer.citations)
    body = cards or '<div class="sources-none">No sources: the answer cites nothing.</div>'
    return (f'<div class="src-turn" id="turn-{turn}"><div class="src-turn-q">Sources for “{esc(question)}”</div>'
            f"{body}</div>")


SOURCES_H = '<div class="panel-h">Sources</div>'


def render_sources(turns: list[dict]) -> str:
    """The Sources panel: each turn's cards (turns are {"question", "answer", "cards"} dicts), newest first."""
    if not turns:
        return (SOURCES_H + '<div class="sources-empty">Sources appear here: each citation [n] of an answer gets a '
                'card with its title, date, source and the quoted passage. Click a card or an [n] to read the whole '
                'article.</div>')
    return SOURCES_H + "".join(t["cards"] for t in reversed(turns))


ARTICLE_H = '<div class="panel-h">Article</div>'
ARTICLE_EMPTY = (ARTICLE_H + '<div class="article-empty">Click a source card, an [n] in an answer or an article in '
                 'the sidebar to read it here.</div>')


def render_article(doc: dict, start: int = -1, end: int = -1, opened: str = "user") -> str:
    """The Article panel: the whole article (a dict as `RAG.article` returns), text[start:end] marked when that
    is a span of it; `opened` is "user" (a click) or "auto" (the newest answer's source, or the source of the
    turn scrolled into view)."""
    text = doc.get("text") or ""
    date = f"reported {esc(doc.get('published_at'))}" if doc.get("published_at") else '<span class="undated">undated</span>'
    if 0 <= start < end <= len(text):
        body = f'{esc(text[:start])}<mark class="article-quote">{esc(text[start:end])}</mark>{esc(text[end:])}'
    else:
        body = esc(text)
    shown = display_source(doc.get("source"))
    ident = "" if shown == doc.get("doc_id") else f' · <code>{esc(doc.get("doc_id"))}</code>'
    return (f'{ARTICLE_H}<div class="article-view" data-opened="{esc(opened)}" data-doc="{esc(doc.get("doc_id"))}" '
            f'data-start="{start}">'
            f'<div class="article-title">{esc(doc.get("title"))}</div>'
            f'<div class="article-meta">{date} · {esc(shown)}{ident}</div><div class="article-body">{body}</div></div>')


def render_article_error(exc: BaseException) -> str:
    """The Article panel when an article cannot be opened: a RagError's words, else a generic line."""
    why = str(exc) if isinstance(exc, RagError) else "could not open the article"
    return ARTICLE_H + f'<div class="article-empty">⚠ {esc(why)}</div>'


def render_articles(rows: list[dict], note: str = "") -> str:
    """The sidebar's article list (rows as `RAG.articles` returns): a count, `note` (what the last re-index or
    removal did), a title search when there is more than one, and the first MAX_LISTED_ARTICLES as items that
    open the article, each with Remove (✕) and, for one read from a file, Re-index (↻)."""
    n = len(rows)
    items = "".join(
        f'<li class="art-item" data-doc="{esc(r["doc_id"])}" data-start="-1" data-end="-1" title="Open">'
        f'<span class="art-date">{esc(r.get("published_at") or "undated")}</span> '
        f'<span class="art-title">{esc(r.get("title") or r["doc_id"])}</span>{_article_actions(r)}</li>'
        for r in rows[:MAX_LISTED_ARTICLES])
    more = f'<div class="art-more">… and {n - MAX_LISTED_ARTICLES:,} more</div>' if n > MAX_LISTED_ARTICLES else ""
    search = ('<input class="art-search" type="search" placeholder="Search titles and dates" '
              'aria-label="Search the article list"> <span class="art-shown"></span>') if n > 1 else ""
    shown = f'<div class="art-note" role="status">{esc(note)}</div>' if note else ""
    return (f'<div class="art-count"><b>{n:,}</b> {plural(n, "article")} indexed</div>'
            f'{shown}{search}<ul class="art-list">{items}</ul>{more}')


def _article_actions(row: dict) -> str:
    """A listed article's buttons; the file's path stays on the server (the handler looks it up)."""
    title = esc(row.get("title") or row["doc_id"])
    again = (f'<button type="button" class="art-act" data-act="reindex" title="Re-index from its file" '
             f'aria-label="Re-index {title}">↻</button>') if row.get("path") else ""
    return (f'<span class="art-actions">{again}<button type="button" class="art-act" data-act="remove" '
            f'title="Remove from the index" aria-label="Remove {title}">✕</button></span>')


def render_articles_error(exc: BaseException) -> str:
    """The article list when the index cannot be read: a RagError's words, else the exception's class."""
    return f'<div class="art-count">⚠ {esc(str(exc) if isinstance(exc, RagError) else exc.__class__.__name__)}</div>'


FILTER_LABELS = {"since": "Published since", "until": "Published until", "as_of": "Asked as of",
                 "source": "Source contains"}


def filter_values(since: str | None, until: str | None, as_of: str | None, source: str | None) -> dict[str, str]:
    """The filters that are set, as stripped strings keyed by FILTER_LABELS' keys (dates cut to YYYY-MM-DD)."""
    raw = {"since": since, "until": until, "as_of": as_of, "source": source}
    return {k: str(v).strip()[:10] if k != "source" else str(v).strip() for k, v in raw.items()
            if v is not None and str(v).strip()}


def filter_problems(values: dict[str, str]) -> list[str]:
    """One line per date filter that is not a date, for inline validation."""
    out = []
    for k in DATE_FILTERS:
        if k in values:
            try:
                iso_date(values[k])
            except (RagError, ValueError):
                out.append(f"{FILTER_LABELS[k]}: “{values[k]}” is not a date; pick one or type YYYY-MM-DD")
    return out


def render_chips(since: str | None = None, until: str | None = None, as_of: str | None = None,
                 source: str | None = None, undated: int = 0) -> str:
    """Active filters as chips above the chat (a click clears one, "Clear all" every one), a line per bad date
    and, when the dates are good, how many undated articles (`undated`) the date filter left out."""
    values = filter_values(since, until, as_of, source)
    if not values:
        return ""
    chips = [f'<button class="chip" data-filter="{k}" title="Clear this filter">{esc(FILTER_LABELS[k])}: '
             f'<b>{esc(v)}</b> <span class="chip-x" aria-hidden="true">×</span></button>' for k, v in values.items()]
    if len(values) > 1:
        chips.append('<button class="chip chip-all" data-filter="all" title="Clear every filter">Clear all</button>')
    notes = [f'<div class="filter-warning">⚠ {esc(p)}</div>' for p in filter_problems(values)]
    left_out = undated_note(undated) if not notes else ""
    if left_out:
        notes.append(f'<div class="filter-warning undated-note">{esc(left_out)}</div>')
    return f'<div class="chips" role="group" aria-label="Active filters">{"".join(chips)}{"".join(notes)}</div>'
