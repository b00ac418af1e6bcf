"""An LLM judge for the eval harness: asks the configured OpenAI-compatible endpoint whether an answer is correct.

String matching misses paraphrases ("mid-August" for "August 12"); a judge model catches them. Its reply is
never trusted to be well formed: anything but a JSON verdict, and any failed request, leaves the question
"unjudged" (counted, never a crash).
"""
from __future__ import annotations

import json

from .llm_client import LLMClient, LLMFailure
from .errors import RagError
from .types import Verdict

SYSTEM = """You grade answers to questions about news articles.
The user message is a JSON object with "question", "accepted_answers" and "answer".
The answer is correct if it states the same fact as one of the accepted answers (any wording, extra detail \
and citation markers like [1] are fine) and does not contradict it. If "accepted_answers" is empty, the \
articles do not contain the answer, and the answer is correct only if it says it could not find it.
Reply with only a JSON object: {"correct": true or false, "reason": "<one short sentence>"}"""


class Judge:
    """One chat request per answer, through the same client, timeout and retries as the OpenAI answerer."""

    def __init__(self, settings):
        self.llm = LLMClient(settings)
        if self.llm.unavailable:
            raise RagError(f"the LLM judge needs an endpoint: {self.llm.unavailable} and no RAG_LLM_BASE_URL")
        self.label = self.llm.label

    def messages(self, question: str, gold: list[str], answer: str) -> list[dict]:
        user = json.dumps({"question": question, "accepted_answers": gold, "answer": answer}, ensure_ascii=False)
        return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]

    def __call__(self, question: str, gold: list[str], answer: str) -> tuple[Verdict, str | None]:
        """The verdict, plus a failure notice when the request itself failed."""
        try:
            reply = self.llm.complete(self.messages(question, gold, answer))
        except LLMFailure as e:
            return Verdict(None, f"judge request failed: {e}"), str(e)
        return parse(reply), None


def parse(reply: str) -> Verdict:
    """The first JSON object in the reply (fences and chatter around it are tolerated); `correct` must be a bool."""
    reply = reply or ""
    try:
        data = json.JSONDecoder().raw_decode(reply, reply.index("{"))[0]
    except ValueError:  # no "{" at all, or not JSON from there
        data = None
    if not isinstance(data, dict) or not isinstance(data.get("correct"), bool):
        return Verdict(None, f"malformed verdict: {' '.join(reply.split())[:120]!r}")
    return Verdict(data["correct"], " ".join(str(data.get("reason", "")).split())[:300])
