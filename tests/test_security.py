"""Security defaults of the running chat server (`rag serve`, started as users start it, with a login set).

Loopback only unless configured, a wrong password rejected, the API key never shown or logged, and no
file outside the index readable through the UI's routes or the article lookup behind them.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import httpx
import pytest
from conftest import ROOT, SEEDS, free_port, run_rag
from fake_openai import FakeOpenAI

from rag.errors import RagError

gradio_client = pytest.importorskip("gradio_client")

pytestmark = pytest.mark.slow

USER, PASSWORD = "reader", "correct horse battery"
SECRET = "sk-secret-key-never-shown-7f3a"
QUESTION = "When does the tariff truce expire?"
OUTSIDE_IDS = ["../../etc/passwd", "/etc/passwd", "seeds/../../../etc/passwd", "000_d87944a161c7f26e.txt/../../rag.toml",
               "..\\..\\etc\\passwd", "file:///etc/passwd"]


class Server:
    """`rag serve` with only a port given: host, login and answerer come from its rag.toml and environment."""

    def __init__(self, workdir: Path, llm_url: str):
        self.workdir, self.port = workdir, free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.index_dir = workdir / "index"
        (workdir / "rag.toml").write_text(
            f'[rag]\nindex_dir = "{self.index_dir}"\nseeds_dir = "{SEEDS}"\nui_user = "{USER}"\n'
            f'ui_password = "{PASSWORD}"\nanswerer = "openai"\nllm_base_url = "{llm_url}"\nllm_retries = 0\n')
        self.log = workdir / "server.log"

    def env(self) -> dict:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("RAG_", "GRADIO_SERVER_")) and k != "OPENAI_API_KEY"}
        return {**env, "OPENAI_API_KEY": SECRET, "PYTHONUNBUFFERED": "1"}

    def start(self) -> "Server":
        rag = str(Path(sys.executable).with_name("rag"))
        self._log = open(self.log, "wb")
        self.proc = subprocess.Popen([rag, "serve", "--port", str(self.port)], cwd=self.workdir, env=self.env(),
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 300
        while True:
            assert self.proc.poll() is None, self.log.read_text(errors="replace")[-2000:]
            try:
                with urllib.request.urlopen(self.url, timeout=5):
                    return self
            except urllib.error.HTTPError:
                return self
            except OSError:
                assert time.monotonic() < deadline, "rag serve did not answer within 300 s"
                time.sleep(0.5)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._log.close()


@pytest.fixture(scope="module")
def fake():
    server = FakeOpenAI(api_key="sk-the-right-key").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory, fake):
    s = Server(tmp_path_factory.mktemp("security"), fake.url).start()
    yield s
    s.stop()


@pytest.fixture(scope="module")
def session(server):
    """An HTTP session logged in as the configured user."""
    with httpx.Client(base_url=server.url, timeout=60) as http:
        assert http.post("login", data={"username": USER, "password": PASSWORD}).status_code == 200
        yield http


def listening_addresses(port: int) -> set[str]:
    """Local addresses of the sockets listening on `port`, from the kernel's tables."""
    found = set()
    for table, width in (("/proc/net/tcp", 8), ("/proc/net/tcp6", 32)):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            local, state = row.split()[1], row.split()[3]
            addr, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                raw = bytes.fromhex(addr)
                words = b"".join(raw[i:i + 4][::-1] for i in range(0, len(raw), 4))
                found.add(socket.inet_ntop(socket.AF_INET if width == 8 else socket.AF_INET6, words))
    return found


def test_listens_on_loopback_only_by_default(server):
    assert listening_addresses(server.port) == {"127.0.0.1"}


def test_wrong_password_is_rejected(server):
    with httpx.Client(base_url=server.url, timeout=60) as http:
        assert http.post("login", data={"username": USER, "password": "wrong"}).status_code in (400, 401)
        assert http.get("config").status_code == 401
        assert http.post("gradio_api/call/ask", json={"data": [QUESTION]}).status_code == 401
    with pytest.raises(Exception, match="(?i)credentials|401|login"):
        gradio_client.Client(server.url, auth=(USER, "wrong"), verbose=False)


def test_right_password_answers_and_the_api_key_is_never_shown_or_logged(server, fake):
    result = gradio_client.Client(server.url, auth=(USER, PASSWORD), verbose=False).predict(QUESTION, api_name="/ask")
    assert "August 12" in result["answer"]
    assert result["notice"] == "LLM unavailable (HTTP 401, check OPENAI_API_KEY); showing the extractive answer"
    sent = [r["_headers"]["authorization"] for r in fake.requests]
    assert f"Bearer {SECRET}" in sent, "the key must have reached the LLM server, which echoed it in its 401 body"
    assert SECRET not in json.dumps(result)
    assert SECRET not in server.log.read_text(errors="replace")
    out = run_rag("ask", QUESTION, "--answerer", "openai", "--json", env={**server.env(), "RAG_CONFIG": str(server.workdir / "rag.toml")})
    assert out.returncode == 0 and "August 12" in out.stdout, out.stderr
    assert SECRET not in out.stdout + out.stderr


def test_api_key_and_password_are_not_in_the_page_config(session):
    config = session.get("config")
    assert config.status_code == 200
    assert SECRET not in config.text and PASSWORD not in config.text


@pytest.mark.parametrize("target", ["/etc/passwd", "..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd", "{workdir}/rag.toml",
                                    "{index}/chroma.sqlite3", f"{ROOT}/README.md", f"{SEEDS}/000_d87944a161c7f26e.txt"])
def test_no_file_outside_the_index_is_served(server, session, target):
    path = target.format(workdir=server.workdir, index=server.index_dir)
    r = session.get(f"gradio_api/file={path}")
    assert r.status_code == 403, r.status_code
    for route in (f"file={path}", f"gradio_api/file/{path}"):
        r = session.get(route)
        assert r.status_code in (403, 404), (route, r.status_code)
        assert "root:" not in r.text and PASSWORD not in r.text


def test_the_file_route_serves_a_users_own_upload(session):
    """The route the previous test probes is the live one: an upload is read back through it."""
    uploaded = session.post("gradio_api/upload", files={"files": ("note.txt", b"uploaded by the reader")})
    assert uploaded.status_code == 200, uploaded.text
    r = session.get(f"gradio_api/file={uploaded.json()[0]}")
    assert r.status_code == 200 and r.text == "uploaded by the reader"


def _ui_event(session, elem_id: str, event: str, data: list, event_data: dict | None = None) -> list:
    """Runs the UI's handler for `event` on component `elem_id` through the frontend's own queue route."""
    config = session.get("config").json()
    target = next(c["id"] for c in config["components"] if c.get("props", {}).get("elem_id") == elem_id)
    fn_index = next(i for i, d in enumerate(config["dependencies"]) if [target, event] in d["targets"])
    session_hash = uuid.uuid4().hex
    joined = session.post("gradio_api/queue/join", json={"data": data, "event_data": event_data, "fn_index": fn_index,
                                                         "trigger_id": target, "session_hash": session_hash})
    assert joined.status_code == 200, joined.text
    with session.stream("GET", "gradio_api/queue/data", params={"session_hash": session_hash}) as events:
        for line in events.iter_lines():
            if line.startswith("data:"):
                message = json.loads(line[5:])
                if message.get("msg") == "process_completed":
                    assert message.get("success"), message
                    return message["output"]["data"]
    raise AssertionError(f"no reply to the {elem_id} {event} event")


def _article_event(session, doc_id: str) -> str:
    """What the UI shows when a source card asks to open `doc_id`."""
    return _ui_event(session, "sources", "click", [], {"doc_id": doc_id, "start": -1, "end": -1})[0]


def test_the_ui_article_route_opens_indexed_articles_only(session):
    shown = _article_event(session, "000_d87944a161c7f26e.txt")
    assert "August 12" in shown
    for doc_id in OUTSIDE_IDS:
        shown = _article_event(session, doc_id)
        assert "no indexed article with id" in shown and "root:" not in shown and PASSWORD not in shown, shown


def test_an_upload_named_with_a_path_lands_in_the_uploads_folder_only(server, session):
    name = "../../../escape-attempt.txt"
    body = b"date 2025-09-03\nZorvex Ltd opens office\nZorvex Ltd opened an office in Tallinn on Tuesday.\n"
    uploaded = session.post("gradio_api/upload", files={"files": (name, body)})
    assert uploaded.status_code == 200, uploaded.text
    report = _ui_event(session, "upload", "upload", [[{"path": uploaded.json()[0], "orig_name": name,
                                                       "meta": {"_type": "gradio.FileData"}}]])[0]
    assert "escape" in report and "1 article added" in report, report
    inside = server.index_dir / "uploads" / "escape-attempt.txt"
    assert list(server.workdir.rglob("escape-attempt.txt")) == [inside] and inside.read_bytes() == body
    assert not any((folder / "escape-attempt.txt").exists() for folder in server.workdir.parents[:3])


@pytest.mark.parametrize("doc_id", OUTSIDE_IDS)
def test_article_lookup_never_reads_files(seeded_rag, doc_id):
    with pytest.raises(RagError, match="no indexed article with id"):
        seeded_rag.article(doc_id)
