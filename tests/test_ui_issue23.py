"""Issue #23, a chat a reader trusts at a glance: each numbered item checked in a real headless Chromium
against the real app, in light and dark themes and at 390 px (a phone) where it applies. Screenshots go
to $RAG_UI_SCREENSHOTS (default /tmp/rag-ui-screenshots/after)."""
from __future__ import annotations

import pytest

from ui_helpers import (CONTRAST_JS, DONE, ask_in, browser_fixtures, in_viewport, open_page,
                        set_date, shot)

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import TimeoutError as PlaywrightTimeout  # noqa: E402

pytestmark = pytest.mark.slow

TRUCE = "When does the tariff truce expire?"
AA = 4.5  # WCAG AA for normal text


server, browser = browser_fixtures("ui_issue23")


@pytest.fixture
def opened(browser, server):
    """opened(width=, height=, scheme=) -> page; every context is closed and checked for JavaScript errors."""
    made = []

    def make(**kw):
        ctx, pg, errors = open_page(browser, server.url, **kw)
        made.append((ctx, errors))
        return pg

    yield make
    for ctx, errors in made:
        ctx.close()
        assert not errors, f"JavaScript errors on the page: {errors}"


def contrast(pg, selector: str) -> dict:
    el = pg.locator(selector).first
    el.wait_for(state="attached")
    return el.evaluate(CONTRAST_JS)


# ------------------------------------------------------------------------------ 2. colours in both themes

@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_2_evidence_meets_aa_contrast_in_both_themes(opened, scheme):
    pg = opened(scheme=scheme)
    assert pg.evaluate("document.body.classList.contains('dark')") == (scheme == "dark")
    text = ask_in(pg, TRUCE)
    assert "August 12" in text
    pg.wait_for_selector("#article mark.article-quote")  # the newest answer's source opens by itself
    set_date(pg, "until", "2025-12-31")
    pg.wait_for_selector("#filter-chips .chip")
    checked = {}
    for sel in ["#sources .src-card mark", "#article mark.article-quote", "#chat a.cite", "#sources .src-n",
                "#sources .src-meta", "#sources .src-actions", "#chat .answer-meta", "#chat .copy-answer",
                "#article .article-meta", "#filter-chips .chip", "#filter-chips .undated-note"]:
        got = contrast(pg, sel)
        checked[sel] = round(got["ratio"], 2)
        assert got["opaque"], f"{sel}: no opaque background found ({got})"
        assert got["ratio"] >= AA, f"{scheme}: {sel} has contrast {got['ratio']:.2f} ({got['fg']} on {got['bg']})"
    # the highlighted quote is not near-white on pale yellow in the dark theme (the bug): dark text or dark ground
    mark = contrast(pg, "#sources .src-card mark")
    assert mark["ratio"] >= 7, mark
    print(scheme, checked)
    shot(pg, f"2-{scheme}-1440")


# ------------------------------------------------------------------------------ 3. a phone

@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_3_phone_sidebar_closed_and_sources_under_the_answer(opened, scheme):
    pg = opened(width=390, height=844, scheme=scheme)
    pg.wait_for_selector(".sidebar:not(.open)")
    pg.wait_for_function("""() => { const s = document.querySelector('.sidebar');
        return s.getBoundingClientRect().right <= 0; }""")  # slid fully out
    shot(pg, f"3-phone-{scheme}-load")
    # the question box is what is under its own centre: nothing covers it
    assert pg.evaluate("""() => { const t = document.querySelector('#question textarea'), r = t.getBoundingClientRect();
        return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === t; }""")
    ask_in(pg, TRUCE)
    card = pg.locator("#sources .src-card").first
    card.wait_for()
    chat, src, q = (pg.locator(s).first.bounding_box() for s in ("#chat", "#sources", "#question"))
    assert chat["y"] + chat["height"] <= src["y"] + 1, "sources are not under the answer"
    assert src["y"] + src["height"] <= q["y"] + 1, "sources come after the question box"
    # the closed sidebar's toggle covers no card, no answer, no question
    toggle = pg.locator(".sidebar .toggle-button").bounding_box()
    for sel in ("#chat", "#sources .src-card", "#question"):
        b = pg.locator(sel).first.bounding_box()
        overlap = not (toggle["x"] + toggle["width"] <= b["x"] or b["x"] + b["width"] <= toggle["x"]
                       or toggle["y"] + toggle["height"] <= b["y"] or b["y"] + b["height"] <= toggle["y"])
        assert not overlap, f"the sidebar toggle overlaps {sel}"
    pg.evaluate("window.scrollTo(0, 0)")
    shot(pg, f"3-phone-{scheme}-answer", full_page=True)
    # opened, the sidebar's close toggle is wholly on screen
    pg.locator(".sidebar .toggle-button").click()
    pg.wait_for_selector(".sidebar.open")
    pg.wait_for_function("() => document.querySelector('.sidebar').getBoundingClientRect().left >= -1")
    assert in_viewport(pg, ".sidebar .toggle-button")
    shot(pg, f"3-phone-{scheme}-sidebar")


# ------------------------------------------------------------------------------ 4. filters in sight

def test_4_filters_show_as_chips_and_say_what_they_left_out(opened):
    pg = opened()
    assert pg.locator("#filter-chips .chip").count() == 0
    set_date(pg, "since", "2025-07-01")
    chip = pg.locator("#filter-chips .chip[data-filter=since]")
    chip.wait_for()
    assert "Published since: 2025-07-01" in chip.inner_text()
    note = pg.locator("#filter-chips .undated-note")
    assert note.inner_text().strip() == "4 undated articles were left out by the date filter"
    text = ask_in(pg, TRUCE)
    assert "4 undated articles were left out by the date filter" in text
    shot(pg, "4-filter-chips-light-1440")
    # one click clears it: the chip goes, and so does the date in the box
    chip.click()
    pg.wait_for_function("document.querySelectorAll('#filter-chips .chip').length === 0")
    assert pg.locator("#since input").first.input_value() == ""
    text = ask_in(pg, TRUCE)
    assert "August 12" in text and "left out" not in text


def test_4_chips_above_the_chat_on_a_phone(opened):
    pg = opened(width=390, height=844, scheme="dark")
    pg.wait_for_selector(".sidebar:not(.open)")
    pg.locator(".sidebar .toggle-button").click()
    pg.wait_for_selector(".sidebar.open")
    set_date(pg, "as-of", "2025-07-30")
    set_date(pg, "since", "2025-07-01")
    pg.wait_for_selector("#filter-chips .chip-all")
    pg.locator(".sidebar .toggle-button").click()
    pg.wait_for_selector(".sidebar:not(.open)")
    chips, chat = pg.locator("#filter-chips .chips").bounding_box(), pg.locator("#chat").bounding_box()
    assert chips["y"] + chips["height"] <= chat["y"] + 1
    assert chips["x"] >= 0 and chips["x"] + chips["width"] <= 390
    shot(pg, "4-filter-chips-phone-dark")
    pg.locator("#filter-chips .chip-all").click()
    pg.wait_for_function("document.querySelectorAll('#filter-chips .chip').length === 0")
    assert pg.locator("#as-of input").first.input_value() == ""


# ------------------------------------------------------------------------------ 5. "reported", once

def test_5_article_date_reads_reported_and_is_said_once(opened):
    pg = opened()
    set_date(pg, "as-of", "2025-07-30")
    pg.wait_for_selector("#filter-chips .chip[data-filter=as_of]")
    text = ask_in(pg, TRUCE)
    assert "could not find" not in text, text
    assert "reported 2025-07-23" in text and "as of" not in text, text
    assert text.count("2025-07-23") == 1, text
    meta = pg.locator("#sources .src-card .src-meta").first.inner_text()
    assert meta.startswith("reported 2025-07-23"), meta
    shot(pg, "5-reported-light-1440")


# ------------------------------------------------------------------------------ 6. one click to the evidence

def test_6_citation_opens_its_article_and_the_panel_follows_the_turn(opened):
    pg = opened(width=1440, height=900)
    ask_in(pg, TRUCE)
    first_doc = pg.locator("#src-1-1").get_attribute("data-doc")
    ask_in(pg, "Who led the US officials at the Stockholm talks?")
    pg.wait_for_selector("#src-2-1")
    second_doc = pg.locator("#src-2-1").get_attribute("data-doc")
    # the Article panel shows the newest answer's source, not an earlier turn's article
    pg.wait_for_function("d => document.querySelector('#article .article-view')?.dataset.doc === d", arg=second_doc)
    # both answers quote one article, so the panel is the second turn's only once its quote is marked (under load
    # that render lands late, and had replaced the body cleared below)
    pg.wait_for_function("document.querySelector('#article mark.article-quote')?.innerText.includes('Bessent')")
    # one click on the first answer's [1] opens its article at its quote, and the question box stays in view
    pg.evaluate("document.querySelector('#article .article-body').innerHTML = ''")  # so the re-render is seen
    pg.locator("#chat a.cite[href='#src-1-1']").first.click()
    pg.wait_for_function("document.getElementById('src-1-1').classList.contains('flash')")
    pg.wait_for_function("d => document.querySelector('#article .article-view')?.dataset.doc === d"
                         " && !!document.querySelector('#article mark.article-quote')", arg=first_doc)
    assert "set to expire on August 12" in pg.locator("#article mark.article-quote").inner_text()
    assert in_viewport(pg, "#question textarea"), "opening the article scrolled the question box away"
    assert in_viewport(pg, "#article mark.article-quote"), "the quote is not in view"
    shot(pg, "6-citation-opens-article-light-1440")


# the chat's own scrolling box, moved to its top or bottom as a reader's wheel would
SCROLL_CHAT_JS = """(to) => {
  const box = [...document.querySelectorAll('#chat *')].find((el) =>
    /(auto|scroll)/.test(getComputedStyle(el).overflowY) && el.scrollHeight > el.clientHeight);
  if (!box) return false;
  box.scrollTop = to === 'top' ? 0 : box.scrollHeight;
  return true;
}"""
PANEL_SHOWS_JS = """([doc, opened]) => { const v = document.querySelector('#article .article-view');
  return !!v && v.dataset.doc === doc && v.dataset.opened === opened && !!v.querySelector('mark.article-quote'); }"""


def test_6_the_article_panel_follows_the_turn_in_view(opened):
    pg = opened(width=1440, height=900)
    for q in (TRUCE, "How many tons of soybeans did Bessent say China is ready to buy?",
              "What tariff rate did Trump threaten if rare-earth magnet exports are restricted?"):
        ask_in(pg, q)
    first, last = (pg.locator(f"#turn-{t} .src-card").first.get_attribute("data-doc") for t in (1, 3))
    assert first != last
    pg.wait_for_function(PANEL_SHOWS_JS, arg=[last, "auto"])
    pg.wait_for_timeout(1000)  # Gradio scrolls a new answer to the bottom 300 ms after it lands
    # scrolled back to the first answer, the panel shows its source at its quote, and the page stays put
    assert pg.evaluate(SCROLL_CHAT_JS, "top"), "three answers should overflow the chat box"
    pg.wait_for_function(PANEL_SHOWS_JS, arg=[first, "auto"])
    assert "set to expire on August 12" in pg.locator("#article mark.article-quote").inner_text()
    assert in_viewport(pg, "#question textarea")
    shot(pg, "6-panel-follows-the-turn-in-view-light-1440")
    pg.evaluate(SCROLL_CHAT_JS, "bottom")
    pg.wait_for_function(PANEL_SHOWS_JS, arg=[last, "auto"])


def test_6_a_new_answer_opens_its_own_source_without_a_scroll(opened):
    # the chat's scroll events are held back, so only the new answer's own open can move the panel (the Sources
    # panel lists turns newest first, and this opened the oldest turn's source before; a scroll hid it)
    pg = opened(width=1440, height=900)
    pg.evaluate("""() => window.addEventListener('scroll', (e) => {
        if (e.target.closest && e.target.closest('#chat')) e.stopImmediatePropagation(); }, true)""")
    ask_in(pg, TRUCE)
    ask_in(pg, "Who led the US officials at the Stockholm talks?")
    card = pg.locator("#src-2-1")
    want = [card.get_attribute("data-doc"), card.get_attribute("data-start"), "auto"]
    shown = "() => { const v = document.querySelector('#article .article-view'); " \
            "return v && [v.dataset.doc, v.dataset.start, v.dataset.opened]; }"
    try:
        pg.wait_for_function(f"want => JSON.stringify(({shown})()) === JSON.stringify(want)", arg=want)
    except PlaywrightTimeout:
        pytest.fail(f"the Article panel shows {pg.evaluate(shown)}, not the new answer's source {want}")
    assert "Bessent" in pg.locator("#article mark.article-quote").inner_text()


# ------------------------------------------------------------------------------ 7. small things

def test_7_ask_disabled_empty_counter_dates_answerer_buttons(opened):
    pg = opened()
    ask_btn = pg.locator("#ask")
    pg.wait_for_function("document.getElementById('ask').disabled")
    pg.locator("#question textarea").press("Enter")  # Enter on an empty box adds nothing to the conversation
    pg.fill("#question textarea", "x" * 2001)
    counter = pg.locator("#q-counter")
    pg.wait_for_function("document.querySelector('#q-counter').innerText.includes('over the limit')")
    assert "2,001 / 2,000 characters" in counter.inner_text()
    assert ask_btn.is_disabled()
    assert "RAG_" not in pg.locator("body").inner_text()
    shot(pg, "7-long-question-light-1440")
    pg.fill("#question textarea", "")
    pg.wait_for_function("document.getElementById('ask').disabled")
    ask_in(pg, TRUCE)
    assert pg.locator("#chat [data-testid=user]").count() == 1  # the empty Enter left no bubble
    assert pg.locator("#chat .error-msg").count() == 0
    # dates are pickers with inline validation
    assert pg.locator("#since button").count() >= 1  # the calendar
    set_date(pg, "since", "last week")
    pg.wait_for_selector("#since input.invalid")  # marked on the spot, and never applied as a filter
    assert pg.locator("#filter-chips .chip").count() == 0
    shot(pg, "7-invalid-date-light-1440")
    text = ask_in(pg, TRUCE)
    assert "August 12" in text and "Error" not in text
    # no LLM is configured: "openai" is not offered
    pg.locator("#settings-accordion").get_by_text("Settings").first.click()
    pg.locator("#answerer").get_by_label("local", exact=True).wait_for()
    assert pg.locator("#answerer").get_by_label("openai", exact=True).count() == 0
    # "New chat" fits on one line; the upload box has no label over its icon
    box = pg.locator("#clear").bounding_box()
    line = pg.locator("#clear").evaluate("b => parseFloat(getComputedStyle(b).lineHeight) || 20")
    assert box["height"] < 2 * line + 16, box
    assert pg.locator("#upload [data-testid=block-label]:visible").count() == 0


def test_7_rejected_upload_leaves_no_error_in_the_drop_zone(opened, tmp_path):
    pg = opened()
    bad = tmp_path / "notes.txt"
    bad.write_bytes(b"\x00\x01 not text")
    pg.set_input_files("#upload input[type=file]", [str(bad)])
    pg.wait_for_function("document.querySelector('#upload-status').innerText.includes('notes.txt')", timeout=120_000)
    assert "✗ notes.txt: not a text file" in pg.locator("#upload-status").inner_text()
    pg.wait_for_function("!document.querySelector('#upload .file-preview, #upload .error')")
    assert pg.locator("#upload input[type=file]").count() == 1  # the drop zone is back, ready for the next file


# ------------------------------------------------------------------------------ 1. follow-ups

def test_1_rewritten_follow_up_says_what_was_searched(opened):
    pg = opened()
    first = ask_in(pg, TRUCE)
    assert "Searched for" not in first
    # a short question that does not point back is asked as it is
    alone = ask_in(pg, "Who led the US side?")
    assert "Searched for" not in alone and "Reports differ" not in alone.splitlines()[0], alone
    assert "Bessent" in alone.splitlines()[0], alone
    second = ask_in(pg, "And who led the Chinese side?")
    assert "He Lifeng" in second.splitlines()[0], second
    searched = pg.locator("#chat .searched-for").last.inner_text()
    assert searched.startswith("Searched for: Who led the Chinese side?"), searched
    shot(pg, "1-searched-for-light-1440")


def _upload_people(pg, tmp_path):
    (tmp_path / "elmstad.txt").write_text(
        "date 2025-09-03\nJonas Berg wins Elmstad mayoral election\nJonas Berg won the mayoral election in Elmstad "
        "on Sunday with 54 percent of the vote. His rival, Clara Holm of the Green List, took 46 percent and "
        "conceded on Sunday night.\n", encoding="utf-8")
    (tmp_path / "orbis.txt").write_text(
        "date 2025-09-04\nOrbis names Maria Lind chief executive\nOrbis said on Thursday that Maria Lind is its "
        "new chief executive, appointed in March 2025. Lind joined the company in 2019 as head of logistics.\n",
        encoding="utf-8")
    pg.set_input_files("#upload input[type=file]", [str(tmp_path / "elmstad.txt"), str(tmp_path / "orbis.txt")])
    pg.wait_for_function("document.querySelector('#upload-status').innerText.includes('✓ orbis.txt')",
                         timeout=120_000)


def test_1_pronoun_is_resolved_to_the_person_the_last_answer_named(opened, tmp_path):
    pg = opened()
    _upload_people(pg, tmp_path)
    assert "Jonas Berg" in ask_in(pg, "Who won the mayoral election in Elmstad?").splitlines()[0]
    ask_in(pg, "And who was his rival?")
    assert pg.locator("#chat .searched-for").last.inner_text() == "Searched for: Who was Jonas Berg’s rival?"
    assert "Maria Lind" in ask_in(pg, "Who is the chief executive of Orbis?").splitlines()[0]
    ask_in(pg, "When did she join the company?")
    assert pg.locator("#chat .searched-for").last.inner_text() == "Searched for: When did Maria Lind join the company?"
    shot(pg, "1-pronoun-resolved-light-1440")


def test_1_resolved_follow_ups_are_answered(opened, tmp_path):
    pg = opened()
    _upload_people(pg, tmp_path)
    ask_in(pg, "Who won the mayoral election in Elmstad?")
    rival = ask_in(pg, "And who was his rival?")
    ask_in(pg, "Who is the chief executive of Orbis?")
    joined = ask_in(pg, "When did she join the company?")
    assert "Clara Holm" in rival.splitlines()[0], rival
    assert "2019" in joined.splitlines()[0], joined


# ------------------------------------------------------------------------------ 8. what chat users expect

def test_8_copy_regenerate_reload_and_article_search(opened):
    pg = opened()
    ask_in(pg, TRUCE)
    pg.locator("#chat .copy-answer").last.click()
    pg.wait_for_function("!!(window.__rag && window.__rag.copied)")
    copied = pg.evaluate("window.__rag.copied")
    assert copied.startswith("August 12 [1]") and "Sources:" in copied and "Guo Jiakun" in copied, copied
    assert "Copy" not in copied and "answered by" not in copied
    # regenerate: the last answer is asked again, in place
    before = pg.locator(DONE).count()
    # Mid-regeneration the turn is removed and re-added, then streamed: the settled state looks like the state
    # before the click, so an observer records that the regeneration began (the turn gone or a cursor shown)
    # and only then is the settled state awaited.
    pg.evaluate("""() => {
        window.__regenerating = false;
        const chat = document.querySelector('#chat');
        new MutationObserver(() => {
            const bot = chat.querySelector('[data-testid=bot]:last-child');
            if (!chat.querySelector('[data-testid=user]') || (bot && bot.innerText.includes('▌')))
                window.__regenerating = true;
        }).observe(chat, {childList: true, subtree: true, characterData: true});
    }""")
    pg.locator("#regenerate").click()
    pg.wait_for_function(f"window.__regenerating && document.querySelectorAll('{DONE}').length >= {before}"
                         " && document.querySelectorAll('#chat [data-testid=user]').length === 1"
                         " && !!document.querySelector('#chat .answer-meta')"
                         " && !document.querySelector('#chat [data-testid=bot]:last-child')?.innerText.includes('▌')")
    assert pg.locator("#chat [data-testid=user]").count() == 1
    assert "August 12" in pg.locator("#chat [data-testid=bot]").last.inner_text()
    # the conversation survives a reload (browser storage)
    pg.reload()
    pg.wait_for_selector("#chat .answer-meta")
    assert TRUCE in pg.locator("#chat").inner_text()
    pg.wait_for_selector("#sources .src-card")
    # the article list can be searched
    pg.locator("#articles .art-search").fill("tmtpost")
    pg.wait_for_function("document.querySelector('#articles .art-shown').innerText === '1 shown'")
    visible = pg.locator("#articles .art-item:visible")
    assert visible.count() == 1 and "TMTPOST" in visible.inner_text()
    shot(pg, "8-reload-and-search-light-1440")
    # New chat clears the kept conversation too
    pg.locator("#clear").click()
    pg.wait_for_function("!document.querySelector('#chat .answer-meta')")
    pg.reload()
    pg.wait_for_selector("#articles .art-count")
    assert pg.locator("#chat .answer-meta").count() == 0


def test_8_reindex_a_changed_article_and_remove_one_from_the_list(opened, server, tmp_path):
    pg = opened()
    question = "Who is the harbour master of Vellby?"
    title = "Port of Vellby names a harbour master"
    src = tmp_path / "vellby.txt"
    src.write_text(f"date 2025-09-10\n{title}\nThe port of Vellby named Ines Moreau its harbour master on "
                   "Tuesday.\n", encoding="utf-8")
    pg.set_input_files("#upload input[type=file]", [str(src)])
    pg.wait_for_function("document.querySelector('#upload-status').innerText.includes('✓ vellby.txt')",
                         timeout=120_000)
    assert "Ines Moreau" in ask_in(pg, question).splitlines()[0]
    item = pg.locator("#articles .art-item", has_text=title)
    note = pg.locator("#articles .art-note")
    # the answer's source opens by itself; once it shows (as a reader sees it), its file changes on disk: ↻ reads
    # it again, and the open article shows the new text
    pg.wait_for_function("document.querySelector('#article .article-body')?.innerText.includes('Ines Moreau')")
    copy = server.index_dir / "uploads" / "vellby.txt"
    copy.write_text(f"date 2025-09-10\n{title}\nThe port of Vellby named Tomas Eklund its harbour master on "
                    "Tuesday.\n", encoding="utf-8")
    item.locator("[data-act=reindex]").click()
    note.wait_for()
    assert note.inner_text() == f"Re-indexed “{title}” from its changed file"
    pg.wait_for_function("document.querySelector('#article .article-body')?.innerText.includes('Tomas Eklund')")
    assert "Tomas Eklund" in ask_in(pg, question).splitlines()[0]
    shot(pg, "8-reindexed-light-1440")
    # ✕ asks first; then the article leaves the list, the index, the Article panel and the uploads folder
    count = int(pg.locator("#articles .art-count b").inner_text().replace(",", ""))
    remove = item.locator("[data-act=remove]")
    remove.click()
    assert remove.inner_text() == "Remove?"
    shot(pg, "8-remove-asks-first-light-1440")
    remove.click()
    pg.wait_for_function("document.querySelector('#articles .art-note')?.innerText.startsWith('Removed')")
    assert note.inner_text() == f"Removed “{title}”"
    assert int(pg.locator("#articles .art-count b").inner_text().replace(",", "")) == count - 1
    assert pg.locator("#articles .art-item", has_text=title).count() == 0
    assert pg.locator("#article .article-view").count() == 0 and not copy.exists()
    after = ask_in(pg, question)
    assert "Tomas Eklund" not in after and "Ines Moreau" not in after, after
    shot(pg, "8-removed-light-1440")
