"""Loading and chunking: formats, metadata, and offsets that always point at the article text."""
from __future__ import annotations

import gzip
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag.load import Document, Skip, load
from rag.text import sentence_spans


def docs(paths):
    return [d for d in load(paths) if isinstance(d, Document)]


def test_text_file_date_line_title_and_stable_id(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.txt").write_text(" date 2025-07-23 BEIJING: China said on Wednesday it will talk.\nMore.\n")
    [d] = docs([tmp_path])
    assert d.doc_id == "sub/a.txt" and d.published_at == "2025-07-23"
    assert d.text.lstrip().startswith("BEIJING: China said") and d.title.startswith("BEIJING")
    assert len(d.text) == len((tmp_path / "sub" / "a.txt").read_text()) and "date" not in d.text  # blanked, not cut
    assert docs([tmp_path])[0].content_hash == d.content_hash


def test_a_date_line_under_the_title_line_dates_the_article(tmp_path):
    source = "Harbor Bridge reopens\nDate: 2026-03-14\nThe bridge reopened on Saturday after two years.\n"
    (tmp_path / "bridge.txt").write_text(source)
    [d] = docs([tmp_path])
    assert (d.title, d.published_at) == ("Harbor Bridge reopens", "2026-03-14")
    assert len(d.text) == len(source) and "2026" not in d.text and d.text.index("The bridge") == source.index("The bridge")
    (tmp_path / "bridge.txt").write_text("Harbor Bridge reopens\nThe bridge reopened.\ndate 2026-03-14\n")
    assert docs([tmp_path])[0].published_at is None  # only the line right under the title


def test_a_file_in_a_legacy_encoding_is_read_not_skipped(tmp_path):
    """Windows-1252 and Latin-1 exports (and cp1250, cp1251) are read as their text: they had been skipped as
    "not UTF-8". Short French Latin-1 fits cp1250 as well ("à Genève" as "ŕ Genčve"): windows-1252 wins a tie."""
    texts = {"fr.txt": ("Café société à Genève\nLe café a ouvert à Genève jeudi.\n", "latin-1"),
             "de.txt": ("Straße gesperrt\nDie Sanierung kostet 5 Mio. € – „teurer als geplant“.\n", "cp1252"),
             "pl.txt": ("Zażółć gęślą jaźń\nBurmistrz powiedział, że most będzie gotowy w czerwcu.\n", "cp1250"),
             "ru.txt": ("Новости дня\nМост откроют в июне, сообщил мэр города.\n", "cp1251")}
    for name, (text, encoding) in texts.items():
        (tmp_path / name).write_bytes(text.encode(encoding))
    assert {d.doc_id: d.text for d in docs([tmp_path])} == {name: text for name, (text, _) in texts.items()}


def test_markdown_front_matter_gives_title_date_and_author_at_the_files_offsets(tmp_path):
    source = ("---\ntitle: Lakeside library opens\ndate: 2025-02-03\nauthor: Ana Ruiz\ntags: [city]\n---\n\n"
              "The Lakeside library opened on Monday with 40,000 books.\n")
    (tmp_path / "post.md").write_text(source)
    (tmp_path / "bad.md").write_text("---\ntitle: [unclosed\n---\nA body.\n")
    docs = {d.doc_id: d for d in load([tmp_path])}
    post = docs["post.md"]
    assert (post.title, post.published_at, post.author) == ("Lakeside library opens", "2025-02-03", "Ana Ruiz")
    assert len(post.text) == len(source) and "tags" not in post.text and "---" not in post.text
    for phrase in ("Lakeside library opens", "40,000 books"):  # a quote's offsets index the file
        at = post.text.index(phrase)
        assert source[at:at + len(phrase)] == phrase
    assert docs["bad.md"].title == "---" and docs["bad.md"].published_at is None  # unreadable YAML is text


def test_html_keeps_visible_text_only(tmp_path):
    (tmp_path / "p.html").write_text("<html><head><title>Truce news</title><script>var x='secret';</script>"
                                     "<style>.a{}</style></head><body><h1>Head</h1><p>The truce ends soon.</p>"
                                     "<script>alert('no')</script></body></html>")
    [d] = docs([tmp_path / "p.html"])
    assert d.title == "Truce news" and "The truce ends soon." in d.text
    assert "secret" not in d.text and "alert" not in d.text and ".a{}" not in d.text


def test_jsonl_and_gz_fields(tmp_path):
    rows = [{"id": "n1", "title": "T1", "url": "https://x.test/1", "published_at": "2022/06/16", "text": "Alpha."},
            {"text": "Beta without id."}]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    with gzip.open(tmp_path / "b.jsonl.gz", "wt") as fh:
        fh.write(json.dumps({"id": "g1", "text": "Gamma.", "published_at": "2022-07-01T10:00:00Z"}) + "\n")
    got = {d.doc_id: d for d in docs([tmp_path])}
    assert got["n1"].published_at == "2022-06-16" and got["n1"].source == "https://x.test/1" and got["n1"].title == "T1"
    assert "a.jsonl#2" in got and got["g1"].published_at == "2022-07-01"


def test_a_title_given_apart_opens_the_text_once(tmp_path):
    """A headline is evidence: a JSONL record's title comes first in the article's text, as its own paragraph,
    unless the text already opens with it; a text file's first line is its title and is never repeated."""
    rows = [{"id": "ad", "title": "Walmart is slashing prices on clothing - CNN", "text": "1. How relevant is this ad?"},
            {"id": "same", "title": "Truce  holds", "text": "Truce holds\n\nThe truce held on Monday."}]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    (tmp_path / "t.txt").write_text("Truce holds\n\nThe truce held on Monday.\n")
    got = {d.doc_id: d for d in docs([tmp_path])}
    assert got["ad"].text == "Walmart is slashing prices on clothing - CNN\n\n1. How relevant is this ad?"
    assert got["same"].text == "Truce holds\n\nThe truce held on Monday."
    assert got["t.txt"].text.count("Truce holds") == 1


def test_a_headline_loses_the_site_name_of_its_own_web_domain(tmp_path):
    """A title's last segment naming the site it came from (its URL's domain) is no evidence: it is dropped from
    the title and the text it opens. Another last segment, or a site name on a record with no URL, stays."""
    rows = [{"id": "cnn", "title": "Walmart is slashing prices - CNN Business", "url": "https://edition.cnn.com/a",
             "text": "1. How relevant is this ad?"},
            {"id": "week", "title": "Why the pound fell | The Week UK", "url": "https://www.theweek.co.uk/b",
             "text": "Sterling fell on Monday."},
            {"id": "cut", "title": "Fed holds rates - The ...", "url": "https://www.theweek.co.uk/c", "text": "No."},
            {"id": "other", "title": "Stocks rally - 24/7 Wall St.", "url": "https://www.usatoday.com/d", "text": "Up."},
            {"id": "no-url", "title": "Truce holds - CNN", "text": "The truce held."}]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    got = {d.doc_id: d for d in docs([tmp_path])}
    assert got["cnn"].title == "Walmart is slashing prices"
    assert got["cnn"].text == "Walmart is slashing prices\n\n1. How relevant is this ad?"
    assert got["week"].title == "Why the pound fell" and got["cut"].title == "Fed holds rates"
    assert got["other"].title == "Stocks rally - 24/7 Wall St." and got["no-url"].title == "Truce holds - CNN"


def test_unsupported_explicit_file_is_skipped(tmp_path):
    (tmp_path / "x.pdf").write_bytes(b"%PDF-1.4")
    [skip] = list(load([tmp_path / "x.pdf"]))
    assert isinstance(skip, Skip) and "unsupported file type" in skip.reason


_chunker = None


def chunker():
    global _chunker
    if _chunker is None:
        from rag.chunk import Chunker
        from rag.embed import Embedder

        _chunker = Chunker(Embedder().tokenize, 48, 12)
    return _chunker


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(min_size=1, max_size=200), min_size=1, max_size=12))
def test_chunks_cover_the_article_at_exact_offsets(parts):
    from rag.load import make_document

    doc = make_document("d", "\n".join(parts), "mem")
    if not doc.text.strip():
        return
    chunks = chunker().chunks(doc)
    covered = set()
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text and c.text.strip()
        covered.update(range(c.start, c.end))
    missing = [i for i, ch in enumerate(doc.text) if not ch.isspace() and i not in covered]
    assert not missing, f"characters not in any chunk: {[doc.text[i] for i in missing[:10]]}"


@given(st.text(max_size=400))
def test_sentence_spans_are_exact_and_ordered(text):
    spans = sentence_spans(text)
    assert spans == sorted(spans)
    for s, e in spans:
        assert text[s:e] == text[s:e].strip() and text[s:e]
