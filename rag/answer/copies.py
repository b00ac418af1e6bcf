"""Copies of one sentence that give different values: two outlets' versions of one wire story, one updated,
corrected or counterfeit ("Ashleigh Barty defeated Karolína Plíšková …" / "Simona Halep defeated Karolína
Plíšková …"). An answer that takes its value from one copy gives one side of a disagreement when another
retrieved passage holds the same sentence with that value changed."""
from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from ..cite import content_terms
from ..nlp import entities
from ..text import sentence_spans
from ..types import Answer
from .base import Passage, cite_sentence, quote_lines

# A copy keeps at least this share of the longer sentence's words, and MIN_KEPT words: "Simona Halep Wins
# Wimbledon Women's Singles Title" keeps 5 of 7 words of its copy naming Ashleigh Barty
SIMILAR, MIN_KEPT = 0.6, 4
# values a word-level comparison splits ("7, 2018" of "September 7, 2018"); a name's changed words are the name
_VALUES = ("DATE", "TIME", "MONEY", "PERCENT", "QUANTITY", "CARDINAL")
_EDGE = ".,;:!?()[]“”\"'‘’…"


@dataclass(frozen=True)
class Copy:
    """Another passage's copy of a quoted sentence: where it is, and the value each copy gives."""

    passage: Passage
    start: int
    end: int
    ours: str  # the words of the quoted sentence that the copy changes
    theirs: str  # what the copy says instead


def changed_copies(quote: str, doc_id: str, answer: str, passages: list[Passage]) -> list[Copy]:
    """The copies, in other articles among `passages`, of a sentence of `quote` (from article `doc_id`) that
    change exactly one run of its words, a run the `answer` line gives and the copy's words do not: one copy
    for each different value, best-ranked passage first."""
    said = content_terms(answer)
    found: dict[str, Copy] = {}
    for qs, qe in sentence_spans(quote):
        ours = quote[qs:qe]
        for p in passages:
            if p.hit.doc_id == doc_id:
                continue
            for s, e in sentence_spans(p.article, p.hit.start, p.hit.end):
                change = _one_change(ours, p.article[s:e])
                if change and content_terms(change[0]) & said and not content_terms(change[1]) <= said:
                    found.setdefault(change[1].lower(), Copy(p, s, e, *change))
    return list(found.values())


def _one_change(ours: str, other: str) -> tuple[str, str] | None:
    """The value `ours` gives and the one `other` gives instead, when `other` is `ours` with one run of words
    replaced (keeping `SIMILAR` of the words and `MIN_KEPT`); else None."""
    if other == ours or not 0.7 <= len(other) / max(len(ours), 1) <= 1.4:
        return None
    a, b = ([(m.start(), m.end()) for m in re.finditer(r"\S+", text)] for text in (ours, other))
    ops = SequenceMatcher(None, [ours[x:y] for x, y in a], [other[x:y] for x, y in b], autojunk=False).get_opcodes()
    changes = [op for op in ops if op[0] != "equal"]
    kept = sum(i2 - i1 for tag, i1, i2, _, _ in ops if tag == "equal")
    if len(changes) != 1 or changes[0][0] != "replace" or kept < MIN_KEPT or kept < SIMILAR * max(len(a), len(b)):
        return None
    _, i1, i2, j1, j2 = changes[0]
    mine, theirs = _whole(ours, a[i1][0], a[i2 - 1][1]), _whole(other, b[j1][0], b[j2 - 1][1])
    return (mine, theirs) if content_terms(theirs) else None


def _whole(sentence: str, start: int, end: int) -> str:
    """The changed words grown to the value (spaCy's NER) they are part of: "7, 2018" of "September 7, 2018"
    changed to "1, 2020" is one date changed to another."""
    for s, e, _ in entities(sentence, _VALUES):
        if s < end and start < e:
            start, end = min(start, s), max(end, e)
    return sentence[start:end].strip(_EDGE)


def with_copies(answer: Answer, passages: list[Passage]) -> Answer:
    """`answer`, or where the sentence one of its citations quotes has changed copies (`changed_copies`),
    "Reports differ: X [1]; Y [2]", newest article first, each value cited to its own copy
    (`diagnostics["single_answer"]` keeps the answer line it replaces). A small model reads one copy and never
    says they differ (RGB dev: it took the counterfeit value alone 10 times of 50)."""
    by_id = {p.hit.doc_id: p for p in passages}
    for c in answer.citations:
        copies = changed_copies(c.quote, c.doc_id, answer.answer, passages) if c.doc_id in by_id else []
        if not copies:
            continue
        sides = [(c.published_at, copies[0].ours, by_id[c.doc_id], c.start, c.end),
                 *((x.passage.hit.published_at, x.theirs, x.passage, x.start, x.end) for x in copies)]
        sides.sort(key=lambda side: side[0] or "", reverse=True)
        citations = [cited for n, (_, _, p, s, e) in enumerate(sides, 1) if (cited := cite_sentence(n, p, s, e))]
        if len(citations) < len(sides):
            continue
        line = "Reports differ: " + "; ".join(
            f"{value} [{n}]" + (f" (reported {date})" if date else "") for n, (date, value, *_) in enumerate(sides, 1))
        return Answer(text=f"{line}\n\n{quote_lines(citations)}", citations=citations, abstained=False,
                      answer=line, answerer=answer.answerer, timings=answer.timings,
                      notice="copies of one report give different values: each is shown",
                      diagnostics={**answer.diagnostics, "single_answer": answer.answer, "conflict": len(citations)})
    return answer
