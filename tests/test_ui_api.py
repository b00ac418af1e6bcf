"""The UI server's named `/ask` API endpoint, through gradio_client, against the real app and seed articles."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from ui_helpers import AppServer

gradio_client = pytest.importorskip("gradio_client")
from gradio_client.exceptions import AppError  # noqa: E402

pytestmark = pytest.mark.slow

QUESTION = "When does the tariff truce expire?"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    app = AppServer(tmp_path_factory.mktemp("ui_api")).start()
    yield app
    app.stop()


@pytest.fixture(scope="module")
def client(server):
    return gradio_client.Client(server.url, verbose=False)


def test_ask_returns_the_cli_json(client):
    result = client.predict(QUESTION, api_name="/ask")
    assert isinstance(result, dict)
    assert set(result) == {"answer", "text", "abstained", "citations", "timings", "answerer", "notice", "diagnostics"}
    assert "August 12" in result["answer"]
    assert result["abstained"] is False
    first = result["citations"][0]
    assert first["doc_id"] == "000_d87944a161c7f26e.txt"
    assert first["n"] == 1
    assert first["quote"] and "August 12" in first["quote"]
    assert first["end"] - first["start"] == len(first["quote"])
    assert result["timings"]["total_ms"] > 0
    assert result["answerer"] == "local"


def test_empty_question_is_a_clear_error(client):
    with pytest.raises(AppError) as err:
        client.predict("   ", api_name="/ask")
    message = str(err.value)
    assert "the question is empty" in message
    assert "Traceback" not in message


def test_only_ask_is_a_public_endpoint(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert set(endpoints) == {"/ask"}


def test_concurrent_questions(client, server):
    questions = [QUESTION, "Who led the US officials at the Stockholm talks?"] * 4

    def ask(q):
        return gradio_client.Client(server.url, verbose=False).predict(q, api_name="/ask")

    with ThreadPoolExecutor(len(questions)) as pool:
        results = list(pool.map(ask, questions))
    for q, r in zip(questions, results):
        assert r["citations"], (q, r)
        assert ("August 12" if q == QUESTION else "Scott Bessent") in r["answer"]
