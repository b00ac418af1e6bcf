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
from .base import Passage, cite_sentence, quote_lines, reports_differ

# A copy keeps at least this share of the longer sentence's words, and MIN_KEPT words: "Simona Halep Wins
# Wimbledon Women's Singles Title" keeps 5 of 7 words of its copy naming Ashleigh Barty
SIMILAR, MIN_KEPT = 0.6, 4
# the quoted sentence alone, then with 1 and 2 neighbours each side: a snippet split at "Director." or
# "Release date." puts the value a sentence or two from the words a copy keeps
WIDTHS = (0, 1, 2)
# values a word-level comparison splits ("7, 2018" of "September 7, 2018"); a name's changed words are the name
_VALUES = ("DATE", "TIME", "MONEY", "PERCENT", "QUANTITY", "CARDINAL")
_EDGE = ".,;:!?()[]“”\"'‘’…"


@dataclass(frozen=True)
class Copy:
    """Another passage's copy of a quoted sentence: where each copy's changed value is (the sentence holding it,
    as offsets into its article), and the value each copy gives."""

    passage: Passage
    start: int
    end: int
    ours: str  # the words of the quoted sentence that the copy changes
    theirs: str  # what the copy says instead
    our_start: int
    our_end: int


def changed_copies(cited: Passage, start: int, end: int, answer: str, passages: list[Passage]) -> list[Copy]:
    """The copies, in other articles among `passages`, of the sentence `cited.article[start:end]` that change
    exactly one run of its words, a run the `answer` line gives and the copy's words do not: one copy for each
    different value, best-ranked passage first. The sentence is compared alone, then with its neighbours in the
    passage: a search snippet or a wire lead splits into a dateline ("Nov 30, 2017 ...") and the sentence that
    names the answer, and the model's citation may quote either."""
    said = content_terms(answer)
    found: dict[str, Copy] = {}
    ours_all = sentence_spans(cited.article, min(start, cited.hit.start), max(end, cited.hit.end))
    others = [(p, sentence_spans(p.article, p.hit.start, p.hit.end)) for p in passages
              if p.hit.doc_id != cited.hit.doc_id]
    for i, (qs, qe) in enumerate(ours_all):
        if qe <= start or qs >= end:
            continue
        # at a passage's edge a wider window is clipped to the narrower one: compared once
        windows = dict.fromkeys(tuple(ours_all[max(0, i - width):i + width + 1]) for width in WIDTHS)
        for window in windows:
            for p, theirs_all in others:
                for j in range(len(theirs_all) - len(window) + 1):
                    other = theirs_all[j:j + len(window)]
                    change = _one_change(cited.article, window, p.article, other)
                    if change and content_terms(change[0]) & said and not content_terms(change[1]) <= said:
                        found.setdefault(change[1].lower(), Copy(p, *change[3], change[0], change[1], *change[2]))
            if found:
                return list(found.values())
    return list(found.values())


def _one_change(text: str, ours: list[tuple[int, int]], other_text: str, other: list[tuple[int, int]]):
    """(our value, their value, our sentence's span, their sentence's span) when the sentences `other` of
    `other_text` are the sentences `ours` of `text` with one run of words replaced (keeping `SIMILAR` of the
    words and `MIN_KEPT`), or with several runs inside one value ("October 19, 2011" / "Oct 19, 2021"); else
    None."""
    a, b = _words(text, ours), _words(other_text, other)
    if not a or not 0.7 <= (other[-1][1] - other[0][0]) / max(ours[-1][1] - ours[0][0], 1) <= 1.4:
        return None
    matcher = SequenceMatcher(None, [text[x:y] for x, y in a], [other_text[x:y] for x, y in b], autojunk=False)
    if matcher.real_quick_ratio() < SIMILAR or matcher.quick_ratio() < SIMILAR:  # bounds: most windows stop here
        return None
    ops = matcher.get_opcodes()
    changes = [op for op in ops if op[0] != "equal"]
    if not changes:
        return None
    i1, i2, j1, j2 = changes[0][1], changes[-1][2], changes[0][3], changes[-1][4]
    kept = sum(x2 - x1 for tag, x1, x2, _, _ in ops if tag == "equal" and (x2 <= i1 or x1 >= i2))
    if i1 == i2 or j1 == j2 or kept < MIN_KEPT or kept < SIMILAR * max(len(a), len(b)):
        return None
    mine, theirs = _whole(text, a[i1][0], a[i2 - 1][1]), _whole(other_text, b[j1][0], b[j2 - 1][1])
    if len(changes) > 1 and not (mine.one_value and theirs.one_value):  # several runs, not inside one value
        return None
    if not content_terms(theirs.text):
        return None
    return mine.text, theirs.text, _holding(ours, mine.start), _holding(other, theirs.start)


def _words(text: str, sentences: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The words of `sentences`, as (start, end) offsets into `text`."""
    return [(s + m.start(), s + m.end()) for s, e in sentences for m in re.finditer(r"\S+", text[s:e])]


def _holding(sentences: list[tuple[int, int]], offset: int) -> tuple[int, int]:
    """The sentence among `sentences` that holds `offset`."""
    return next((s, e) for s, e in sentences if s <= offset < e)


@dataclass(frozen=True)
class _Value:
    start: int
    text: str
    one_value: bool  # the words changed lie inside one value the NER found


def _whole(text: str, start: int, end: int) -> _Value:
    """The changed words text[start:end] grown to the values (spaCy's NER) they are part of: "7, 2018" of
    "September 7, 2018" changed to "1, 2020" is one date changed to another."""
    sentence = next(((s, e) for s, e in sentence_spans(text, start, end) if s <= start < e), (start, end))
    one = False
    for s, e, _ in entities(text[sentence[0]:max(end, sentence[1])], _VALUES):
        s, e = s + sentence[0], e + sentence[0]
        if s < end and start < e:
            one = one or (s <= start and end <= e)
            start, end = min(start, s), max(end, e)
    value = text[start:end]
    lead = len(value) - len(value.lstrip(_EDGE))
    return _Value(start + lead, value.strip(_EDGE), one)


def with_copies(answer: Answer, passages: list[Passage]) -> Answer:
    """`answer`, or where the sentence one of its citations quotes has changed copies (`changed_copies`),
    "Reports differ: X [1]; Y [2]", newest article first, each value cited to its own copy
    (`diagnostics["single_answer"]` keeps the answer line it replaces). A small model reads one copy and never
    says they differ (RGB dev: it took the counterfeit value alone 10 times of 50)."""
    by_id = {p.hit.doc_id: p for p in passages}
    for c in answer.citations:
        if c.doc_id not in by_id or not (copies := changed_copies(by_id[c.doc_id], c.start, c.end, answer.answer,
                                                                   passages)):
            continue
        sides = [(c.published_at, copies[0].ours, by_id[c.doc_id], copies[0].our_start, copies[0].our_end),
                 *((x.passage.hit.published_at, x.theirs, x.passage, x.start, x.end) for x in copies)]
        sides.sort(key=lambda side: side[0] or "", reverse=True)
        citations = [cited for n, (_, _, p, s, e) in enumerate(sides, 1) if (cited := cite_sentence(n, p, s, e))]
        if len(citations) < len(sides):
            continue
        line = reports_differ([f"{value} [{n}]" + (f" (reported {date})" if date else "")
                               for n, (date, value, *_) in enumerate(sides, 1)])
        return Answer(text=f"{line}\n\n{quote_lines(citations)}", citations=citations, abstained=False,
                      answer=line, answerer=answer.answerer, timings=answer.timings,
                      notice="copies of one report give different values: each is shown",
                      diagnostics={**{k: v for k, v in answer.diagnostics.items() if k != "part_answers"},
                                   "single_answer": answer.answer, "conflict": len(citations)})
    return answer
