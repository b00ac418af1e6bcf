"""RAG_EMBED_URL against a real OpenAI-compatible embeddings server on 127.0.0.1 (tests/embed_server.py)
serving the packaged MiniLM's vectors."""
from __future__ import annotations

import numpy as np
import pytest

from rag import RAG
from rag.embed import Embedder, Remote
from rag.errors import RagError

from embed_server import EmbedServer

TEXTS = [f"Sentence {i}: the tariff truce between the US and China expires on August {i + 1}." for i in range(10)]


@pytest.fixture(scope="module")
def local():
    return Embedder()


@pytest.fixture()
def server(local):
    s = EmbedServer(local).start()
    yield s
    s.shutdown()
    s.server_close()


def remote_embedder(server, **kw) -> Embedder:
    return Embedder(batch_size=3, remote=Remote(server.url, "all-MiniLM-L6-v2", in_flight=4, **kw))


@pytest.mark.slow
def test_server_vectors_equal_the_in_process_ones(server, local):
    server.scale = 3.0  # a server that does not normalize: the client does
    got = remote_embedder(server).embed(TEXTS)
    want = local.embed(TEXTS)
    assert got.shape == want.shape == (10, 384)
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    assert (got * want).sum(axis=1).min() > 0.999  # cosine, rows in the texts' order
    assert server.requests == 4  # batches of 3
    assert server.peak >= 1


@pytest.mark.slow
def test_a_500_is_retried(server, local):
    server.fail = 1
    got = remote_embedder(server, retries=2).embed(TEXTS[:2])
    assert server.requests == 2  # the failed one, then its retry
    assert (got * local.embed(TEXTS[:2])).sum(axis=1).min() > 0.999


@pytest.mark.slow
def test_a_server_that_keeps_failing_is_one_line(server):
    server.fail = 10
    with pytest.raises(RagError) as e:
        remote_embedder(server, retries=1).embed(TEXTS[:2])
    assert "HTTP 500" in str(e.value) and "\n" not in str(e.value)
    assert server.requests == 2


@pytest.mark.slow
def test_index_and_ask_through_the_server(server, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "truce.txt").write_text("Tariff truce\n\nThe 90-day tariff truce between the US and China is set to "
                                      "expire on August 12, officials said on Monday.\n", encoding="utf-8")
    rag = RAG(index_dir=tmp_path / "index", chroma_url=None, embed_url=server.url, embed_url_in_flight=2)
    report = rag.index([corpus])
    assert report.chunks_written >= 1
    before = server.requests
    answer = rag.ask("When does the tariff truce expire?")
    assert "August 12" in answer.answer
    assert server.requests > before  # the question was embedded by the server too


@pytest.mark.slow
def test_wrong_dimension_is_one_line_and_leaves_the_index_unchanged(server, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Stockholm talks\n\nUS and Chinese officials met in Stockholm in July.\n")
    rag = RAG(index_dir=tmp_path / "index", chroma_url=None)  # built in process: 384 dimensions
    rag.index([corpus])
    chunks, articles = rag.store.chunks.count(), rag.store.articles.count()
    (corpus / "b.txt").write_text("London talks\n\nThey had met in London in June.\n")
    server.repeat = 2  # a 768-dimensional model
    other = RAG(rag.settings, embed_url=server.url)
    other.__dict__["store"] = rag.store
    with pytest.raises(RagError) as e:
        other.index([corpus])
    message = str(e.value)
    assert "768" in message and "384" in message and "\n" not in message
    assert (rag.store.chunks.count(), rag.store.articles.count()) == (chunks, articles)
    assert [a["title"] for a in rag.articles()] == ["Stockholm talks"]


def test_bad_url_is_one_line():
    with pytest.raises(RagError, match="not an http"):
        Remote("ftp://example", "m")
