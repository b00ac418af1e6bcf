"""Where a place a sentence names stands in it, read from spaCy's parse: a place in apposition to another
("Palm Beach, Florida"). Used by `rag.answer.phrases` for the place that answers "where"; callers pass sentences
already cut to the length they read for entities."""
from __future__ import annotations

from ..nlp import entities, parse


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
