"""The `local-llm` answerer: a generative model run in this process by `mistralrs`, offline.

The model is the packaged Qwen2.5-Coder-1.5B-Instruct GGUF (`rag/models.py`), or any K-quant GGUF named by
`RAG_LOCAL_LLM_MODEL`. It is loaded lazily, once per process, and shared by every RAG object. Prompt, the
citation check and the fallback are the OpenAI answerer's: each sentence must cite a passage whose sentence
supports it, unsupported sentences are dropped, and when nothing survives the answer is the extractive one
with a one-line notice. Decoding is greedy (temperature 0, top_k 1) and short.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Iterator

from ..errors import RagError
from ..llm_client import LLMFailure
from ..models import LLM_INSTALL, LLM_RESIDENT_GB, LLM_SHA256, available_memory_gb, is_packaged_llm, llm_file
from .base import Answerer, Context, Passage
from .llm import OpenAIAnswerer, passage_text

# The closing instruction that kept a 1.5B model's citations and abstentions stable across runtimes
# (shared/notes/packaged-models.md); the system rules alone left its answers without [n]. Asked for whole
# dates, it wrote "December 1, 2017" where it had written "2018" or "September 20th" (RGB dev: 4 answers).
INSTRUCTION = ("Write one complete sentence that answers the question, followed by the number of the passage "
               "that supports it in square brackets. Give a date as fully as a passage states it, with its day, month "
               "and year. If none of the passages answers the question, write only: I cannot answer.")
_RUNNERS: dict[str, object] = {}
_LOCK = threading.Lock()  # one load per process; one generation at a time on 2 cores (max_seqs=1)


class LocalLLMAnswerer(OpenAIAnswerer):
    """The OpenAI answerer's prompt and checks over an in-process mistralrs model instead of an HTTP server."""

    name = "local-llm"

    def __init__(self, settings, fallback: Answerer | None = None):
        super().__init__(settings, fallback, client=MistralClient(settings))

    def runner(self):
        return self.client.runner()

    def fit(self, passages: list[Passage]) -> list[Passage]:
        """The leading passages whose text fits `local_llm_context_chars` (at least the first)."""
        budget, out = self.settings.llm.local_llm_context_chars, []
        for p in passages:
            budget -= len(passage_text(p))
            if out and budget < 0:
                break
            out.append(p)
        return out

    def messages(self, question: str, passages, context: Context = Context()) -> list[dict]:
        """The OpenAI answerer's messages with the closing instruction a small model needs."""
        messages = super().messages(question, passages, context)
        messages[-1] = {**messages[-1], "content": f"{messages[-1]['content']}\n\n{INSTRUCTION}"}
        return messages


class MistralClient:
    """The LLM client's interface (`generate`, `complete`) over the model loaded in this process."""

    unavailable = None  # no key or server needed

    def __init__(self, settings):
        self.path = llm_file(settings)
        self.packaged = is_packaged_llm(self.path)
        self.model, self.max_tokens = self.path.name, settings.llm.local_llm_max_tokens

    @property
    def label(self) -> str:
        return f"local-llm:{self.model}"

    def runner(self):
        """The loaded model, shared by the whole process; RagError when it cannot be loaded here."""
        # the packaged model joined into several index folders is one model: loaded once, not once per folder
        key = LLM_SHA256 if self.packaged else str(self.path.resolve())
        with _LOCK:
            if key not in _RUNNERS:
                _RUNNERS[key] = _load(self.path)
            return _RUNNERS[key]

    def complete(self, messages: list[dict]) -> str:
        return "".join(self.generate(messages, stream=False))

    def generate(self, messages: list[dict], stream: bool) -> Iterator[str]:
        """Text deltas, greedy; raises LLMFailure when generation fails."""
        runner = self.runner()
        import mistralrs

        request = mistralrs.ChatCompletionRequest(
            messages=messages, model="local", max_tokens=self.max_tokens, temperature=0.0, top_k=1, stream=True)
        try:
            with _LOCK:
                for chunk in runner.send_chat_completion_request(request):
                    delta = chunk.choices[0].delta.content if chunk.choices else None
                    if delta:
                        yield delta
        except Exception as e:  # noqa: BLE001 — a failed generation falls back to the extractive answer
            raise LLMFailure(f"local model failed: {type(e).__name__}") from None


def _load(path):
    free = available_memory_gb()
    if free is not None and free < LLM_RESIDENT_GB:
        raise RagError(f"the local LLM needs about {LLM_RESIDENT_GB:g} GB of free memory and {free:.1f} GB is "
                       "available; use --answerer local")
    os.environ.setdefault("RUST_LOG", "error")  # mistralrs logs INFO lines to stdout otherwise
    try:
        import mistralrs
    except ImportError:
        raise RagError(f"the local LLM needs mistralrs: {LLM_INSTALL}") from None
    # f32 activations: on these CPUs the default (f16) prefill ran 5-10% slower, with the same answers
    which = mistralrs.Which.GGUF(quantized_model_id=str(path.parent), quantized_filename=path.name,
                                 dtype=mistralrs.ModelDType.F32)
    return mistralrs.Runner(which=which, token_source="none", max_seqs=1)
