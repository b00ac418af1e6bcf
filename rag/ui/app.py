"""The Gradio chat app (`rag serve`, `python app.py`): its layout and event handlers over one `rag.RAG`.

`build_demo(rag)` lays out the page and wires each event to a handler that calls the `RAG` API and shows the
result through rag.ui.render; `serve()` creates the RAG, warms it up and launches the app. Handlers turn every
failure into one line for the reader. Besides the page's private events, one named `/ask` API endpoint returns
the same JSON as `rag ask --json`.
"""
from __future__ import annotations

import html
import logging
import os
import re
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import gradio as gr

from ..answer import resolve
from ..api import RAG
from ..errors import RagError
from ..load import SUPPORTED
from ..models import llm_installed
from ..retrieve import DATE_FILTERS, undated_left_out
from ..settings import Settings, offline_environment
from ..types import Answer
from .render import (ARTICLE_EMPTY, display_line, error_message, filter_problems, filter_values,
                     md_text, message_text, render_answer_text, render_article, render_article_error,
                     render_articles, render_articles_error, render_chips, render_instant, render_message, render_sources,
                     render_turn_cards, undated_note)
from .uploads import add_uploads

log = logging.getLogger("rag.ui")

EXAMPLES = [
    "When does the tariff truce expire?",
    "Who led the US officials at the Stockholm talks?",
    "What tariff rate did Trump threaten if rare-earth magnet exports are restricted?",
    "How many tons of soybeans did Bessent say China is ready to buy?",
]
ANSWERERS = ("local", "local-llm", "openai")
WRITING = '<span class="llm-writing">local-llm is writing its answer…</span> ▌'
QUEUE_MAX_SIZE = 200  # waiting requests beyond this get a "queue full" error instead of unbounded memory


def static(name: str) -> str:
    """A file of rag/ui/static/ (CSS, or JS that Gradio runs), as text."""
    return (resources.files(__package__) / "static" / name).read_text(encoding="utf-8")


CSS = static("ui.css")
GLOBAL_JS = static("ui.js")  # citations, Copy, Ask enabled, counter, phone sidebar
OPEN_JS = static("open.js")  # a click on a card or a listed article opens it
ARTICLE_JS = static("article.js")  # the quote scrolled into view in the Article panel
CHIPS_JS = static("chips.js")  # a click on a chip clears its filter


def llm_configured(settings: Settings) -> bool:
    """The "openai" answerer has somewhere to go: a key, or a base URL of its own (a local server needs no key)."""
    return bool(settings.llm.openai_api_key or (settings.llm.llm_base_url and "api.openai.com" not in settings.llm.llm_base_url))


def build_demo(rag: RAG) -> gr.Blocks:
    """The chat app over `rag`, queued and ready to launch (with CSS and GLOBAL_JS, as `serve` does)."""
    settings = rag.settings
    limit = settings.answer.max_question_chars
    can_llm = llm_configured(settings)

    def undated(values: dict[str, str]) -> int:
        """How many undated articles the date filters leave out; 0 when the dates are bad or the index cannot
        be read (the note is a courtesy: a question reports a store error itself)."""
        if not any(k in values for k in DATE_FILTERS) or filter_problems(values):  # no store read for nothing
            return 0
        try:
            return undated_left_out(values, rag.articles())
        except Exception:  # noqa: BLE001
            return 0

    def cited_articles(answer: Answer) -> dict[str, dict | None]:
        """Each cited article by doc_id; None for one removed since it was cited (its card keeps the quote)."""
        out: dict[str, dict | None] = {}
        for c in answer.citations:
            if c.doc_id not in out:
                try:
                    out[c.doc_id] = rag.article(c.doc_id)
                except Exception:  # noqa: BLE001
                    out[c.doc_id] = None
        return out

    def respond(question: str, chat: list[dict], turns: list[dict], top_k: float, answerer: str,
                since: str | None, until: str | None, as_of: str | None, source: str) -> Iterator[tuple]:
        """Streams an answer into the chat; yields (question box, chat, turns, sources, article, saved state)."""
        q = (question or "").strip()
        if not q:  # Ask is disabled on an empty box; Enter on one does nothing either
            yield (gr.skip(),) * 6
            return
        chat = list(chat or [])
        turns = list(turns or [])
        chat.append({"role": "user", "content": md_text(q)})
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
            history = [{"question": t["question"], "answer": t.get("answer", "")} for t in turns]
            chosen = resolve(answerer if answerer in ANSWERERS else settings.answer.answerer)
            ask = dict(history=history, k=int(top_k) if top_k else None, since=values.get("since"),
                       until=values.get("until"), as_of=values.get("as_of"), source=values.get("source"))
            quick, lead = None, ""
            if chosen == "local-llm":  # seconds an answer: the extractive one and its evidence first, the LLM's under it
                quick = rag.ask(q, answerer="local", **ask)
                lead = render_instant(quick, turn) + "\n\n"
                chat[-1] = {"role": "assistant", "content": lead + WRITING}
                shown_cards = {"cards": render_turn_cards(quick, turn, q, cited_articles(quick))}
                yield gr.skip(), chat, gr.skip(), render_sources([*turns, shown_cards]), gr.skip(), gr.skip()
            for piece in rag.stream(q, answerer=chosen, **ask):
                if isinstance(piece, str):
                    text += piece
                    # under the instant answer, whose cards the Sources panel shows, the LLM's [n] are not links yet
                    line = render_answer_text(display_line(text), turn, set() if quick else None)
                    chat[-1] = {"role": "assistant", "content": lead + line + " ▌"}
                    yield gr.skip(), chat, gr.skip(), gr.skip(), gr.skip(), gr.skip()
                else:
                    answer = piece
            if answer is None:
                raise RagError("the engine returned no answer")
            message = render_message(answer, turn, settings, undated_note(undated(values)))
            if quick is not None and answer.answerer != "local":  # kept above the LLM's (a fallback is the same answer)
                message = render_instant(quick, None) + "\n\n" + message
            chat[-1] = {"role": "assistant", "content": message}
            articles = cited_articles(answer)
            turns.append({"question": q, "answer": "" if answer.abstained else answer.answer,
                          "cards": render_turn_cards(answer, turn, q, articles)})
            # the Article panel opens the new answer's first source itself (ui.js `newest`), unless the reader
            # opened another article while it was being written
            yield gr.skip(), chat, turns, render_sources(turns), gr.skip(), {"chat": chat, "turns": turns}
        except Exception as e:  # noqa: BLE001 - every failure is one line in the chat
            if not isinstance(e, RagError):
                log.exception("question failed")
            chat[-1] = {"role": "assistant", "content": error_message(e)}
            yield gr.skip(), chat, turns, gr.skip(), gr.skip(), gr.skip()

    def open_article(evt: gr.EventData) -> str | dict:
        """The Article panel for a clicked card or listed article (event data: doc_id, start, end, and opened:
        "auto" when it is the source of the turn scrolled into view rather than a click)."""
        data = getattr(evt, "_data", None) or {}
        doc_id = str(data.get("doc_id") or "")
        if not doc_id:
            return gr.skip()
        try:
            doc = rag.article(doc_id)
            try:
                start, end = int(data.get("start", -1)), int(data.get("end", -1))
            except (TypeError, ValueError):
                start, end = -1, -1
            return render_article(doc, start, end, opened="auto" if data.get("opened") == "auto" else "user")
        except Exception as e:  # noqa: BLE001
            return render_article_error(e)

    def list_articles(note: str = "") -> str:
        try:
            return render_articles(rag.articles(), note)
        except Exception as e:  # noqa: BLE001
            return render_articles_error(e)

    def manage_article(doc_id: str, action: str, shown: str) -> tuple[str | dict, str]:
        """Removes or re-indexes a listed article; returns (Article panel, article list with what was done).
        `shown` is the article the panel shows: emptied if removed, read again if re-indexed."""
        panel = gr.skip()
        try:
            row = next((r for r in rag.articles() if r["doc_id"] == doc_id), None)
            if row is None:
                raise RagError(f"no indexed article with id {doc_id!r}")
            title = row.get("title") or doc_id
            if action == "remove":
                rag.remove(doc_id)
                uploads = (rag.settings.paths.index_dir / "uploads").resolve()
                if row.get("path") and Path(row["path"]).resolve().parent == uploads:  # the app's own copy
                    Path(row["path"]).unlink(missing_ok=True)
                note = f"Removed “{title}”"
                if shown == doc_id:
                    panel = ARTICLE_EMPTY
            else:
                report = rag.reindex(doc_id)
                note = f"“{title}” is unchanged" if report.unchanged else f"Re-indexed “{title}” from its changed file"
                if shown == doc_id and doc_id in {r["doc_id"] for r in rag.articles()}:
                    panel = render_article(rag.article(doc_id), opened="auto")
        except Exception as e:  # noqa: BLE001 - one line under the count
            if not isinstance(e, RagError):
                log.exception("%s of %s failed", action, doc_id)
            note = f"✗ {e}" if isinstance(e, RagError) else f"✗ could not {action.replace('reindex', 're-index')} it"
        return panel, list_articles(note)

    def article_list_click(evt: gr.EventData) -> tuple[str | dict, str | dict]:
        """A click in the article list (event data: doc_id, and action "remove" or "reindex" for a button,
        with shown, the doc_id in the Article panel); returns (Article panel, article list)."""
        data = getattr(evt, "_data", None) or {}
        action = data.get("action")
        if action in ("remove", "reindex"):
            return manage_article(str(data.get("doc_id") or ""), action, str(data.get("shown") or ""))
        return open_article(evt), gr.skip()

    def upload(files: list | None, progress: gr.Progress = gr.Progress(track_tqdm=True)) -> tuple[str, str, None]:
        """Indexes the uploads; returns (report, article list, None to empty the drop zone)."""
        return add_uploads(rag, files, progress), list_articles(), None

    def chips_for(since: str | None, until: str | None, as_of: str | None, source: str) -> str:
        return render_chips(since, until, as_of, source, undated(filter_values(since, until, as_of, source)))

    def clear() -> tuple:
        return [], [], render_sources([]), ARTICLE_EMPTY, "", {"chat": [], "turns": []}

    def restore(saved: dict | None) -> tuple:
        """The conversation kept in the browser's storage, back after a reload."""
        saved = saved if isinstance(saved, dict) else {}
        chat, turns_ = list(saved.get("chat") or []), list(saved.get("turns") or [])
        if not chat:
            return gr.skip(), gr.skip(), gr.skip()
        return chat, turns_, render_sources(turns_)

    def clear_filter(since_: str | None, until_: str | None, as_of_: str | None, source_: str,
                     evt: gr.EventData) -> tuple:
        """Clears the clicked chip's filter (event data: filter, a key or "all"); returns the filters and chips."""
        which = str((getattr(evt, "_data", None) or {}).get("filter") or "")
        values = {"since": since_, "until": until_, "as_of": as_of_, "source": source_}
        for k in values:
            if which in (k, "all"):
                values[k] = None if k != "source" else ""
        return (values["since"], values["until"], values["as_of"], values["source"],
                chips_for(values["since"], values["until"], values["as_of"], values["source"]))

    def regenerate(chat: list[dict], turns_: list[dict]) -> tuple:
        """Takes back the last question and its answer, and puts the question back to be asked again."""
        chat, turns_ = list(chat or []), list(turns_ or [])
        users = [i for i, m in enumerate(chat) if m.get("role") == "user"]
        if not users:
            return gr.skip(), gr.skip(), gr.skip(), gr.skip()
        last = users[-1]
        answered = any(m.get("role") == "assistant" and "answer-meta" in message_text(m.get("content"))
                       for m in chat[last:])
        if answered and turns_:
            question_ = turns_.pop()["question"]
        else:  # the chat holds the question as escaped Markdown: undo md_text
            question_ = html.unescape(re.sub(r"\\(.)", r"\1", message_text(chat[last].get("content"))))
        return question_, chat[:last], turns_, render_sources(turns_)

    def stopped(chat: list[dict]) -> list[dict] | dict:
        """After an answer's run ends: one that Stop cut short keeps what streamed, marked "■ stopped"; a
        finished one is left as it is."""
        chat = list(chat or [])
        content = message_text(chat[-1].get("content")) if chat and chat[-1].get("role") == "assistant" else ""
        if not content or "answer-meta" in content or "error-msg" in content:
            return gr.skip()
        content = content.removesuffix(" ▌").removesuffix("…")
        chat[-1] = {"role": "assistant", "content": content + '\n\n<span class="answer-meta stopped">■ stopped</span>'}
        return chat

    def ask(question: str) -> dict:
        """Answer a question about the indexed news articles. Returns the same JSON as `rag ask --json`."""
        try:
            return rag.ask(question).to_json()
        except RagError as e:
            raise gr.Error(str(e), print_exception=False) from None
        except Exception as e:  # noqa: BLE001
            log.exception("/ask failed")
            first = (str(e).strip().splitlines() or [""])[0][:300]
            raise gr.Error(f"unexpected error: {e.__class__.__name__}: {first}", print_exception=False) from None

    answerers = ["local", *(["local-llm"] if llm_installed() else []), *(["openai"] if can_llm else [])]
    answerer_info = ("local: extractive, instant" + (" · local-llm: the packaged Qwen2.5 1.5B, offline, seconds per "
                     "answer, under the instant one" if "local-llm" in answerers else "") + (" · openai: the LLM at RAG_LLM_BASE_URL"
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
                                file_types=list(SUPPORTED), type="filepath", elem_id="upload", height=110)
                upload_status = gr.Markdown(elem_id="upload-status")
            with gr.Accordion("Settings", open=False, elem_id="settings-accordion"):
                top_k = gr.Slider(1, 20, value=settings.retrieval.top_k, step=1, label="Passages per answer (top-k)", elem_id="top-k")
                selected = resolve(settings.answer.answerer)
                answerer = gr.Radio(answerers, value=selected if selected in answerers else "local",
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
        # Gradio runs an event's .then() once its cancellation is complete, so no streamed piece still in
        # flight can land after the "■ stopped" mark (as it could when Stop itself set the mark)
        for event in asks:
            event.then(stopped, chatbot, chatbot, api_visibility="private", queue=False)
        stop_btn.click(None, None, None, cancels=asks, api_visibility="private", queue=False)
        clear_btn.click(clear, None, [chatbot, turns, sources, article, question, saved], api_visibility="private",
                        queue=False)
        chatbot.clear(lambda: ([], render_sources([]), ARTICLE_EMPTY, {"chat": [], "turns": []}), None,
                      [turns, sources, article, saved], api_visibility="private", queue=False)
        for f in filters:
            f.change(chips_for, filters, chips, api_visibility="private", queue=False)
        chips.click(clear_filter, filters, [*filters, chips], api_visibility="private", queue=False)
        # every open is run, in order (Gradio's default "once" drops a click made while an earlier open is still
        # pending, so under load a new answer's source could lose to the previous turn's)
        opens = dict(api_visibility="private", trigger_mode="multiple", concurrency_limit=1, concurrency_id="article")
        sources.click(open_article, None, article, **opens)
        articles_html.click(article_list_click, None, [article, articles_html], **opens)
        files.upload(upload, files, [upload_status, articles_html, files], api_visibility="private",
                     concurrency_limit=1, concurrency_id="index")
        demo.load(list_articles, None, articles_html, api_visibility="private", queue=False)
        demo.load(restore, saved, [chatbot, turns, sources], api_visibility="private", queue=False)
        gr.api(ask, api_name="ask")
    demo.queue(default_concurrency_limit=settings.ui.ui_concurrency, max_size=QUEUE_MAX_SIZE)
    return demo


def serve(rag: RAG | None = None, host: str | None = None, port: int | None = None, seed: bool = True) -> int:
    """Start the web UI over `rag` (default: the settings' RAG; its answerer setting is the one selected when a
    page opens); blocks until interrupted. Seeds a fresh index first unless `seed` is False (an index folder the
    user named is theirs: empty, it waits for uploads), and asks one question so the first visitor waits for
    no model."""
    offline_environment()
    rag = rag or RAG()
    report = rag.ensure_index() if seed else None
    if report:
        print(f"first run: indexed {report.seen} seed articles from {rag.settings.paths.seeds_dir}", flush=True)
    try:
        rag.ask(EXAMPLES[0])
    except Exception as e:  # noqa: BLE001 - an empty index, say; questions will then report it
        log.warning("warm-up question failed: %s", e)
    demo = build_demo(rag)
    settings = rag.settings
    host = host or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1"
    port = int(port or os.environ.get("GRADIO_SERVER_PORT") or 7860)
    auth = (settings.ui.ui_user, settings.ui.ui_password) if settings.ui.ui_user and settings.ui.ui_password else None
    demo.launch(server_name=host, server_port=port, share=False, auth=auth, show_error=False,
                max_file_size=int(settings.ui.upload_max_mb * 1024 * 1024), css=CSS, js=GLOBAL_JS, footer_links=["api"],
                ssr_mode=False, mcp_server=False, enable_monitoring=False)
    return 0
