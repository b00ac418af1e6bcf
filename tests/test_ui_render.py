"""The UI's own helpers (no server): escaping, [n] markers, upload names and checks."""
from __future__ import annotations

import pytest

from rag.errors import RagError
from rag.types import Answer, Citation
from rag.settings import Settings
from rag import ui


def test_markers_become_links_and_text_is_escaped():
    out = ui.render_answer_text("Rates <b>rose</b> *a lot* [1] and [2] [9]", turn=3, cited={1, 2})
    assert '<a class="cite" href="#src-3-1"' in out and '<a class="cite" href="#src-3-2"' in out
    assert "#src-3-9" not in out and "\\[9\\]" in out
    assert "<b>" not in out and "&lt;b&gt;rose&lt;/b&gt;" in out
    assert "\\*a lot\\*" in out


def test_esc_neutralises_html_and_templates():
    assert ui.esc('<img src=x onerror="1"> {{v}} ${v} `x`') == (
        "&lt;img src=x onerror=&quot;1&quot;&gt; &#123;&#123;v&#125;&#125; &#36;&#123;v&#125; &#96;x&#96;")


def test_message_shows_abstention_notice_answerer_and_time():
    answer = Answer(text="I could not find this in the indexed articles.", citations=[], abstained=True,
                    timings={"total_ms": 1234.0}, answerer="openai", notice="LLM unreachable; answered locally")
    msg = ui.render_message(answer, 1, Settings(llm_model="gpt-4o-mini"))
    assert "Not found in the indexed articles" in msg and 'class="abstained"' in msg
    assert "openai (gpt-4o-mini)" in msg and "1.23 s" in msg and "LLM unreachable" in msg


def test_error_message_is_one_line():
    try:
        raise ValueError("first line\nsecond line\n  File x.py")
    except ValueError as e:
        msg = ui.error_message(e)
    assert "\n" not in msg and "ValueError" in msg and "second" not in msg
    assert "the question is empty" in ui.error_message(RagError("the question is empty"))


def test_card_highlights_quote_in_its_passage():
    text = "Intro line.\nTalks were held. The truce is set to expire on August 12. More text.\nLast."
    quote = "The truce is set to expire on August 12."
    start = text.index(quote)
    c = Citation(n=2, doc_id="a<b>.txt", title="T <i>", source="/srv/data/a.txt", published_at=None, quote=quote,
                 start=start, end=start + len(quote))
    card = ui.render_card(c, 4, {"text": text})
    assert 'id="src-4-2"' in card and f'data-start="{start}"' in card
    assert f"<mark>{quote}</mark>" in card and "Talks were held." in card and "Intro line" not in card
    assert "undated" in card and "a.txt" in card and "/srv/data" not in card
    assert "a&lt;b&gt;.txt" in card and "T &lt;i&gt;" in card


def test_card_shows_what_the_quotes_relative_dates_meant():
    quote = "Bessent said he would meet his Chinese counterparts next week."
    c = Citation(n=1, doc_id="a.txt", title="T", source="a.txt", published_at="2025-07-23", quote=quote, start=0,
                 end=len(quote), dates=[("next week", "week of July 28, 2025")])
    card = ui.render_card(c, 1, {"text": quote})
    assert "2025-07-23" in card and "next week = week of July 28, 2025" in card
    assert c.dated() == "reported 2025-07-23; next week = week of July 28, 2025"


def test_article_view_marks_the_quote():
    doc = {"doc_id": "d.txt", "text": "A <x> B quote C", "title": "t", "source": "s", "published_at": "2025-01-02"}
    out = ui.render_article(doc, 8, 13)
    assert '&lt;x&gt; B <mark class="article-quote">quote</mark> C' in out
    assert "<mark" not in ui.render_article(doc, 13, 99)


@pytest.mark.parametrize("name,expected", [
    ("news.txt", "news.txt"), ("../../etc/passwd.md", "passwd.md"), ("a b;rm -rf.HTML", "a_b_rm_-rf.html"),
    (".hidden.jsonl", "hidden.jsonl"), ("..\\..\\win.txt", "win.txt"), ("ü.txt", "upload.txt"),
])
def test_safe_upload_name(name, expected):
    assert ui.safe_upload_name(name) == expected


@pytest.mark.parametrize("name", ["x.pdf", "x.exe", "x.jsonl.gz", "x", "x.txt.sh"])
def test_unsupported_upload_types(name):
    with pytest.raises(RagError, match="unsupported file type"):
        ui.safe_upload_name(name)


def test_check_upload(tmp_path):
    ok = tmp_path / "ok.txt"
    ok.write_text("hello", encoding="utf-8")
    assert ui.check_upload(ok, "ok.txt", 1) == "ok.txt"
    big = tmp_path / "big.txt"
    big.write_bytes(b"a" * (1024 * 1024 + 1))
    with pytest.raises(RagError, match="over the 1 MB upload limit"):
        ui.check_upload(big, "big.txt", 1)
    binary = tmp_path / "b.txt"
    binary.write_bytes(b"\x00abc")
    with pytest.raises(RagError, match="not a text file"):
        ui.check_upload(binary, "b.txt", 1)
    latin = tmp_path / "l.txt"
    latin.write_bytes("café".encode("latin-1"))
    with pytest.raises(RagError, match="not UTF-8"):
        ui.check_upload(latin, "l.txt", 1)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not json\n", encoding="utf-8")
    with pytest.raises(RagError, match="not JSON Lines"):
        ui.check_upload(bad, "bad.jsonl", 1)
    good = tmp_path / "good.jsonl"
    good.write_text('{"title": "t", "text": "x"}\n', encoding="utf-8")
    assert ui.check_upload(good, "good.jsonl", 1) == "good.jsonl"


def test_display_line_says_reported_and_keeps_markers_to_their_word():
    assert ui.display_line("August 12 [1] (as of 2025-07-23)") == "August 12 [1] (reported 2025-07-23)"
    assert ui.display_line("August 12 [1] .") == "August 12 [1]."
    assert ui.display_line("Rates [1] , then [2] ; done") == "Rates [1], then [2]; done"


def test_message_quotes_without_dates_and_says_what_was_searched():
    c = Citation(n=1, doc_id="d", title="T", source="s.txt", published_at="2025-07-23", quote="It ends on August 12.",
                 start=0, end=21)
    answer = Answer(text="August 12 [1] (as of 2025-07-23)\n\n[1] “It ends on August 12.” (as of 2025-07-23)",
                    citations=[c], abstained=False, answer="August 12 [1] (as of 2025-07-23)",
                    diagnostics={"standalone_question": "When does it end? (following: X)"})
    msg = ui.render_message(answer, 2, Settings(), "4 undated articles were left out by the date filter")
    assert msg.count("2025") == 1 and "reported 2025" in msg and "as of" not in msg
    assert "Searched for: When does it end?" in msg
    assert "4 undated articles were left out" in msg and 'class="copy-answer"' in msg


def test_chips_show_each_filter_and_flag_a_bad_date():
    html = ui.render_chips(since="2025-07-01", until=None, as_of="someday", source="reuters")
    assert 'data-filter="since"' in html and 'data-filter="source"' in html and 'data-filter="all"' in html
    assert "“someday” is not a date" in html and 'data-filter="until"' not in html
    assert ui.render_chips() == ""


def test_card_names_the_copies_and_the_other_versions():
    c = Citation(n=1, doc_id="a.txt", title="Ferry starts", source="a.txt", published_at="2025-06-05",
                 quote="It starts on July 4.", start=0, end=20,
                 alternates=[{"doc_id": "wire.txt", "source": "Wire <b>", "title": "t", "published_at": None}],
                 versions=[{"doc_id": "b.txt", "title": "Ferry <starts>", "source": "b.txt", "published_at": "2025-06-02"}])
    html = ui.render_card(c, 1, None)
    assert "Also reported by Wire &lt;b&gt;" in html
    assert "Another version: Ferry &lt;starts&gt; (reported 2025-06-02)" in html
    plain = Citation(n=1, doc_id="a.txt", title="t", source="a.txt", published_at=None, quote="q", start=0, end=1)
    assert "src-related" not in ui.render_card(plain, 1, None)
