"""Sentence spans with exact offsets, so every quote we show can be located in its article."""
from __future__ import annotations

import re

_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s)|\n+")
_ABBREV = re.compile(r"(?:\b(?:[A-Z]\.)+|\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Gov|Sen|Rep|Gen|Lt|Col|Inc|Corp|Co|Ltd|No|vs|etc|"
                     r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.)$")


def sentence_spans(text: str, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """Whole sentences of `text` that overlap [lo, hi), trimmed of surrounding whitespace."""
    hi = len(text) if hi is None else hi
    spans, start = [], 0
    for m in _END.finditer(text):
        if m.group().startswith(("\n",)) or not _ABBREV.search(text[max(0, m.start() - 12):m.start() + 1]):
            spans.append((start, m.end()))
            start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s and e > lo and s < hi:
            out.append((s, e))
    return out
