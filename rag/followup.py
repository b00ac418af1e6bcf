"""Turn an elliptical follow-up ("and who led the Chinese side?") into a standalone question."""
from __future__ import annotations

import re

from .cite import content_terms

_ELLIPTIC = re.compile(r"^\s*(and|but|also|so|what about|how about|and what|and who|and when|and where|then)\b"
                       r"|\b(he|she|they|them|his|her|their|it|its|that|those|this|these|there|the same)\b", re.I)


def standalone(question: str, history: list[str] | None) -> str:
    """Adds the previous question's key words when the follow-up leans on it; otherwise returns it unchanged."""
    if not history:
        return question
    previous = history[-1]
    if not _ELLIPTIC.search(question) and len(content_terms(question)) > 3:
        return question
    q = re.sub(r"^\s*(and|but|also|so|then)\s*,?\s*", "", question, flags=re.I).strip()
    q = q[:1].upper() + q[1:]
    missing = [w for w in re.findall(r"[\w’'\-]+", previous)
               if w.lower() in content_terms(previous) and w.lower() not in content_terms(q)]
    return f"{q.rstrip('?')} ({' '.join(missing)})?" if missing else q
