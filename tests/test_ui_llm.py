"""The chat with an LLM answerer (issue #23), in headless Chromium against the real app, whose "openai" answerer
talks to the scriptable fake OpenAI server of tests/fake_openai.py: markers keep their numbers from the streamed
text to the verified answer, and Stop ends a streaming answer. Screenshots as in tests/test_ui_issue23.py."""
from __future__ import annotations

import re
import time

import pytest

from fake_openai import FakeOpenAI
from rag.text import sentence_spans
from ui_helpers import DONE, AppServer, ask_in, chromium_browser, open_page, require_chromium, shot

pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow

TRUCE = "When does the tariff truce expire?"
# the text of the bubble being streamed (it ends with the cursor "▌"), once it holds `pattern`
STREAMING_JS = """(pattern) => { const b = [...document.querySelectorAll('#chat [data-testid=bot]')].pop();
  return !!b && b.innerText.includes('▌') && new RegExp(pattern).test(b.innerText) ? b.innerText : false; }"""


def passages(body: dict) -> dict[int, str]:
    """The numbered passages of the prompt the app sent: n -> text."""
    user = body["messages"][-1]["content"].split("\n\nQuestion:", 1)[0].removeprefix("Passages:\n\n")
    return {int(b[1:b.index("]")]): b.split("\n", 1)[1] for b in re.split(r"\n\n(?=\[\d+\] )", user)}


@pytest.fixture(scope="module")
def fake():
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def server(tmp_path_factory, fake):
    require_chromium()
    app = AppServer(tmp_path_factory.mktemp("ui_llm"), env={"RAG_LLM_BASE_URL": fake.url, "RAG_ANSWERER": "openai",
                                                              "RAG_LLM_RETRIES": "0"}).start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def browser(server):
    with chromium_browser() as b:
        yield b


@pytest.fixture
def page(browser, server, fake):
    fake.reset()
    ctx, pg, errors = open_page(browser, server.url)
    yield pg
    ctx.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


def test_markers_keep_their_numbers_from_stream_to_answer(page, fake):
    """The model cites its last passage, then the truce passage ("[5] … [1]"): the chat shows them as [1] and
    [2] while they stream, and the verified answer keeps [1] and [2]."""

    def reply(body):
        found = passages(body)
        truce = next(n for n, text in found.items() if "set to expire on August 12" in text)
        other = max(n for n in found if n != truce)
        text = found[other]
        first = text[slice(*sentence_spans(text)[0])]
        return {"text": f"{first} [{other}] The tariff truce expires on August 12 [{truce}] .", "token_sleep": 0.15}

    fake.default = reply
    page.fill("#question textarea", TRUCE)
    page.click("#ask")
    streamed = page.wait_for_function(STREAMING_JS, arg=r"August 12 \[\d+\]", timeout=120_000).json_value()
    page.wait_for_selector(DONE)
    final = page.locator("#chat [data-testid=bot]").last.inner_text()
    line = final.splitlines()[0]
    assert re.findall(r"\[\d+\]", streamed.split("▌")[0]) == ["[1]", "[2]"], streamed
    assert re.findall(r"\[\d+\]", line) == ["[1]", "[2]"] and line.endswith("August 12 [2]."), final
    assert "answered by openai" in final
    assert [page.locator(f"#src-1-{n}").count() for n in (1, 2)] == [1, 1]
    shot(page, "7-llm-markers-keep-their-numbers-light-1440")


def test_stop_ends_a_streaming_answer(page, fake):
    fake.default = {"text": "The tariff truce expires on August 12 [1]. " + "Officials kept talking about it. " * 40,
                    "token_sleep": 0.2}
    page.fill("#question textarea", TRUCE)
    page.click("#ask")
    page.wait_for_function(STREAMING_JS, arg="August 12", timeout=120_000)
    page.click("#stop")
    bubble = page.locator("#chat [data-testid=bot]").last
    page.wait_for_selector("#chat .answer-meta.stopped")
    stopped = bubble.inner_text()
    assert "■ stopped" in stopped and "▌" not in stopped and "August 12" in stopped
    time.sleep(1.5)  # the model is still sending: nothing more reaches the chat
    assert bubble.inner_text() == stopped
    assert page.locator("#sources .src-card").count() == 0  # a stopped answer is no turn with sources
    shot(page, "8-stopped-light-1440")
    # the next question is answered as usual
    fake.default = "The tariff truce expires on August 12 [1]."
    again = ask_in(page, TRUCE)
    assert "August 12 [1]" in again.splitlines()[0], again
    assert page.locator("#chat [data-testid=user]").count() == 2


def test_the_model_condenses_a_follow_up_and_the_chat_shows_it(page, fake):
    """Item 1 with an LLM answerer: the follow-up is rewritten by the model from the conversation (its own
    request, before the answer's), searched as rewritten, and shown under the answer as "Searched for"."""
    rewrite = "Who led the Chinese side in the tariff truce talks?"

    def reply(body):
        if body["messages"][0]["content"].startswith("You rewrite the follow-up question"):
            return rewrite
        found = passages(body)
        if "Question: " + rewrite in body["messages"][-1]["content"]:
            n = next((n for n, text in found.items() if "He Lifeng" in text), None)
            return f"Chinese Vice Premier He Lifeng led the Chinese side [{n}]." if n else "I cannot answer."
        truce = next(n for n, text in found.items() if "set to expire on August 12" in text)
        return f"The tariff truce expires on August 12 [{truce}]."

    fake.default = reply
    first = ask_in(page, TRUCE)
    assert "August 12 [1]" in first.splitlines()[0] and "Searched for" not in first, first
    second = ask_in(page, "And who led the Chinese side?")
    condense = [r for r in fake.requests if r["messages"][0]["content"].startswith("You rewrite the follow-up question")]
    assert len(condense) == 1 and "Question: When does the tariff truce expire?\nAnswer: The tariff truce expires on " \
        "August 12" in condense[0]["messages"][-1]["content"]
    assert page.locator("#chat .searched-for").last.inner_text() == f"Searched for: {rewrite}"
    assert "He Lifeng" in second.splitlines()[0], second
    shot(page, "1-llm-condensed-follow-up-light-1440")


PANEL_JS = """([doc, opened]) => { const v = document.querySelector('#article .article-view');
  return !!v && v.dataset.doc === doc && v.dataset.opened === opened; }"""


def test_an_article_the_reader_opens_while_an_answer_is_written_stays_open(page, fake):
    """The reader opens the first answer's source while the second answer streams: neither the second answer's
    source nor the chat scrolling to it replaces that article. Asking again, the panel follows the new answer."""

    def blocks(body) -> dict[int, tuple[str, str]]:  # n -> (title line, text)
        user = body["messages"][-1]["content"].split("\n\nQuestion:", 1)[0].removeprefix("Passages:\n\n")
        return {int(b[1:b.index("]")]): tuple(b[b.index("]") + 2:].split("\n", 1))
                for b in re.split(r"\n\n(?=\[\d+\] )", user)}

    home = {}  # the title line of the passage the first answer cites

    def citing(body, truce: bool, sleep: float) -> dict:
        found = blocks(body)
        if truce:
            n = next(n for n, (_, text) in found.items() if "set to expire on August 12" in text)
            home["head"] = found[n][0]
        else:
            n = next(n for n, (head, _) in found.items() if head != home["head"])
        text = found[n][1]
        return {"text": f"{text[slice(*sentence_spans(text)[0])]} [{n}]", "token_sleep": sleep}

    fake.default = lambda body: citing(body, truce=True, sleep=0)
    ask_in(page, TRUCE)
    first = page.locator("#src-1-1").get_attribute("data-doc")
    page.wait_for_function(PANEL_JS, arg=[first, "auto"])
    page.evaluate("document.querySelector('#article .article-view').dataset.opened = 'stale'")  # a re-render shows

    fake.default = lambda body: citing(body, truce=False, sleep=0.15)
    page.fill("#question textarea", "Who led the US officials at the Stockholm talks?")
    page.click("#ask")
    page.wait_for_function(STREAMING_JS, arg=r"\w+ \w+ \w+", timeout=120_000)
    page.locator("#src-1-1").click()  # the reader opens the first answer's source while the second is written
    page.wait_for_function(PANEL_JS, arg=[first, "user"])
    page.wait_for_selector("#src-2-1", timeout=120_000)
    second = page.locator("#src-2-1").get_attribute("data-doc")
    assert second != first
    page.wait_for_timeout(1500)  # the chat scrolls to the new answer 300 ms after it lands; the panel follows 150 ms on
    assert page.evaluate(PANEL_JS, [first, "user"]), page.locator("#article").inner_text()[:200]

    fake.default = lambda body: citing(body, truce=False, sleep=0)
    ask_in(page, "Who led the US officials at the Stockholm talks?")
    page.wait_for_function(PANEL_JS, arg=[page.locator("#src-3-1").get_attribute("data-doc"), "auto"])
