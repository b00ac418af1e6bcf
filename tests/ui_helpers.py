"""Shared by the UI tests: run the real app (`python app.py`) on a free port against a temporary index."""
from __future__ import annotations

import os
from contextlib import contextmanager
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SEEDS = REPO / "seeds"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
START_TIMEOUT = float(os.environ.get("RAG_UI_TEST_START_TIMEOUT", "300"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AppServer:
    """`python app.py` in a subprocess; `url` answers HTTP once `start()` returns; `stop()` kills it by PID.
    `env`: variables set for the app besides its index and port (an LLM's URL, say)."""

    def __init__(self, workdir: Path, env: dict[str, str] | None = None):
        self.workdir, self.extra_env = workdir, env or {}
        self.index_dir = workdir / "index"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        self.log_path = workdir / "server.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> "AppServer":
        env = {k: v for k, v in os.environ.items()
               if k not in {"RAG_CONFIG", "RAG_UI_USER", "RAG_UI_PASSWORD", "RAG_CHROMA_URL", "RAG_ANSWERER",
                            "RAG_LLM_BASE_URL", "RAG_OPENAI_API_KEY", "OPENAI_API_KEY"}}
        env.update(RAG_INDEX_DIR=str(self.index_dir), RAG_SEEDS_DIR=str(SEEDS), GRADIO_SERVER_NAME="127.0.0.1",
                   GRADIO_SERVER_PORT=str(self.port), PYTHONUNBUFFERED="1", RAG_ANSWERER="local")
        env.update(self.extra_env)
        self._log = open(self.log_path, "wb")
        # cwd is the temporary folder, so no rag.toml of the developer's is read
        self.proc = subprocess.Popen([sys.executable, str(REPO / "app.py")], cwd=self.workdir, env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app.py exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(self.url, timeout=5) as r:
                    if r.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"app.py did not answer HTTP within {START_TIMEOUT:.0f} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
        if getattr(self, "_log", None):
            self._log.close()


# ----------------------------------------------------------------------------------------- browser helpers

SCREENSHOTS = Path(os.environ.get("RAG_UI_SCREENSHOTS", "/tmp/rag-ui-screenshots/after"))
ANSWER_TIMEOUT_MS = 120_000
DONE = "#chat .answer-meta, #chat .error-msg"

# WCAG contrast of an element's text against the backgrounds it sits on (composited up the tree).
CONTRAST_JS = """
(el) => {
  const parse = (c) => {
    const m = c.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const p = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const fg = parse(getComputedStyle(el).color);
  const layers = [];
  for (let n = el; n; n = n.parentElement) {
    const b = parse(getComputedStyle(n).backgroundColor);
    if (b && b[3] > 0) { layers.push(b); if (b[3] >= 1) break; }
  }
  let bg = [255, 255, 255];
  for (let i = layers.length - 1; i >= 0; i--) {
    const [r, g, b, a] = layers[i];
    bg = [r * a + bg[0] * (1 - a), g * a + bg[1] * (1 - a), b * a + bg[2] * (1 - a)];
  }
  const f = fg[3] < 1 ? [0, 1, 2].map((i) => fg[i] * fg[3] + bg[i] * (1 - fg[3])) : fg.slice(0, 3);
  const lum = (c) => c.map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
                      .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const [hi, lo] = [lum(f), lum(bg)].sort((a, b) => b - a);
  return {ratio: (hi + 0.05) / (lo + 0.05), fg: getComputedStyle(el).color, bg: bg.map(Math.round).join(','),
          opaque: layers.length > 0 && layers[layers.length - 1][3] >= 1};
}
"""


def open_page(browser, url: str, width: int = 1440, height: int = 900, scheme: str = "light", **context):
    """A fresh browser context and page on the app, loaded; returns (context, page, JavaScript errors)."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, color_scheme=scheme, **context)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(url)
    pg.wait_for_selector("#question textarea")
    pg.wait_for_selector("#articles .art-count")
    return ctx, pg, errors


def ask_in(pg, question: str) -> str:
    """Types a question, clicks Ask, waits for the finished answer (or error); returns the answer bubble's text."""
    before = pg.locator(DONE).count()
    pg.fill("#question textarea", question)
    pg.click("#ask")
    pg.wait_for_function(f"n => document.querySelectorAll('{DONE}').length > n", arg=before, timeout=ANSWER_TIMEOUT_MS)
    return pg.locator("#chat [data-testid=bot]").last.inner_text()


def set_date(pg, elem_id: str, value: str) -> None:
    """Types a date into a date filter (a gr.DateTime) and submits it with Enter, as a reader does."""
    box = pg.locator(f"#{elem_id} input").first
    box.fill(value)
    box.press("Enter")


def shot(pg, name: str, full_page: bool = False) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    pg.screenshot(path=str(path), full_page=full_page)
    return path


def in_viewport(pg, selector: str) -> bool:
    box, view = pg.locator(selector).first.bounding_box(), pg.viewport_size
    return bool(box) and box["y"] >= 0 and box["y"] + box["height"] <= view["height"] and box["x"] >= 0 \
        and box["x"] + box["width"] <= view["width"]


def require_chromium() -> None:
    """Skip (fail under CI) when Debian's chromium, which the browser tests drive, is not installed."""
    import pytest

    if not Path(CHROMIUM).exists():
        reason = f"{CHROMIUM} is not installed (apt-get install chromium); browser tests need it"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@contextmanager
def chromium_browser():
    """A headless Chromium (Debian's binary) driven by Playwright, closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def browser_fixtures(name: str, env: dict[str, str] | None = None):
    """A module's `server` (the real app, `rag serve`, on a fresh index named `name`, with `env` as AppServer
    takes it) and `browser` (headless Chromium) fixtures, both module-scoped:
    `server, browser = browser_fixtures("ui_browser")`."""
    import pytest

    @pytest.fixture(scope="module")
    def server(tmp_path_factory):
        require_chromium()
        app = AppServer(tmp_path_factory.mktemp(name), env=env).start()
        yield app
        app.stop()

    @pytest.fixture(scope="module")
    def browser(server):
        with chromium_browser() as b:
            yield b

    return server, browser
