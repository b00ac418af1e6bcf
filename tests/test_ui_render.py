"""The UI's own helpers (no server, no Gradio): rag.ui.render's HTML and rag.ui.uploads' names and checks."""
from __future__ import annotations

import gzip

import pytest

from rag.errors import RagError
from rag.types import Answer, Citation
from rag.settings import Settings
from rag.ui import render
from rag.ui.uploads import check_upload, safe_upload_name


def test_markers_become_links_and_text_is_escaped():
    out = render.render_answer_text("Rates <b>rose</b> *a lot* [1] and [2] [9]", turn=3, cited={1, 2})
    assert '<a class="cite" href="#src-3-1"' in out and '<a class="cite" href="#src-3-2"' in out
    assert "#src-3-9" not in out and "\\[9\\]" in out
    assert "<b>" not in out and "&lt;b&gt;rose&lt;/b&gt;" in out
    assert "\\*a lot\\*" in out


def test_esc_neutralises_html_and_templates():
    assert render.esc('<img src=x onerror="1"> {{v}} ${v} `x`') == (
        "&lt;img src=x onerror=&quot;1&quot;&gt; &#123;&#123;v&#125;&#125; &#36;&#123;v&#125; &#96;x&#96;")


def test_message_shows_abstention_notice_answerer_and_time():
    answer = Answer(text="I could not find this in the indexed articles.", citations=[], abstained=True,
                    timings={"total_ms": 1234.0}, answerer="openai", notice="LLM unreachable; answered locally")
    msg = render.render_message(answer, 1, Settings(llm_model="gpt-4o-mini"))
    assert "Not found in the indexed articles" in msg and 'class="abstained"' in msg
    assert "openai (gpt-4o-mini)" in msg and "1.23 s" in msg and "LLM unreachable" in msg


def test_error_message_is_one_line():
    try:
        raise ValueError("first line\nsecond line\n  File x.py")
    except ValueError as e:
        msg = render.error_message(e)
    assert "\n" not in msg and "ValueError" in msg and "second" not in msg
    assert "the question is empty" in render.error_message(RagError("the question is empty"))


def test_card_highlights_quote_in_its_passage():
    text = "Intro line.\nTalks were held. The truce is set to expire on August 12. More text.\nLast."
    quote = "The truce is set to expire on August 12."
    start = text.index(quote)
    c = Citation(n=2, doc_id="a<b>.txt", title="T <i>", source="/srv/data/a.txt", published_at=None, quote=quote,
                 start=start, end=start + len(quote))
    card = render.render_card(c, 4, {"text": text})
    assert 'id="src-4-2"' in card and f'data-start="{start}"' in card
    assert f"<mark>{quote}</mark>" in card and "Talks were held." in card and "Intro line" not in card
    assert "undated" in card and "a.txt" in card and "/srv/data" not in card
    assert "a&lt;b&gt;.txt" in card and "T &lt;i&gt;" in card


def test_card_shows_what_the_quotes_relative_dates_meant():
    quote = "Bessent said he would meet his Chinese counterparts next week."
    c = Citation(n=1, doc_id="a.txt", title="T", source="a.txt", published_at="2025-07-23", quote=quote, start=0,
                 end=len(quote), dates=[("next week", "week of July 28, 2025")])
    card = render.render_card(c, 1, {"text": quote})
    assert "2025-07-23" in card and "next week = week of July 28, 2025" in card
    assert c.dated() == "reported 2025-07-23; next week = week of July 28, 2025"


def test_article_view_marks_the_quote():
    doc = {"doc_id": "d.txt", "text": "A <x> B quote C", "title": "t", "source": "s", "published_at": "2025-01-02"}
    out = render.render_article(doc, 8, 13)
    assert '&lt;x&gt; B <mark class="article-quote">quote</mark> C' in out
    assert "<mark" not in render.render_article(doc, 13, 99)


@pytest.mark.parametrize("name,expected", [
    ("news.txt", "news.txt"), ("../../etc/passwd.md", "passwd.md"), ("a b;rm -rf.HTML", "a_b_rm_-rf.html"),
    (".hidden.jsonl", "hidden.jsonl"), ("..\\..\\win.txt", "win.txt"), ("ü.txt", "upload.txt"),
    ("Feed.JSONL.GZ", "Feed.jsonl.gz"), ("a.htm", "a.htm"),
])
def test_safe_upload_name(name, expected):
    assert safe_upload_name(name) == expected


@pytest.mark.parametrize("name", ["x.pdf", "x.exe", "x.gz", "x", "x.txt.sh"])
def test_unsupported_upload_types(name):
    with pytest.raises(RagError, match=r"unsupported file type; upload one of .*\.jsonl\.gz"):
        safe_upload_name(name)


def test_check_upload(tmp_path):
    ok = tmp_path / "ok.txt"
    ok.write_text("hello", encoding="utf-8")
    assert check_upload(ok, "ok.txt", 1) == "ok.txt"
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (1024 * 1024 + 1))
    with pytest.raises(RagError, match="over the 1 MB upload limit"):
        check_upload(big, "big.txt", 1)
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\x00abc")
    with pytest.raises(RagError, match="not a text file"):
        check_upload(binary, "b.txt", 1)
    noise = tmp_path / "l.txt"
    noise.write_bytes(bytes(range(1, 256)) * 3)
    with pytest.raises(RagError, match="not text in UTF-8 or a legacy encoding"):
        check_upload(noise, "l.txt", 1)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    with pytest.raises(RagError, match="not JSON Lines"):
        check_upload(bad, "bad.jsonl", 1)
    good = tmp_path / "good.jsonl"
    good.write_text('{"title": "t", "text": "x"}\n', encoding="utf-8")
    assert check_upload(good, "good.jsonl", 1) == "good.jsonl"
    blank = tmp_path / "blank.md"
    blank.write_text("  \n\n", encoding="utf-8")
    with pytest.raises(RagError, match="^empty file$"):
        check_upload(blank, "blank.md", 1)


def test_check_upload_reads_json_lines_as_rag_index_does(tmp_path):
    """A JSON Lines upload passes when one of its first records is an article (a non-empty "text"), gzipped too."""
    untexted = tmp_path / "t.jsonl"
    untexted.write_text('{"title": "no text"}\n', encoding="utf-8")
    with pytest.raises(RagError, match="not JSON Lines articles: JSON line has no non-empty 'text' field"):
        check_upload(untexted, "t.jsonl", 1)
    later = tmp_path / "later.jsonl"
    later.write_text('not json\n{"text": "an article"}\n', encoding="utf-8")
    assert check_upload(later, "later.jsonl", 1) == "later.jsonl"
    packed = tmp_path / "feed.jsonl.gz"
    packed.write_bytes(gzip.compress(b'{"id": "a", "text": "an article"}\n'))
    assert check_upload(packed, "feed.jsonl.gz", 1) == "feed.jsonl.gz"
    fake = tmp_path / "fake.jsonl.gz"
    fake.write_text('{"text": "not gzipped"}\n', encoding="utf-8")
    with pytest.raises(RagError, match="not JSON Lines articles: cannot read"):
        check_upload(fake, "fake.jsonl.gz", 1)


def test_display_line_says_reported_and_keeps_markers_to_their_word():
    assert render.display_line("August 12 [1] (as of 2025-07-23)") == "August 12 [1] (reported 2025-07-23)"
    assert render.display_line("August 12 [1] .") == "August 12 [1]."
    assert render.display_line("Rates [1] , then [2] ; done") == "Rates [1], then [2]; done"


def test_message_quotes_without_dates_and_says_what_was_searched():
    c = Citation(n=1, doc_id="d", title="T", source="s.txt", published_at="2025-07-23", quote="It ends on August 12.",
                 start=0, end=21)
    answer = Answer(text="August 12 [1] (as of 2025-07-23)\n\n[1] “It ends on August 12.” (as of 2025-07-23)",
                    citations=[c], abstained=False, answer="August 12 [1] (as of 2025-07-23)",
                    diagnostics={"standalone_question": "When does it end? (following: X)"})
    msg = render.render_message(answer, 2, Settings(), "4 undated articles were left out by the date filter")
    assert msg.count("2025") == 1 and "reported 2025" in msg and "as of" not in msg
    assert "Searched for: When does it end?" in msg
    assert "4 undated articles were left out" in msg and 'class="copy-answer"' in msg
    # a question the engine corrected (spelling, an acronym spelt out) says what it searched for too
    answer.diagnostics = {"spelling_corrected": "Who is the U.S. Trade Representative?"}
    shown = render.render_message(answer, 2, Settings())
    assert f"Searched for: {render.md_text('Who is the U.S. Trade Representative?')}" in shown, shown


def test_chips_show_each_filter_and_flag_a_bad_date():
    html = render.render_chips(since="2025-07-01", until=None, as_of="someday", source="reuters")
    assert 'data-filter="since"' in html and 'data-filter="source"' in html and 'data-filter="all"' in html
    assert "“someday” is not a date" in html and 'data-filter="until"' not in html
    assert render.render_chips() == ""


def test_card_names_the_copies_and_the_other_versions():
    c = Citation(n=1, doc_id="a.txt", title="Ferry starts", source="a.txt", published_at="2025-06-05",
                 quote="It starts on July 4.", start=0, end=20,
                 alternates=[{"doc_id": "wire.txt", "source": "Wire <b>", "title": "t", "published_at": None}],
                 versions=[{"doc_id": "b.txt", "title": "Ferry <starts>", "source": "b.txt", "published_at": "2025-06-02"}])
    html = render.render_card(c, 1, None)
    assert "Also reported by Wire &lt;b&gt;" in html
    assert "Another version: Ferry &lt;starts&gt; (reported 2025-06-02)" in html
    plain = Citation(n=1, doc_id="a.txt", title="t", source="a.txt", published_at=None, quote="q", start=0, end=1)
    assert "src-related" not in render.render_card(plain, 1, None)


def test_md_text_escapes_html_and_markdown():
    assert render.md_text("a <b> *c* [1] #d") == "a &lt;b&gt; \\*c\\* \\[1\\] \\#d"


def test_answerer_label_names_the_llm_model():
    def answer(by):
        return Answer(text="x", citations=[], abstained=False, answerer=by)

    settings = Settings(llm_model="gpt-4o-mini")
    assert render.answerer_label(answer(None), settings) == "local"
    assert render.answerer_label(answer("local"), settings) == "local"
    assert render.answerer_label(answer("openai"), settings) == "openai (gpt-4o-mini)"
    assert render.answerer_label(answer("openai:gpt-4o-mini"), settings) == "openai:gpt-4o-mini"
    assert render.answerer_label(answer("local-llm:qwen.gguf"), settings) == "local-llm:qwen.gguf"  # its model, once


def test_display_source_hides_server_folders():
    assert render.display_source("/srv/news/a.txt") == "a.txt"
    assert render.display_source("C:/news/b.md") == "b.md"
    assert render.display_source("https://x.test/a") == "https://x.test/a"
    assert render.display_source(None) == ""


def test_locate_prefers_the_citation_offsets_then_the_first_occurrence():
    text = "ab quote cd quote"
    assert render.locate(text, "quote", 12, 17) == (12, 17)
    assert render.locate(text, "quote", 0, 5) == (3, 8)  # stale offsets: found again
    assert render.locate(text, "missing", 0, 7) is None
    assert render.locate(text, "", 0, 0) is None


def test_turn_cards_and_sources_panel():
    quote = "It ends on August 12."
    c1 = Citation(n=1, doc_id="a.txt", title="A", source="a.txt", published_at="2025-07-23", quote=quote, start=0,
                  end=len(quote))
    c2 = Citation(n=2, doc_id="gone.txt", title="Gone", source="gone.txt", published_at=None, quote="Old words.",
                  start=5, end=15)
    answer = Answer(text="August 12 [1] [2]", citations=[c1, c2], abstained=False)
    cards = render.render_turn_cards(answer, 3, "When <does> it end?", {"a.txt": {"text": quote}, "gone.txt": None})
    assert cards.startswith('<div class="src-turn" id="turn-3">') and "Sources for “When &lt;does&gt; it end?”" in cards
    assert 'id="src-3-1"' in cards and 'data-start="0"' in cards  # the article is there: the quote is located
    assert 'id="src-3-2"' in cards and 'data-start="-1"' in cards and "<mark>Old words.</mark>" in cards
    none = render.render_turn_cards(Answer(text="?", citations=[], abstained=True), 4, "q", {})
    assert "No sources: the answer cites nothing." in none

    assert "Sources appear here" in render.render_sources([])
    panel = render.render_sources([{"cards": "<p>first</p>"}, {"cards": "<p>second</p>"}])
    assert panel.startswith(render.SOURCES_H) and panel.index("second") < panel.index("first")  # newest first


def test_article_view_names_the_source_and_the_error():
    doc = {"doc_id": "news/a.txt", "text": "Body.", "title": "T", "source": "/srv/news/a.txt", "published_at": None}
    out = render.render_article(doc, opened="auto")
    assert 'data-opened="auto"' in out and "undated" in out and "a.txt · <code>news/a.txt</code>" in out
    assert "/srv" not in out and "<mark" not in out
    assert "⚠ no indexed article with id" in render.render_article_error(RagError("no indexed article with id 'x'"))
    hidden = render.render_article_error(OSError("/srv/secret path"))
    assert "could not open the article" in hidden and "secret" not in hidden


def test_article_list_counts_searches_and_caps():
    rows = [{"doc_id": f"d{i}.txt", "title": f"Title <{i}>", "published_at": "2025-01-02" if i else None}
            for i in range(render.MAX_LISTED_ARTICLES + 5)]
    out = render.render_articles(rows)
    assert f"<b>{len(rows):,}</b> articles indexed" in out and 'class="art-search"' in out
    assert out.count('<li class="art-item"') == render.MAX_LISTED_ARTICLES and "… and 5 more" in out
    assert "Title &lt;0&gt;" in out and ">undated<" in out
    one = render.render_articles([{"doc_id": "only.txt", "title": None, "published_at": None}])
    assert "<b>1</b> article indexed" in one and "art-search" not in one and ">only.txt<" in one
    assert render.render_articles_error(RagError("index <busy>")) == '<div class="art-count">⚠ index &lt;busy&gt;</div>'
    assert render.render_articles_error(ValueError("/srv/x")) == '<div class="art-count">⚠ ValueError</div>'


def test_message_text_reads_both_forms_the_chatbot_sends():
    assert render.message_text("August 12 [1] ▌") == "August 12 [1] ▌"
    assert render.message_text([{"type": "text", "text": "August 12 "}, {"type": "file", "path": "x"},
                                {"type": "text", "text": "▌"}]) == "August 12 ▌"
    assert render.message_text(None) == ""


def test_article_list_offers_remove_and_reindex_from_a_file():
    rows = [{"doc_id": "a.txt", "title": "A <b>", "published_at": None, "path": "/srv/news/a.txt"},
            {"doc_id": "feed-7", "title": "B", "published_at": None, "path": None}]
    out = render.render_articles(rows, note="Removed “C”")
    assert out.count('data-act="remove"') == 2 and out.count('data-act="reindex"') == 1  # B came from no file
    assert 'aria-label="Re-index A &lt;b&gt;"' in out and 'role="status">Removed “C”<' in out
    assert "/srv" not in out  # the server looks the path up; the page never sees it


def test_filter_values_and_problems():
    values = render.filter_values("2025-07-01T00:00:00", None, "  ", " reuters ")
    assert values == {"since": "2025-07-01", "source": "reuters"}
    assert render.filter_problems(values) == []
    assert render.filter_problems({"until": "soon", "source": "x"}) == [
        "Published until: “soon” is not a date; pick one or type YYYY-MM-DD"]


def test_undated_left_out_counts_what_the_source_filter_lets_through():
    rows = [{"doc_id": "a.txt", "title": "Reuters: rates", "source": "a.txt", "published_at": None},
            {"doc_id": "b.txt", "title": "AP: rates", "source": "b.txt", "published_at": None},
            {"doc_id": "c.txt", "title": "Reuters: dated", "source": "c.txt", "published_at": "2025-07-01"}]
    from rag.retrieve import undated_left_out
    assert undated_left_out({"since": "2025-01-01"}, rows) == 2
    assert undated_left_out({"since": "2025-01-01", "source": "reuters"}, rows) == 1
    assert undated_left_out({"source": "reuters"}, rows) == 0  # no date filter: nothing left out for it
    assert render.undated_note(0) == ""
    assert render.undated_note(1) == "1 undated article was left out by the date filter"
    assert render.undated_note(3) == "3 undated articles were left out by the date filter"


def test_chips_say_what_the_date_filter_left_out_unless_a_date_is_bad():
    html = render.render_chips(since="2025-07-01", undated=2)
    assert "2 undated articles were left out by the date filter" in html and 'data-filter="all"' not in html
    assert "undated-note" not in render.render_chips(since="2025-07-01", as_of="someday", undated=2)


def test_the_instant_answer_links_its_cards_only_while_they_are_shown():
    quote = "The truce is set to expire on August 12."
    c = Citation(n=1, doc_id="a.txt", title="T", source="a.txt", published_at="2025-07-23", quote=quote, start=0,
                 end=len(quote))
    quick = Answer(text="August 12 [1]", citations=[c], abstained=False, answer="August 12 [1]",
                   timings={"total_ms": 120.0})
    shown = render.render_instant(quick, 3)
    assert shown.startswith('<span class="instant-label">Instant answer (extractive, 0.12 s)</span>')
    assert shown.count('href="#src-3-1"') == 2 and "expire on August 12" in shown  # the line and its quote
    kept = render.render_instant(quick, None)  # the LLM's answer has the turn's cards now
    assert "href=" not in kept and r"\[1\]" in kept and "expire on August 12" in kept  # Markdown-escaped text
