"""What every answerer shares: the passages it is given and how a citation is made and checked."""
from __future__ import annotations

from dataclasses import dataclass

from ..cite import quote_ok
from ..dates import relative_dates
from ..types import Answer, Citation, Hit

NOT_FOUND = "I could not find this in the indexed articles."


@dataclass
class Passage:
    """A retrieved chunk numbered for the answerer, with its whole article for exact quoting."""

    n: int
    hit: Hit
    article: str


def cite_sentence(n: int, passage: Passage, start: int, end: int) -> Citation | None:
    """A citation for article[start:end], or None when the quote is not verbatim at those offsets."""
    h = passage.hit
    quote = passage.article[start:end]
    c = Citation(n=n, doc_id=h.doc_id, title=h.title, source=h.source, published_at=h.published_at,
                 quote=quote, start=start, end=end, dates=relative_dates(quote, h.published_at))
    return c if quote_ok(c, passage.article) else None


def abstention(answerer: str, reason: str, **diagnostics) -> Answer:
    return Answer(text=NOT_FOUND, citations=[], abstained=True, answer=NOT_FOUND, answerer=answerer,
                  diagnostics={"abstain_reason": reason, **diagnostics})
