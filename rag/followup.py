"""Turn an elliptical follow-up ("and who led the Chinese side?") into a standalone question."""
from __future__ import annotations

import re

from .cite import content_terms

MARK = " (following: "
_ELLIPTIC = re.compile(r"^\s*(and|but|also|so|what about|how about|and what|and who|and when|and where|then)\b"
                       r"|\b(he|she|they|them|his|her|their|it|its|that|those|this|these|there|the same)\b", re.I)


def standalone(question: str, history: list[str] | None) -> str:
    """Appends the previous question when the follow-up leans on it; otherwise returns it unchanged.

    The appended part feeds retrieval; `focus` later separates it again, because in a follow-up the
    words that changed ("Chinese side" after "US officials") are what the answer must sit next to.
    """
    if not history:
        return question
    if not _ELLIPTIC.search(question) and len(content_terms(question)) > 3:
        return question
    q = re.sub(r"^\s*(and|but|also|so|then)\s*,?\s*", "", question, flags=re.I).strip()
    return f"{q[:1].upper()}{q[1:]}{MARK}{history[-1].strip()})"


def focus(question: str) -> tuple[str, set[str]]:
    """(the question itself, words of the earlier question it follows) for a standalone follow-up."""
    if MARK not in question:
        return question, set()
    own, previous = question.split(MARK, 1)
    return own, {w.lower() for w in re.findall(r"\w+", previous)}
