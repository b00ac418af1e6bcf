"""An OpenAI-compatible chat client with retries, shared by the OpenAI answerer and the LLM judge.

Any OpenAI-style server works (OpenAI, vLLM, llama.cpp server, Ollama) through `llm_base_url`. Every
failure becomes an `LLMFailure` whose message is safe to show: built from the error's type, never from the
server's body or the key.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from urllib.parse import urlparse

import openai

log = logging.getLogger(__name__)

OPENAI_URL = "https://api.openai.com/v1"
MAX_WAIT = 20.0  # seconds; caps both backoff and a server's Retry-After


class LLMFailure(Exception):
    """A request that failed for good; its message is safe to show (no key, no server body)."""


class LLMClient:
    """Chat completions from one model on one server. `unavailable` says why no request can be made
    (OpenAI's own endpoint without a key), else None."""

    backoff = 0.5  # seconds before the first retry; doubles each time
    request_options: dict = {}  # extra chat-completion parameters (e.g. temperature)

    def __init__(self, settings):
        self.model, self.timeout, self.retries = settings.llm.llm_model, settings.llm.llm_timeout, settings.llm.llm_retries
        self.base_url = (settings.llm.llm_base_url or OPENAI_URL).rstrip("/")
        key = settings.llm.openai_api_key
        self.unavailable = "no OPENAI_API_KEY set" if not key and "api.openai.com" in self.base_url else None
        # local servers usually ignore the key, but the client requires one
        self.client = openai.OpenAI(base_url=self.base_url, api_key=key or "not-needed", timeout=self.timeout,
                                    max_retries=0)

    @property
    def label(self) -> str:
        return f"openai:{self.model}"

    def complete(self, messages: list[dict]) -> str:
        """One whole reply; raises LLMFailure."""
        return "".join(self.generate(messages, stream=False))

    def generate(self, messages: list[dict], stream: bool) -> Iterator[str]:
        """Text deltas; retries (backoff, Retry-After) only before the first delta, so nothing repeats.
        Raises LLMFailure."""
        attempt, started = 0, False
        while True:
            attempt += 1
            try:
                if stream:
                    with self.client.chat.completions.create(model=self.model, messages=messages, stream=True,
                                                             **self.request_options) as chunks:  # closed even if abandoned
                        for chunk in chunks:
                            delta = chunk.choices[0].delta.content if chunk.choices else None
                            if delta:
                                started = True
                                yield delta
                else:
                    reply = self.client.chat.completions.create(model=self.model, messages=messages,
                                                                **self.request_options)
                    yield reply.choices[0].message.content or ""
                return
            except Exception as e:  # noqa: BLE001 — every failure becomes an LLMFailure, never a crash
                wait = None if started else self._retry_wait(e, attempt)
                if wait is None:
                    raise LLMFailure(self._describe(e, attempt)) from None
                log.info("LLM request failed (%s); retry %d in %.1fs", self._describe(e, attempt), attempt, wait)
                time.sleep(wait)

    def _retry_wait(self, e: Exception, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None when retrying cannot help."""
        if attempt > self.retries:
            return None
        if isinstance(e, openai.APIStatusError):
            if e.status_code not in (408, 409, 429) and e.status_code < 500:
                return None
            after = _retry_after(e.response.headers.get("retry-after"))
            if after is not None:
                return min(after, MAX_WAIT)
        elif not isinstance(e, openai.APIConnectionError):  # includes timeouts
            return None
        return min(self.backoff * 2 ** (attempt - 1), MAX_WAIT)

    def _describe(self, e: Exception, attempt: int) -> str:
        """A short reason built from the error's type, never from its message (which may echo the key)."""
        tries = f" after {attempt} tries" if attempt > 1 else ""
        if isinstance(e, openai.APIStatusError):
            hint = {401: ", check OPENAI_API_KEY", 403: ", check OPENAI_API_KEY", 404: f", check model {self.model!r}"}
            return f"HTTP {e.status_code}{tries}{hint.get(e.status_code, '')}"
        if isinstance(e, openai.APITimeoutError):
            return f"timed out ({self.timeout:g} s limit){tries}"
        if isinstance(e, openai.APIConnectionError):
            return f"cannot connect to {_host(self.base_url)}{tries}"
        if isinstance(e, (ValueError, LookupError, AttributeError, TypeError, openai.APIResponseValidationError)):
            return "malformed response from the server"
        return f"{type(e).__name__}{tries}"


def _host(url: str) -> str:
    """scheme://host:port only, so credentials or tokens in the URL never reach a message."""
    u = urlparse(url)
    return f"{u.scheme}://{u.hostname}" + (f":{u.port}" if u.port else "")


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None
