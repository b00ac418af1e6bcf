"""Issue #22, item 5: a saved or fetched news page is read as its article, with its tables' rows kept whole.

Real `rag index` / `rag ask` / `rag articles` processes over an embedded index; the URL test serves the page
from a real HTTP server on 127.0.0.1.
"""
from __future__ import annotations

import functools
import http.server
import json
import threading

import pytest

from conftest import free_port, run_rag

pytestmark = pytest.mark.slow

FARES = """<!doctype html><html><head><title>Ferry fares rise on three routes | Coast News</title>
<meta property="og:site_name" content="Coast News"><meta name="author" content="Anna Berg">
<meta property="article:published_time" content="2025-03-31T08:00:00+02:00"></head><body>
<header><div class="promo">Unlock the Coast Watch newsletter for free</div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li><li><a href="/sport">Sport</a></li>
<li><a href="/weather">Weather</a></li></ul></nav></header>
<div id="cookie-banner">We use cookies to improve your experience. Accept all cookies or manage settings.</div>
<main><article><h1>Ferry fares rise on three routes</h1>
<p>The regional ferry company will raise fares on three routes from 1 May, it said on Monday, citing fuel
costs and new crew rules that take effect in the spring.</p>
<table><thead><tr><th>Route</th><th>Old fare</th><th>New fare</th></tr></thead>
<tbody><tr><td>Holm–Vika</td><td>45 kronor</td><td>52 kronor</td></tr>
<tr><td>Lund–Eke</td><td>30 kronor</td><td>34 kronor</td></tr>
<tr><td>Bro–Sand</td><td>25 kronor</td><td>29 kronor</td></tr></tbody></table>
<p>Passengers can still buy monthly passes at the old price until the end of April, the company said.</p>
<ul><li>Children under seven travel free on every route.</li><li>Bicycles cost 10 kronor on every route.</li></ul>
</article></main>
<aside><h3>Newsletter</h3><p>Sign up for the Coast Watch newsletter and get the news first.</p></aside>
<footer><p>© 2025 Coast News. All rights reserved.</p></footer></body></html>"""


def _env(tmp_path) -> dict:
    return {"RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_SEEDS_DIR": str(tmp_path / "no-seeds"),
            "RAG_CHROMA_URL": "", "RAG_ANSWERER": "local", "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost"}


def _article(tmp_path, doc_id: str) -> dict:
    from rag import RAG

    return RAG(index_dir=tmp_path / "index", chroma_url=None).article(doc_id)


def _fare_answer(tmp_path, doc_id: str) -> None:
    got = run_rag("ask", "What is the new fare on the Holm–Vika route?", "--json", env=_env(tmp_path))
    assert got.returncode == 0, got.stderr
    answer = json.loads(got.stdout)
    quotes = [c for c in answer["citations"] if c["doc_id"] == doc_id]
    assert quotes and "52 kronor" in answer["answer"], answer["answer"]
    row = quotes[0]["quote"]
    assert "Holm–Vika" in row and "New fare: 52 kronor" in row  # the row is one line, its cells labelled
    assert _article(tmp_path, doc_id)["text"][quotes[0]["start"]:quotes[0]["end"]] == row


def test_saved_news_page_is_read_as_its_article_with_table_rows_and_metadata(tmp_path):
    page = tmp_path / "fares.html"
    page.write_text(FARES, encoding="utf-8")
    got = run_rag("index", str(page), "--json", env=_env(tmp_path))
    assert got.returncode == 0 and json.loads(got.stdout)["added"] == 1, got.stderr
    article = _article(tmp_path, "fares.html")
    text = article["text"]
    assert article["title"] == "Ferry fares rise on three routes"  # not the newsletter pitch
    assert article["published_at"] == "2025-03-31"  # from the page's metadata (htmldate)
    for boilerplate in ("Unlock the Coast Watch", "cookies", "Sign up", "Weather", "All rights reserved"):
        assert boilerplate not in text
    lines = text.splitlines()
    assert "Route: Holm–Vika | Old fare: 45 kronor | New fare: 52 kronor" in lines
    assert "Route: Bro–Sand | Old fare: 25 kronor | New fare: 29 kronor" in lines
    assert "- Children under seven travel free on every route." in lines
    _fare_answer(tmp_path, "fares.html")


def test_page_without_an_article_falls_back_to_its_visible_text(tmp_path):
    page = tmp_path / "tiny.html"
    page.write_text("<html><head><title>Pier notice</title><script>var secret = 1;</script></head><body>"
                    "<h1>Pier notice</h1><p>The Holm pier closes on 4 May.</p><table><tr><th>Day</th><th>Open</th></tr>"
                    "<tr><td>Saturday</td><td>08-12</td></tr></table></body></html>", encoding="utf-8")
    got = run_rag("index", str(page), "--json", env=_env(tmp_path))
    assert got.returncode == 0 and json.loads(got.stdout)["added"] == 1, got.stderr
    article = _article(tmp_path, "tiny.html")
    assert article["title"] == "Pier notice" and "secret" not in article["text"]
    assert article["text"].splitlines() == ["Pier notice", "The Holm pier closes on 4 May.", "Day | Open",
                                            "Day: Saturday | Open: 08-12"]


@pytest.fixture
def web(tmp_path):
    """A real HTTP server on 127.0.0.1 serving a folder, stopped at the end."""
    site = tmp_path / "site"
    site.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_rag_index_url_fetches_the_page_and_reads_it_the_same_way(tmp_path, web):
    site, base = web
    (site / "fares.html").write_text(FARES, encoding="utf-8")
    url = f"{base}/fares.html"
    got = run_rag("index", url, "--json", env=_env(tmp_path))
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["added"] == 1
    article = _article(tmp_path, url)
    assert article["title"] == "Ferry fares rise on three routes" and article["source"] == url
    assert "cookies" not in article["text"]
    _fare_answer(tmp_path, url)
    again = run_rag("index", url, "--json", env=_env(tmp_path))
    assert json.loads(again.stdout)["unchanged"] == 1
    missing = run_rag("index", f"{base}/nothing.html", "--json", env=_env(tmp_path))
    assert missing.returncode == 1 and "404" in json.loads(missing.stdout)["skipped"][0]["reason"]


def test_unreachable_url_is_a_one_line_error(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/news.html"  # nothing listens there
    got = run_rag("index", url, env=_env(tmp_path))
    assert got.returncode == 2 and "Traceback" not in got.stderr
    lines = [line for line in got.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"rag: error: cannot fetch {url}"), got.stderr
