"""Citation checks in code: a quote must sit verbatim at its offsets, and a claim must be backed by its quote."""
from __future__ import annotations

import re

from .types import Citation

_WORD = re.compile(r"[A-Za-z][A-Za-z’'\-]+|\d[\d,.]*")
_FILLER = set("the a an of to in on at for and or is are was were be been being does did do what which who whom whose "
              "when where why how with by from that this these those it its as has have had will would can could may "
              "might should shall said says say according also not no yes there their they them he she his her we our "
              "you your i me my per than then so such but if into over under about after before between both each "
              "while during up down out more most less least very just only set".split()
              # how a question frames what it asks ("How does X describe Y?", "Who is quoted in the
              # articles?"); the answer rarely repeats it
              + "describe describes described characterize characterizes characterized quoted articles "
                "coverage".split())
_BETWEEN_SOURCES = set("report reports reported differ differs disagree disagrees earlier later newer older newest "
                       "latest previous another other others names named whereas however while version versions "
                       "article articles source sources".split())
_MONTHS = {m[:3]: m for m in "january february march april may june july august september october november december".split()}


def quote_ok(c: Citation, article: str) -> bool:
    return bool(c.quote.strip()) and 0 <= c.start < c.end <= len(article) and article[c.start:c.end] == c.quote


def content_terms(text: str) -> set[str]:
    out = set()
    for w in _WORD.findall(text.lower()):
        w = w.strip(".,’'-")
        if not w or w in _FILLER or (len(w) < 3 and not w[0].isdigit()):
            continue
        out.add(_MONTHS.get(w[:3], w) if w[:3] in _MONTHS and len(w) <= 9 else w.replace(",", ""))
    return out


def _stem(w: str) -> str:
    return re.sub(r"(ing|ed|es|s)$", "", w) if len(w) > 4 else w


def support(claim: str, quotes: list[str]) -> float:
    """Share of the claim's content words found in the quotes; numbers and dates must all be there. Words
    that relate the sources to each other ("reports differ", "an earlier report names") are no claim."""
    claim_terms = content_terms(re.sub(r"\[\d+\]", " ", claim)) - _BETWEEN_SOURCES
    if not claim_terms:
        return 1.0
    quote_terms = set().union(*(content_terms(q) for q in quotes)) if quotes else set()
    quote_stems = {_stem(t) for t in quote_terms}
    numbers = {t for t in claim_terms if t[0].isdigit()}
    if numbers - quote_terms:
        return 0.0
    found = sum(1 for t in claim_terms if t in quote_terms or _stem(t) in quote_stems)
    return found / len(claim_terms)
