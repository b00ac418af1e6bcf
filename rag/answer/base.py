"""What every answerer shares: the `Answerer` protocol, the passages and context it is given, and how a
citation is made and checked."""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from ..cite import content_terms, quote_ok
from ..dates import annotate, names_year, relative_dates
from ..nlp import NAME_LABELS, entities
from ..text import prefix, sentence_spans
from ..types import Answer, Citation, Hit, Turn
from .countries import countries

NOT_FOUND = "I could not find this in the indexed articles."


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk numbered for the answerer, with its whole article for exact quoting."""

    n: int
    hit: Hit
    article: str


@dataclass(frozen=True)
class Context:
    """What an answerer may read besides its numbered passages.

    `others`: passages retrieved beyond them, read only for a report that disagrees with the answer.
    `history`: earlier turns, oldest first. `follows`: the earlier question a follow-up was searched
    together with (rag/followup.py), whose words are context rather than what is asked. `referent`: the
    person a follow-up's pronoun was resolved to, named in the question ("Jonas Berg" in "Who was Jonas
    Berg’s rival?"): what the conversation is about, not the answer."""

    others: tuple[Passage, ...] = ()
    history: tuple[Turn, ...] = ()
    follows: str | None = None
    referent: str | None = None


@dataclass(frozen=True)
class Request:
    """How many passages an answerer wants for a question: `k` to answer from, then `others` more as context."""

    k: int
    others: int = 0


class Answerer(Protocol):
    """Turns numbered passages into an Answer whose every [n] is a verified quote.

    `stream` yields text pieces as they are produced, then exactly one Answer."""

    name: str

    def request(self, question: str, k: int, context: Context = ...) -> Request: ...

    def condense(self, question: str, history: tuple[Turn, ...]) -> str | None:
        """A follow-up rewritten as a standalone question from the earlier turns, or None to leave it to
        rag/followup.py's rules (an answerer without a language model always does)."""

    def stream(self, question: str, passages: list[Passage], context: Context = ...) -> Iterator[str | Answer]: ...


def cite_sentence(n: int, passage: Passage, start: int, end: int) -> Citation | None:
    """A citation for article[start:end], or None when the quote is not verbatim at those offsets."""
    h = passage.hit
    quote = passage.article[start:end]
    c = Citation(n=n, doc_id=h.doc_id, title=h.title, source=h.source, published_at=h.published_at,
                 quote=quote, start=start, end=end, dates=relative_dates(quote, h.published_at))
    return c if quote_ok(c, passage.article) else None


DIFFER = "Reports differ: "


def reports_differ(heads: list[str]) -> str:
    """The answer line of a disagreement: each report's value with its citation, newest first, as given."""
    return DIFFER + "; ".join(heads)


def joined(parts: list[str]) -> str:
    """An answer line's phrases as a reader lists them: "A", "A and B", "A, B and C"."""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def resolved(phrase: str | None, sentence: str, c: Citation) -> str | None:
    """A relative date phrase of `sentence` shown with its calendar reading ("next month (August 2025)")."""
    if not phrase or phrase not in sentence:
        return phrase
    return annotate(phrase, c.published_at, sentence[:sentence.index(phrase)])


def reading_order(items: list) -> list:
    """List items (sentences with `.passage` and `.start`) in reading order, newest report first: not in score
    order, which a rewording reshuffles."""
    items = sorted(items, key=lambda x: (x.passage.hit.doc_id, x.passage.hit.start + x.start))
    return sorted(items, key=lambda x: x.passage.hit.published_at or "", reverse=True)


def quote_lines(citations: list[Citation]) -> str:
    """The numbered quotes under an answer, each with its article's date and its relative dates resolved."""
    return "\n".join(f"[{c.n}] “{c.quote}”" + (f" ({c.dated()})" if c.published_at else "") for c in citations)


def without_year(years: frozenset[str], passage: Passage) -> bool:
    """Whether the question names years (`years`) and the passage's article names none of them in its words,
    title or date: a report of another season, or one that never says which (RGB rejection: "Gurnah is being
    awarded the Nobel Prize" answered "Who was awarded the 2018 Nobel Prize?")."""
    return bool(years) and not names_year(years, f"{passage.article} {passage.hit.title}", passage.hit.published_at)


def unnamed(question: str, passages: list[Passage], unknown=lambda q: [], cased: bool = True) -> str | None:
    """A name the question gives that the evidence does not mention, or None: then the evidence is about
    something else ("Who won the Tarnby mayoral election?" over a report of Elmstad's). First a word no article
    of the corpus uses and no English word is (`unknown`: rag.lexical.Lexical.unknown, on the question as
    spelling-corrected), capitalised unless the writer used no capitals (`cased`): a word the English list
    lacks ("superstardom") is not a name. Then a person, place, organisation, facility, event or product by
    spaCy's NER that no passage's article or title uses in any of its words, or names otherwise when it is a
    country ("Swedish" for "Sweden", rag.answer.countries). Nationalities are no such name."""
    if word := next((w for w in unknown(question) if w[0].isupper() or not cased), None):
        return word
    names = entities(question, _NAMED)
    texts = list(dict.fromkeys(f"{p.hit.title} {p.article}" for p in passages)) if names else []
    have = set().union(*map(_prefixes, texts))
    for s, e, _ in names:
        words = content_terms(question[s:e])
        if words and not any(prefix(w) in have for w in words) and not _country_named(question[s:e], texts):
            return question[s:e]
    return None


@lru_cache(maxsize=256)
def _prefixes(text: str) -> frozenset[str]:
    """The word forms of an article as `unnamed` matches them; the next questions often retrieve it again."""
    return frozenset(prefix(t) for t in content_terms(text))


def _country_named(name: str, texts: list[str]) -> bool:
    """Whether `name` is a country that one of `texts` names by another of its names: "Sweden" by "Swedish"."""
    asked = countries(name)
    return bool(asked) and any(asked & countries(text) for text in texts)


_NAMED = tuple(sorted(NAME_LABELS - {"NORP"}))


def abstention(answerer: str, reason: str, notice: str | None = None, **diagnostics) -> Answer:
    return Answer(text=NOT_FOUND, citations=[], abstained=True, answer=NOT_FOUND, answerer=answerer, notice=notice,
                  diagnostics={"abstain_reason": reason, **diagnostics})


def not_mentioned(answerer: str, name: str, **diagnostics) -> Answer:
    """The abstention for a question about a name the evidence never mentions (`unnamed`), saying so."""
    return abstention(answerer, f"no passage names {name}", f"no article found mentions “{name}”", off_topic=True,
                      **diagnostics)


def final(pieces: Iterator[str | Answer]) -> Answer:
    """The Answer at the end of a stream."""
    answer = None
    for piece in pieces:
        if isinstance(piece, Answer):
            answer = piece
    return answer


def passage_text(p: Passage) -> str:
    """A passage as the model reads it: the whole sentences its chunk touches (what a citation can quote)."""
    spans = sentence_spans(p.article, p.hit.start, p.hit.end)
    return (p.article[spans[0][0]:spans[-1][1]] if spans else p.hit.text).strip()


def quote_window(text: str, focus: str, limit: int) -> tuple[int, int]:
    """Offsets into `text` (a sentence) of its quote: the whole of it, or for a run-on sentence longer than `limit`
    characters (a scraped page without punctuation) a window of whole words that long: from the sentence's start
    when `focus` ends within it, else around `focus` (the answer phrase where the sentence holds it, else the
    question's words the sentence shares)."""
    if len(text) <= limit:
        return 0, len(text)
    at = text.find(focus)
    if at < 0:
        words = content_terms(focus)
        hits = [m.start() for m in re.finditer(r"[\w’'-]+", text) if m.group().lower() in words]
        at = hits[len(hits) // 2] if hits else 0
    # the sentence's start when the answer fits after it: a quote reads best from where its sentence does
    lo = 0 if at + len(focus) <= limit - 20 else max(0, min(at - limit // 2, len(text) - limit))
    hi = lo + limit
    while lo > 0 and lo < hi and not text[lo - 1].isspace():
        lo += 1
    while hi < len(text) and hi > lo and not text[hi].isspace():
        hi -= 1
    return lo, len(text[:hi].rstrip())
