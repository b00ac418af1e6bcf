"""Citation checks in code: a quote must sit verbatim at its offsets, and a claim must be backed by its quote."""
from __future__ import annotations

import re

from .text import FILLER, MONTHS, stem
from .types import Citation

_WORD = re.compile(r"[A-Za-z][A-Za-z’'\-]+|\d[\d,.]*")
_BETWEEN_SOURCES = set("report reports reported differ differs disagree disagrees earlier later newer older newest "
                       "latest previous another other others names named whereas however while version versions "
                       "article articles source sources".split())
_MONTHS = {m[:3]: m for m in MONTHS}


def quote_ok(c: Citation, article: str) -> bool:
    return bool(c.quote.strip()) and 0 <= c.start < c.end <= len(article) and article[c.start:c.end] == c.quote


def content_terms(text: str) -> set[str]:
    out = set()
    for w in _WORD.findall(text.lower()):
        w = w.strip(".,’'-")
        if not w or w in FILLER or (len(w) < 3 and not w[0].isdigit()):
            continue
        out.add(_MONTHS.get(w[:3], w) if w[:3] in _MONTHS and len(w) <= 9 else w.replace(",", ""))
    return out


def support(claim: str, quotes: list[str]) -> float:
    """Share of the claim's content words found in the quotes; numbers and dates must all be there. Words
    that relate the sources to each other ("reports differ", "an earlier report names") are no claim."""
    claim_terms = content_terms(re.sub(r"\[\d+\]", " ", claim)) - _BETWEEN_SOURCES
    if not claim_terms:
        return 1.0
    quote_terms = set().union(*(content_terms(q) for q in quotes)) if quotes else set()
    quote_stems = {stem(t) for t in quote_terms}
    numbers = {t for t in claim_terms if t[0].isdigit()}
    if numbers - quote_terms:
        return 0.0
    found = sum(1 for t in claim_terms if t in quote_terms or stem(t) in quote_stems)
    return found / len(claim_terms)
