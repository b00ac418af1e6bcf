"""Answerers turn numbered passages into an Answer whose every [n] is a verified, quoted citation.

They share one protocol (`base.Answerer`: `request` says how many passages it wants, `stream` yields text
pieces then one Answer) and are made by name from `ANSWERERS`; an LLM answerer falls back to the local one.
"""
from __future__ import annotations

import sys
from importlib import import_module

from ..errors import RagError
from .base import Answerer, Context, Passage, Request, abstention, cite_sentence

# name -> (module, class); imported only when chosen, so the local answerer never loads an HTTP client or model
ANSWERERS = {
    "local": ("rag.answer.local", "LocalAnswerer"),
    "openai": ("rag.answer.llm", "OpenAIAnswerer"),
    "local-llm": ("rag.answer.local_llm", "LocalLLMAnswerer"),
}


AUTO = "auto"


def resolve(name: str) -> str:
    """The answerer `name` stands for: "auto" is "local-llm" when the `llm` extra is installed and the machine
    has the memory the model needs (or has it loaded already), else "local"; any other name is itself.

    Measured on every dev-suite question (README, "The default, by measurement"): the local LLM is right more
    often than the extractive answerer on RGB dev (0.72 vs 0.48) and RealTime QA dev (0.641 vs 0.369), at a
    p50 of 4.4-9.3 s a question on 2 cores."""
    if name != AUTO:
        return name
    from ..models import LLM_RESIDENT_GB, available_memory_gb, llm_installed

    running = sys.modules.get(f"{__name__}.local_llm")  # a model this process loaded needs no more memory
    free = available_memory_gb()
    roomy = free is None or free >= LLM_RESIDENT_GB or bool(running and running._RUNNERS)
    return "local-llm" if llm_installed() and roomy else "local"


def create(name: str, settings, local: Answerer) -> Answerer:
    """The answerer called `name` ("auto": see `resolve`); `local` is the extractive answerer, itself for
    "local" and the fallback of the others. RagError listing the valid names when `name` is unknown."""
    name = resolve(name)
    if name not in ANSWERERS:
        raise RagError(f"unknown answerer {name!r}; use one of: {', '.join(map(repr, (AUTO, *ANSWERERS)))}")
    if name == "local":
        return local
    module, cls = ANSWERERS[name]
    return getattr(import_module(module), cls)(settings, fallback=local)


__all__ = ["ANSWERERS", "AUTO", "resolve", "Answerer", "Context", "Passage", "Request", "abstention", "cite_sentence", "create"]
