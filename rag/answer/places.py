"""Where a place a sentence names stands in it, read from spaCy's parse: a place in apposition to another
("Palm Beach, Florida"), or the object of a locative preposition ("talks in Stockholm") rather than a party to
what happens ("China said"; a dateline's "BEIJING:" is neither). Used by `rag.answer.phrases` to pick the place
that answers "where"; callers pass sentences already cut to the length they read for entities."""
from __future__ import annotations

from ..nlp import entities, parse

_LOCATIVE = frozenset({"in", "at", "near", "inside", "outside", "across", "throughout"})


def placed(sentence: str, start: int, end: int) -> tuple[int, int]:
    """A place's span with the places that locate it written after it ("Palm Beach, Florida"): the NER tags
    each name on its own, and the town alone leaves its state out of a "where" answer. The parse tells a
    place in apposition from the next clause's subject ("… in Stockholm, Beijing sought …")."""
    places = {s: e for s, e, _ in entities(sentence, ("GPE",))}
    while sentence[end:end + 2] == ", " and end + 2 in places:
        after = parse(sentence).char_span(end + 2, places[end + 2], alignment_mode="expand")
        if after is None or after.root.dep_ != "appos" or not start <= after.root.head.idx < end:
            break
        end = places[end + 2]
    return start, end


def located(sentence: str, start: int, end: int) -> bool:
    """Whether the place at [start, end) is where something is (the object of a locative preposition, "talks
    in Stockholm"), not a party to it ("China said", "talks with the U.S.")."""
    span = parse(sentence).char_span(start, end, alignment_mode="expand") if end <= len(sentence) else None
    return span is not None and span.root.dep_ == "pobj" and span.root.head.lower_ in _LOCATIVE
