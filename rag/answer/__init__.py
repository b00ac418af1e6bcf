"""Answerers turn numbered passages into an Answer whose every [n] is a verified, quoted citation.

They share one protocol (`base.Answerer`: `request` says how many passages it wants, `stream` yields text
pieces then one Answer) and are made by name from `ANSWERERS`; an LLM answerer falls back to the local one.
"""
from __future__ import annotations

from importlib import import_module

from ..errors import RagError
from .base import Answerer, Context, Passage, Request, abstention, cite_sentence

# name -> (module, class); imported only when chosen, so the local answerer never loads an HTTP client or model
ANSWERERS = {
    "local": ("rag.answer.local", "LocalAnswerer"),
    "openai": ("rag.answer.llm", "OpenAIAnswerer"),
    "local-llm": ("rag.answer.local_llm", "LocalLLMAnswerer"),
}


def create(name: str, settings, local: Answerer) -> Answerer:
    """The answerer called `name`; `local` is the extractive answerer, itself for "local" and the fallback
    of the others. RagError listing the valid names when `name` is unknown."""
    if name not in ANSWERERS:
        raise RagError(f"unknown answerer {name!r}; use one of: {', '.join(map(repr, ANSWERERS))}")
    if name == "local":
        return local
    module, cls = ANSWERERS[name]
    return getattr(import_module(module), cls)(settings, fallback=local)


__all__ = ["ANSWERERS", "Answerer", "Context", "Passage", "Request", "abstention", "cite_sentence", "create"]
