"""The chat UI in a real (headless) Chromium against the real app: answers, citations, articles, uploads, follow-ups."""
from __future__ import annotations

import pytest

from ui_helpers import browser_fixtures, shot

pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow

ANSWER_TIMEOUT_MS = 120_000


server, browser = browser_fixtures("ui_browser")


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1440, "height": 960})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(server.url)
    pg.wait_for_selector("#question textarea")
    pg.wait_for_selector("#articles .art-count")
    yield pg
    context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def ask(pg, question: str) -> str:
    """Types a question, submits it, waits for its finished answer (or error) and returns the answer's text."""
    done = pg.locator("#chat .answer-meta, #chat .error-msg")
    before = done.count()
    pg.fill("#question textarea", question)
    pg.click("#ask")
    pg.wait_for_function(
        "n => document.querySelectorAll('#chat .answer-meta, #chat .error-msg').length > n", arg=before,
        timeout=ANSWER_TIMEOUT_MS)
    return pg.locator("#chat [data-testid=bot]").last.inner_text()


def test_answer_with_source_card_and_article(page):
    text = ask(page, "When does the tariff truce expire?")
    assert "August 12" in text
    assert "Error" not in text
    assert "answered by local" in text

    card = page.locator("#sources .src-card", has_text="set to expire on August 12")
    card.first.wait_for()
    assert "set to expire on August 12" in card.first.locator("mark").inner_text()
    assert card.first.locator(".src-meta").inner_text().startswith("undated")

    # the [1] marker in the answer highlights source card 1 (and opens its article, tests/test_ui_issue23.py)
    marker = page.locator("#chat a.cite").first
    assert marker.inner_text() == "[1]"
    marker.click()
    page.wait_for_function("document.getElementById('src-1-1').classList.contains('flash')")

    # clicking the card opens the whole article with the quote highlighted and scrolled into view
    card.first.click()
    quote = page.locator("#article mark.article-quote")
    quote.wait_for(timeout=30_000)
    assert "set to expire on August 12" in quote.inner_text()
    body = page.locator("#article .article-body").inner_text()
    assert "Guo Jiakun" in body and len(body) > 5 * len(quote.inner_text())
    page.wait_for_timeout(300)
    quote.scroll_into_view_if_needed()
    box, view = quote.bounding_box(), page.viewport_size
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= view["height"], "the quote is not in view"
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(200)
    shot(page, "0-local-answer-with-its-article-light-1440")


def test_example_question_is_one_click_away(page):
    page.get_by_role("button", name="When does the tariff truce expire?").click()
    page.wait_for_selector("#chat .answer-meta", timeout=ANSWER_TIMEOUT_MS)
    assert "August 12" in page.locator("#chat [data-testid=bot]").last.inner_text()
    assert page.locator("#sources .src-card").count() >= 1


def test_upload_then_ask(page, tmp_path):
    article = tmp_path / "zephyr.txt"
    article.write_text("date 2025-09-01\nZephyr Corp names new CEO\nZephyr Corp said on Monday that Maria Quintero "
                       "will become its chief executive on October 1.\n", encoding="utf-8")
    rejected = tmp_path / "notes.txt"
    rejected.write_bytes(b"\x00\x01\x02 not text")
    count_before = int(page.locator("#articles .art-count b").inner_text().replace(",", ""))

    page.set_input_files("#upload input[type=file]", [str(article), str(rejected)])
    # the final status, not a progress line ("Checking notes.txt - 50.0%") that names the file too
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes('✗ notes.txt')",
                           timeout=ANSWER_TIMEOUT_MS)
    status = page.locator("#upload-status").inner_text()
    assert "✓ zephyr.txt: 1 article added" in status
    assert "✗ notes.txt: not a text file" in status
    page.wait_for_function(f"document.querySelector('#articles .art-count b').innerText == '{count_before + 1}'")
    assert "Zephyr Corp names new CEO" in page.locator("#articles").inner_text()

    text = ask(page, "Who will become Zephyr Corp's chief executive?")
    assert "Maria Quintero" in text
    assert page.locator("#sources .src-card", has_text="zephyr.txt").count() >= 1


def test_article_text_is_escaped(page, tmp_path):
    hostile = tmp_path / "hostile.txt"
    hostile.write_text('date 2025-09-02\nHostile <img src=x onerror="window.__pwned=1"> headline\n'
                       "The <b>bold</b> claim {{value}} ${value} is written here.\n", encoding="utf-8")
    page.set_input_files("#upload input[type=file]", [str(hostile)])
    page.wait_for_function("document.querySelector('#upload-status').innerText.includes('✓ hostile.txt')",
                           timeout=ANSWER_TIMEOUT_MS)
    page.locator("#articles .art-item", has_text="Hostile").first.click()
    page.wait_for_selector("#article .article-view")
    shown = page.locator("#article").inner_text()
    assert '<img src=x onerror="window.__pwned=1">' in shown
    assert "<b>bold</b> claim {{value}} ${value}" in shown
    text = ask(page, "What bold claim is written here?")
    assert "<b>bold</b>" in text
    assert page.evaluate("window.__pwned") is None


def test_follow_up_question(page):
    first = ask(page, "Who led the US officials at the Stockholm talks?")
    assert "Scott Bessent" in first
    second = ask(page, "And who led the Chinese side?")
    assert "Error" not in second
    short = second.splitlines()[0]  # the answer itself; the quoted evidence below it names both leaders
    assert "He Lifeng" in short and "Scott Bessent" not in short


def set_date(page, elem_id: str, value: str):
    """Types a date into a date filter (a gr.DateTime) and submits it as a reader does, with Enter."""
    box = page.locator(f"#{elem_id} input").first
    box.fill(value)
    box.press("Enter")


def test_errors_are_one_line_in_the_chat(page):
    ask(page, "When does the tariff truce expire?")
    # Ask is disabled over the length limit; Enter still sends, and the error is one line
    page.fill("#question textarea", "x" * 2001)
    page.locator("#question textarea").press("Enter")
    page.wait_for_selector("#chat .error-msg", timeout=ANSWER_TIMEOUT_MS)
    text = page.locator("#chat [data-testid=bot]").last.inner_text()
    assert "Error: the question is 2,001 characters; the limit is 2,000" in text
    assert len(text.strip().splitlines()) == 1
    assert "Traceback" not in page.locator("#chat").inner_text()


def test_asked_as_of_a_date(page):
    """Only articles published by that day answer: none by 2025-07-01, the 2025-07-23 one a week later."""
    set_date(page, "as-of", "2025-07-01")
    page.wait_for_selector("#filter-chips .chip[data-filter=as_of]")
    assert "could not find this" in ask(page, "When does the tariff truce expire?")
    set_date(page, "as-of", "2025-07-30")
    page.wait_for_selector("#filter-chips .chip[data-filter=as_of]:has-text('2025-07-30')")
    text = ask(page, "When does the tariff truce expire?")
    assert "reported 2025-07-23" in text and "Error" not in text, text
    assert "could not find" not in text, text


def test_answerer_setting_without_an_llm(page):
    """No LLM is configured for the test server: "openai" is not offered, and a one-line hint says how to get it."""
    page.locator("#settings-accordion").get_by_text("Settings").first.click()
    radio = page.locator("#answerer")
    radio.get_by_label("local", exact=True).wait_for()
    assert radio.get_by_label("openai", exact=True).count() == 0
    assert "offered once RAG_LLM_BASE_URL or OPENAI_API_KEY is set" in radio.inner_text()
    assert "August 12" in ask(page, "When does the tariff truce expire?")
