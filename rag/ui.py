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
from .settings import Settings

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


def render_answer_text(text: str, turn: int, cited: set[int] | None = None) -> str:
    """Answer text for the chat, each [n] turned into a link to source card n of this turn."""
    out, pos = [], 0
    for m in _MARKER.finditer(text):
        n = int(m.group(1))
        if cited is not None and n not in cited:
            continue
        out.append(_md_text(text[pos:m.start()]))
        out.append(f'<a class="cite" href="#src-{turn}-{n}" title="Show source {n}">[{n}]</a>')
        pos = m.end()
    out.append(_md_text(text[pos:]))
    return "".join(out)


def answerer_label(answer, settings: Settings) -> str:
    name = answer.answerer or "local"
    if name != "local" and settings.llm_model and settings.llm_model not in name:
        name = f"{name} ({settings.llm_model})"
    return name


def render_message(answer, turn: int, settings: Settings) -> str:
    cited = {c.n for c in answer.citations}
    body = render_answer_text(answer.text, turn, cited)
    parts = []
    if answer.abstained:
        parts.append('<span class="abstained-badge">Not found in the indexed articles</span>\n\n'
                     f'<span class="abstained">{body}</span>')
    else:
        parts.append(body)
    if answer.notice:
        parts.append(f'<span class="notice">⚠ {esc(answer.notice)}</span>')
    ms = answer.timings.get("total_ms")
    took = f" · {ms / 1000:.2f} s" if isinstance(ms, (int, float)) and ms >= 1000 else (
        f" · {ms:.0f} ms" if isinstance(ms, (int, float)) else "")
    parts.append(f'<span class="answer-meta">answered by {esc(answerer_label(answer, settings))}{took}</span>')
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
    date = esc(c.published_at) if c.published_at else '<span class="undated">undated</span>'
    return (f'<div class="src-card" id="src-{turn}-{c.n}" role="button" tabindex="0" '
            f'data-doc="{esc(c.doc_id)}" data-start="{start}" data-end="{end}" title="Open the whole article">'
            f'<div class="src-head"><span class="src-n">[{c.n}]</span> <span class="src-title">{esc(c.title)}</span></div>'
            f'<div class="src-meta">{date} · <span class="src-source">{esc(_display_source(c.source))}</span>'
            + "".join(f' · <span class="src-when">{esc(p)} = {esc(r)}</span>' for p, r in c.dates) + '</div>'
            f'<div class="src-passage">{passage}</div>'
            f'<div class="src-actions"><span class="src-open">Open article ›</span></div></div>')


def render_sources(turns: list[dict]) -> str:
    """Source cards for every answer of the conversation, newest first."""
    if not turns:
        return ('<div class="sources-empty">Sources appear here: each citation [n] of an answer gets a card '
                'with its title, date, source and the quoted passage. Click a card to read the whole article.</div>')
    return "".join(t["cards"] for t in reversed(turns))


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


def render_article(doc: dict, start: int = -1, end: int = -1) -> str:
    text = doc.get("text") or ""
    date = esc(doc.get("published_at")) if doc.get("published_at") else '<span class="undated">undated</span>'
    if 0 <= start < end <= len(text):
        body = f'{esc(text[:start])}<mark class="article-quote">{esc(text[start:end])}</mark>{esc(text[end:])}'
    else:
        body = esc(text)
    shown = _display_source(doc.get("source"))
    ident = "" if shown == doc.get("doc_id") else f' · <code>{esc(doc.get("doc_id"))}</code>'
    return (f'<div class="article-view"><div class="article-title">{esc(doc.get("title"))}</div>'
            f'<div class="article-meta">{date} · {esc(shown)}{ident}</div><div class="article-body">{body}</div></div>')


ARTICLE_EMPTY = '<div class="article-empty">Click a source card (or an article in the sidebar) to read it here.</div>'


def render_articles(rows: list[dict]) -> str:
    n = len(rows)
    items = "".join(
        f'<li class="art-item" data-doc="{esc(r["doc_id"])}" data-start="-1" data-end="-1" title="Open">'
        f'<span class="art-date">{esc(r.get("published_at") or "undated")}</span> '
        f'<span class="art-title">{esc(r.get("title") or r["doc_id"])}</span></li>'
        for r in rows[:MAX_LISTED_ARTICLES])
    more = f'<div class="art-more">… and {n - MAX_LISTED_ARTICLES:,} more</div>' if n > MAX_LISTED_ARTICLES else ""
    return (f'<div class="art-count"><b>{n:,}</b> article{"s" if n != 1 else ""} indexed</div>'
            f'<ul class="art-list">{items}</ul>{more}')


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
    target = rag.settings.index_dir / "uploads"
    target.mkdir(parents=True, exist_ok=True)
    existing = None
    lines = []
    for i, f in enumerate(files):
        src = Path(f if isinstance(f, (str, Path)) else getattr(f, "path", None) or getattr(f, "name", ""))
        shown = _md_text(src.name)
        try:
            if progress is not None:
                progress(i / len(files), desc=f"Checking {src.name}")
            safe = check_upload(src, src.name, rag.settings.upload_max_mb)
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

CSS = """
#chat .cite { display:inline-block; padding:0 .3em; margin:0 .1em; border-radius:.4em; font-weight:600;
  font-size:.85em; background:var(--color-accent-soft); color:var(--color-accent); text-decoration:none; cursor:pointer; }
#chat .cite:hover { background:var(--color-accent); color:white; }
#chat .answer-meta { font-size:.8em; color:var(--body-text-color-subdued); }
#chat .notice { font-size:.85em; color:#b45309; }
#chat .error-msg { color:#b91c1c; }
#chat .abstained-badge { display:inline-block; font-size:.8em; font-weight:600; padding:.1em .6em; border-radius:1em;
  background:#fef3c7; color:#92400e; border:1px solid #f59e0b; }
#chat .abstained { color:var(--body-text-color-subdued); font-style:italic; }
.src-turn { margin-bottom:1em; }
.src-turn-q { font-size:.8em; font-weight:600; color:var(--body-text-color-subdued); margin:.2em 0 .4em; }
.src-card { border:1px solid var(--border-color-primary); border-radius:.6em; padding:.6em .8em; margin-bottom:.6em;
  cursor:pointer; background:var(--background-fill-primary); transition: box-shadow .2s, border-color .2s; }
.src-card:hover, .src-card:focus { border-color:var(--color-accent); box-shadow:0 0 0 2px var(--color-accent-soft); outline:none; }
.src-card.flash { animation: srcflash 1.6s ease-out; border-color:var(--color-accent); }
@keyframes srcflash { 0% { box-shadow:0 0 0 6px var(--color-accent); } 100% { box-shadow:0 0 0 0 transparent; } }
.src-head { font-weight:600; line-height:1.3; }
.src-n { color:var(--color-accent); }
.src-meta { font-size:.8em; color:var(--body-text-color-subdued); margin:.2em 0 .4em; }
.src-passage { font-size:.88em; line-height:1.45; }
.src-passage mark, .article-body mark { background:#fde68a; color:inherit; padding:0 .1em; border-radius:.2em; }
.src-actions { text-align:right; font-size:.8em; color:var(--color-accent); margin-top:.3em; }
.sources-empty, .article-empty, .sources-none { font-size:.85em; color:var(--body-text-color-subdued); padding:.4em; }
.article-view { border:1px solid var(--border-color-primary); border-radius:.6em; padding:.8em 1em; }
.article-title { font-weight:700; font-size:1.05em; }
.article-meta { font-size:.8em; color:var(--body-text-color-subdued); margin:.2em 0 .6em; }
.article-body { white-space:pre-wrap; font-size:.9em; line-height:1.5; max-height:420px; overflow-y:auto; }
.article-body mark.article-quote { background:#fcd34d; box-shadow:0 0 0 2px #f59e0b; }
.art-count { margin-bottom:.3em; }
.art-list { list-style:none; padding:0; margin:0; max-height:260px; overflow-y:auto; font-size:.82em; }
.art-item { padding:.25em 0; border-bottom:1px solid var(--border-color-primary); cursor:pointer; }
.art-item:hover .art-title { color:var(--color-accent); }
.art-date { color:var(--body-text-color-subdued); font-variant-numeric:tabular-nums; margin-right:.3em; }
.undated { font-style:italic; }
#examples button { font-size:.85em; }
"""

# [n] markers in the chat: scroll to and flash source card n of that answer.
GLOBAL_JS = """
() => {
  if (window.__ragCiteHandler) return;
  window.__ragCiteHandler = true;
  document.addEventListener('click', (e) => {
    const a = e.target && e.target.closest ? e.target.closest('a[href^="#src-"]') : null;
    if (!a) return;
    e.preventDefault();
    e.stopPropagation();
    const card = document.getElementById(a.getAttribute('href').slice(1));
    if (!card) return;
    card.scrollIntoView({behavior: 'smooth', block: 'center'});
    card.classList.remove('flash');
    void card.offsetWidth;
    card.classList.add('flash');
    card.focus({preventScroll: true});
  }, true);
}
"""

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
  if (el && (e.key === 'Enter' || e.key === ' ')) { e.preventDefault(); open(el); }
});
"""

# After an article is shown, scroll the quote into the middle of the view.
ARTICLE_JS = """
watch('value', () => {
  const m = element.querySelector('mark.article-quote');
  const body = element.querySelector('.article-body');
  if (body) body.scrollTop = 0;
  element.scrollIntoView({behavior: 'instant', block: 'start'});
  if (m) m.scrollIntoView({behavior: 'instant', block: 'center'});
});
"""


def build_demo():
    settings = get_rag().settings

    def respond(question, chat, turns, top_k, answerer, since, until, as_of, source):
        chat = list(chat or [])
        turns = list(turns or [])
        q = (question or "").strip()
        chat.append({"role": "user", "content": _md_text(q) if q else "(empty question)"})
        chat.append({"role": "assistant", "content": "…"})
        yield "", chat, turns, gr.skip()
        turn = len(turns) + 1
        text, answer = "", None
        try:
            rag = get_rag()
            stream = rag.stream(q, history=[t["question"] for t in turns], answerer=answerer or None,
                                k=int(top_k) if top_k else None, since=(since or "").strip() or None,
                                until=(until or "").strip() or None, as_of=(as_of or "").strip() or None,
                                source=(source or "").strip() or None)
            for piece in stream:
                if isinstance(piece, str):
                    text += piece
                    chat[-1] = {"role": "assistant", "content": render_answer_text(text, turn) + " ▌"}
                    yield gr.skip(), chat, gr.skip(), gr.skip()
                else:
                    answer = piece
            if answer is None:
                raise RagError("the engine returned no answer")
            chat[-1] = {"role": "assistant", "content": render_message(answer, turn, rag.settings)}
            turns.append({"question": q, "cards": render_turn_cards(answer, turn, q)})
            yield gr.skip(), chat, turns, render_sources(turns)
        except Exception as e:  # noqa: BLE001 - every failure is one line in the chat
            if not isinstance(e, RagError):
                log.exception("question failed")
            chat[-1] = {"role": "assistant", "content": error_message(e)}
            yield gr.skip(), chat, turns, gr.skip()

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
            return f'<div class="article-empty">⚠ {esc(str(e) if isinstance(e, RagError) else "could not open the article")}</div>'

    def list_articles():
        try:
            return render_articles(get_rag().articles())
        except Exception as e:  # noqa: BLE001
            return f'<div class="art-count">⚠ {esc(str(e) if isinstance(e, RagError) else e.__class__.__name__)}</div>'

    def upload(files, progress=gr.Progress(track_tqdm=True)):
        report = add_uploads(files, progress)
        return report, list_articles(), None

    def clear():
        return [], [], render_sources([]), ARTICLE_EMPTY, ""

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

    with gr.Blocks(title="rag · ask the news", fill_width=True) as demo:
        turns = gr.State([])
        with gr.Sidebar(open=True, width=330):
            gr.Markdown("### rag\nAnswers questions about news articles with quoted, cited evidence.")
            with gr.Accordion("Indexed articles", open=True):
                articles_html = gr.HTML("", elem_id="articles", js_on_load=OPEN_JS)
            with gr.Accordion("Add articles", open=True):
                files = gr.File(label=f"Upload .txt .md .html .jsonl (≤ {settings.upload_max_mb:g} MB each)",
                                file_count="multiple", file_types=list(UPLOAD_SUFFIXES), type="filepath",
                                elem_id="upload", height=110)
                upload_status = gr.Markdown(elem_id="upload-status")
            with gr.Accordion("Settings", open=False, elem_id="settings-accordion"):
                top_k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages per answer (top-k)", elem_id="top-k")
                answerer = gr.Radio(["local", *(["local-llm"] if llm_installed() else []), "openai"],
                                    value=settings.answerer, label="Answerer", elem_id="answerer",
                                    info="local: extractive, instant · local-llm: the packaged Qwen2.5 1.5B, offline,"
                                    " seconds per answer · openai: an LLM at RAG_LLM_BASE_URL")
                since = gr.Textbox(label="Published since", placeholder="YYYY-MM-DD", max_lines=1, elem_id="since")
                until = gr.Textbox(label="Published until", placeholder="YYYY-MM-DD", max_lines=1, elem_id="until")
                as_of = gr.Textbox(label="Asked as of", placeholder="YYYY-MM-DD", max_lines=1, elem_id="as-of",
                                   info="answer as on that day: later articles left out, the newest before it first")
                source = gr.Textbox(label="Source contains", placeholder="e.g. reuters", max_lines=1, elem_id="source")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=380):
                chatbot = gr.Chatbot(elem_id="chat", label="Answers", height=520, sanitize_html=True,
                                     line_breaks=True, buttons=[], feedback_options=None,
                                     placeholder="Ask a question about the indexed news articles. "
                                                 "Every answer quotes its sources.")
                with gr.Row():
                    question = gr.Textbox(elem_id="question", show_label=False, scale=8, max_lines=4,
                                          placeholder="Ask about the news, e.g. When does the tariff truce expire?",
                                          autofocus=True)
                    ask_btn = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="ask")
                    clear_btn = gr.Button("New chat", scale=1, min_width=80, elem_id="clear")
                with gr.Row(elem_id="examples"):
                    example_btns = [gr.Button(q, size="sm", elem_classes=["example"]) for q in EXAMPLES]
            with gr.Column(scale=2, min_width=320):
                gr.Markdown("#### Sources")
                sources = gr.HTML(render_sources([]), elem_id="sources", js_on_load=OPEN_JS,
                                  max_height=560, autoscroll=False)
                gr.Markdown("#### Article")
                article = gr.HTML(ARTICLE_EMPTY, elem_id="article", js_on_load=ARTICLE_JS)

        chat_inputs = [question, chatbot, turns, top_k, answerer, since, until, as_of, source]
        chat_outputs = [question, chatbot, turns, sources]
        kw = dict(api_visibility="private", show_progress="hidden")
        question.submit(respond, chat_inputs, chat_outputs, **kw)
        ask_btn.click(respond, chat_inputs, chat_outputs, **kw)
        for b, q in zip(example_btns, EXAMPLES):
            b.click(lambda q=q: q, None, question, api_visibility="private", queue=False).then(
                respond, chat_inputs, chat_outputs, **kw)
        clear_btn.click(clear, None, [chatbot, turns, sources, article, question], api_visibility="private",
                        queue=False)
        chatbot.clear(lambda: ([], render_sources([]), ARTICLE_EMPTY), None, [turns, sources, article],
                      api_visibility="private", queue=False)
        sources.click(open_article, None, article, api_visibility="private")
        articles_html.click(open_article, None, article, api_visibility="private")
        files.upload(upload, files, [upload_status, articles_html, files], api_visibility="private",
                     concurrency_limit=1, concurrency_id="index")
        demo.load(list_articles, None, articles_html, api_visibility="private", queue=False)
        gr.api(ask, api_name="ask")
    demo.queue(default_concurrency_limit=settings.ui_concurrency, max_size=QUEUE_MAX_SIZE)
    return demo


def serve(host: str | None = None, port: int | None = None) -> int:
    """Start the web UI (blocks until interrupted). Seeds a fresh index first."""
    rag = get_rag()
    report = rag.ensure_index()
    if report:
        print(f"first run: indexed {report.seen} seed articles from {rag.settings.seeds_dir}", flush=True)
    try:  # load the models now, so the first visitor does not wait for them
        rag.ask(EXAMPLES[0])
    except Exception as e:  # noqa: BLE001 - an empty index, say; questions will then report it
        log.warning("warm-up question failed: %s", e)
    demo = build_demo()
    settings = rag.settings
    host = host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = int(port or os.environ.get("GRADIO_SERVER_PORT") or 7860)
    auth = (settings.ui_user, settings.ui_password) if settings.ui_user and settings.ui_password else None
    demo.launch(server_name=host, server_port=port, share=False, auth=auth, show_error=False,
                max_file_size=int(settings.upload_max_mb * 1024 * 1024), css=CSS, js=GLOBAL_JS, footer_links=["api"],
                ssr_mode=False, mcp_server=False, enable_monitoring=False)
    return 0
