"""Conflicting reports: articles that give different values for the thing a question asks about.

News changes week to week and outlets disagree; an extractive answer that quotes only the best
sentence hides that. Here two sentences disagree when both would answer the question on their own
(score over the abstention threshold), come from different articles (or from different speakers
quoted in one article), and either name different values of the asked kind in the same slot (the
question's words next to the value) or, for a yes/no question or one asking how someone describes
something, take opposite stances. A report that the answer's date is to move ("a likely postponement of
a mid-August deadline") is the other side of that date, and one that the answer's amount changed ("agreed
to lower tariffs on Chinese goods") the other side of that amount. A country is one word however it is
named ("tariffs on China", "on Chinese goods").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple, Protocol

from ..cite import content_terms
from ..dates import another_year, annotate, asked_years, fuller_date, knows_year, month_days, month_mentions, span
from ..nlp import value_label
from ..text import prefix
from .countries import countries, mentions
from .phrases import best_phrase, read_ahead
from .question import asked_sentence, wants_list

_YES_NO = re.compile(r"^\s*(is|are|was|were|will|would|does|do|did|has|have|had|can|could|should)\b", re.I)
_PLAIN_NEGATION = r"no|not|never|nor|neither|n[o’']t|\w+n[’']t"
_NOT = re.compile(rf"\b(?:{_PLAIN_NEGATION})\b", re.I)
_NEGATIVE = re.compile(rf"\b({_PLAIN_NEGATION}|none|den(y|ies|ied)|fake|false|reject(s|ed)?|"
                       r"postpone(s|d|ment)?|delay(s|ed)?|cancel(s|led|ed)?|unlikely|halt(s|ed)?|suspend(s|ed)?)\b", re.I)
# a date that is to move: "a likely postponement of a mid-August deadline", "the truce was extended"
_RESCHEDULED = re.compile(r"\b(?:postpone\w*|delay(?:s|ed|ing)?|extend(?:s|ed|ing)?|extension|push(?:es|ed|ing)?\s+back|"
                          r"defer(?:s|red|ring|ral)?|reschedul\w*|(?:bring|brought|mov(?:e|ed|ing))\s+forward)\b", re.I)
# an amount that changed: "the United States agreed to lower tariffs on Chinese goods"
_CHANGED = re.compile(r"\b(?:lower(?:s|ed|ing)?|cut(?:s|ting)?|reduc(?:e|es|ed|ing|tion)|slash(?:es|ed|ing)?|"
                      r"halv(?:e|es|ed|ing)|rais(?:e|es|ed|ing)|increas(?:e|es|ed|ing)|hik(?:e|es|ed|ing)|"
                      r"doubl(?:e|es|ed|ing)|remov(?:e|es|ed|ing|al)|lift(?:s|ed|ing)?|scrap(?:s|ped|ping)?|"
                      r"roll(?:s|ed|ing)?\s+back)\b", re.I)
_CONDITIONAL = re.compile(r"\b(if|unless)\b", re.I)
_WH = re.compile(r"\b(what|which|who|whom|whose|when|where|how)\b", re.I)
_DESCRIBE = re.compile(r"^\s*how\s+(?:does|did|do)\s+(?P<subject>.+?)\s+(?:describe|characteri[sz]e|view|see|assess)\b", re.I)
_REPORTED = re.compile(r"\b(?:said|says|say|told|stated|reported|announced|called|according to)\b", re.I)
_WINDOW = 4
# How far from a value the question's words may sit to say what it is a value of. 8, not 4: on the dev suite
# RGB conflict 0.32 -> 0.48 and RGB accuracy 0.56 -> 0.58 (two reports of a winner are often worded apart)
_SLOT_WINDOW = 8
# what a country sells is the country in trade news: "tariffs on Chinese goods" are "tariffs on China"
_TRADED = re.compile(r"\s+(?:goods|imports|exports|products)\b", re.I)


class Ranked(Protocol):
    """A scored sentence as the local answerer ranks them (rag.answer.local.Scored)."""

    score: float
    text: str

    @property
    def passage(self): ...


@dataclass
class Side:
    """One report in a disagreement: the sentence, and the value it gives (None for a stance)."""

    item: Ranked
    value: str | None

    @property
    def doc_id(self) -> str:
        return self.item.passage.hit.doc_id

    @property
    def published_at(self) -> str | None:
        return self.item.passage.hit.published_at


def is_yes_no(question: str) -> bool:
    return bool(_YES_NO.match(question))


def asks_stance(question: str) -> bool:
    """Yes/no questions, and "how does X describe Y": both are answered by a stance that can flip."""
    return is_yes_no(question) or bool(_DESCRIBE.match(question))


def denied(sentence: str, question: str) -> set[str]:
    """What a sentence denies of the question: the question's words a negation cue governs, among the
    content words just after it ("wasn't part of a formal negotiation session") or else just before it
    ("the trade war is not sustainable"); empty for a sentence that denies nothing."""
    wanted = _question_stems(question)
    for m in _NEGATIVE.finditer(sentence):
        after = _stems(" ".join(_content_words(sentence[m.end():])[:_WINDOW])) & wanted
        before = _stems(" ".join(_content_words(sentence[:m.start()])[-_WINDOW:])) & wanted
        if after or before:
            return after or before
    return set()


def excludes(sentence: str, question: str) -> bool:
    """A plain negation right before one of the question's words, or the country it names however named ("rises
    for all, although not China" against "Chinese goods"): the sentence's value is not one for what is asked."""
    for m in _NOT.finditer(sentence):
        after = " ".join(_content_words(sentence[m.end():])[:1])
        if _stems(after) & _question_stems(question):
            return True
        named = countries(after)  # the country table is read only for a negated capitalised word
        if named and named & _question_countries(question):
            return True
    return False


@lru_cache(maxsize=64)
def _question_stems(question: str) -> frozenset[str]:
    """The question's `_stems`, read once per question, not once per sentence checked against it."""
    return frozenset(_stems(question))


@lru_cache(maxsize=64)
def _question_terms(question: str) -> frozenset[str]:
    return frozenset(_terms(question))


@lru_cache(maxsize=64)
def _question_countries(question: str) -> frozenset[str]:
    return frozenset(countries(question))


def _content_words(text: str) -> list[str]:
    """The words of `text` in order, fillers left out: a window of them spans "part of a formal X"."""
    return [w for w in re.findall(r"\S+", text) if content_terms(w)]


def _stems(text: str) -> set[str]:
    """Content-word prefixes (rag.text.prefix), compounds also by their parts ("mid-August" has "August")."""
    return {prefix(p) for t in content_terms(text) for p in (t, *t.split("-")) if len(p) > 2 or p.isdigit()}


def _countries_traded(text: str) -> list[tuple[str, int, int, int]]:
    """Each country `text` names, as (country, start, end of its name, end of the goods, imports or exports
    named with it): in trade news what a country sells is the country ("tariffs on Chinese goods")."""
    return [(c, start, end, traded.end() if (traded := _TRADED.match(text, end)) else end)
            for c, start, end in mentions(text)]


def _terms(text: str) -> set[str]:
    """`_stems`, with each country one term however it is named ("US", "Washington", "Chinese goods"): two
    reports of one value name it differently."""
    found = _countries_traded(text)
    return _stems(" ".join(_cut(text, [(start, end) for _, start, _, end in found]))) | {f"@{c}" for c, *_ in found}


def _words(text: str) -> list[str]:
    """The words of `text`, a country's goods counted with its name: "on French goods is" is three words."""
    return re.findall(r"\S+", "".join(_cut(text, [(name, end) for _, _, name, end in _countries_traded(text)])))


def _cut(text: str, spans: list[tuple[int, int]]) -> list[str]:
    """The pieces of `text` outside `spans` (in order, not overlapping)."""
    bounds = [0, *(i for sp in spans for i in sp), len(text)]
    return [text[a:b] for a, b in zip(bounds[::2], bounds[1::2])]


def speaker(sentence: str) -> set[str]:
    """Who a sentence is attributed to: the words just before its reporting verb (or after "according to")."""
    m = _REPORTED.search(sentence)
    if not m:
        return set()
    if m.group().lower() == "according to":
        return _stems(" ".join(re.findall(r"\S+", sentence[m.end():])[:3]))
    return _stems(" ".join(re.findall(r"\S+", sentence[:m.start()])[-3:]))


def disagreement(question: str, kind: str | None, ranked: list[Ranked], threshold: float,
                 limit: int = 3) -> list[Side] | None:
    """The reports that disagree, newest article first, led by the best sentence; None when they agree."""
    pool = [x for x in ranked if x.score >= threshold]
    if len(pool) < 2 or wants_list(question) or len(_WH.findall(question)) > 1:
        return None
    if kind:
        sides = _value_sides(question, kind, pool, limit)
    elif asks_stance(question):
        sides = _stance_sides(question, pool, limit)
    else:
        return None
    if not sides or len(sides) < 2:
        return None
    return _newest_first(sides)


def _newest_first(sides: list[Side]) -> list[Side]:
    return sorted(sides, key=lambda s: (s.published_at or "",), reverse=True)


def rescheduled(question: str, kind: str | None, best: Ranked, ranked: list[Ranked]) -> list[Side] | None:
    """The answer's date against a report, from another article and not an older one, that the date is to move.
    The date is the one the question names ("Will the truce end on August 12?") or else the one the answer
    gives ("When does the truce expire?"), a relative one read against its article's date. The report names
    its month next to the move ("a likely postponement of a mid-August deadline") and no other day of it. It
    need not answer the question on its own: it rarely repeats the question's words, so it is found by the
    date and the move, in the passages retrieved for it."""
    value = best_phrase(kind, question, best.text) if kind else None
    dated = annotate(value, best.passage.hit.published_at, _before(best.text, value)) if kind == "date" and value else ""
    asked = month_days(question) or month_days(dated)
    if not asked:
        return None
    for x in ranked:
        if not _could_update(x, best) or not _RESCHEDULED.search(x.text):
            continue
        mentions = month_mentions(x.text)
        if any(day and day not in asked[month] for month, day, _, _ in mentions if asked.get(month)):
            continue
        moved = _moved(x.text, [m for m in mentions if m[0] in asked])
        if moved:
            return _newest_first([Side(best, value), Side(x, moved if kind else None)])
    return None


def revised(question: str, kind: str | None, best: Ranked, ranked: list[Ranked],
            sides: list[Side] | None = None) -> list[Side] | None:
    """The answer's amount against a report, from another article and not an older one, that the amount
    changed ("the United States agreed to lower tariffs on Chinese goods"). Such a report gives no new figure,
    so it is no value conflict, and seldom scores as an answer. The change governs, before any clause break,
    two of the question's words that sit next to the answer's value (what the value is a value of), and the
    report has every question word the answer has (a cut of the duty on steel is not one on lumber). The change
    joins the `sides` of a value conflict led by `best` (145% in April, then lowered), if any."""
    if kind != "number":
        return None
    value = best_phrase(kind, question, best.text)
    slot, asked = _slot(question, best.text, value), _asked(question, best.text)
    if len(slot) < 2:
        return None
    sides = sides or [Side(best, value)]
    cited = {s.doc_id for s in sides}
    for x in ranked:
        if (not _could_update(x, best) or x.passage.hit.doc_id in cited
                or _CONDITIONAL.search(x.text) or not _CHANGED.search(x.text) or not asked <= _asked(question, x.text)):
            continue
        changed = _changed(x.text, slot)
        if changed:
            return _newest_first([*sides, Side(x, changed)])
    return None


def _changed(sentence: str, slot: set[str]) -> str | None:
    """The words that change the amount, quoted ("lower tariffs on Chinese goods", "cut the duty on steel to 15
    per cent"); None when no change governs two of the `slot` words before a clause break."""
    for m in _CHANGED.finditer(sentence):
        clause = re.split(r"[,;:.—–](?!\d)", sentence[m.end():], maxsplit=1)[0]
        governed = [w for w in _content_words(clause)[:_WINDOW] if _terms(w) & slot]
        if len(governed) < 2:
            continue
        end = clause.index(governed[-1]) + len(governed[-1])
        end += traded.end() if (traded := _TRADED.match(clause[end:])) else 0
        figure = re.match(r"\s+(?:to|by)\s+\S*\d[\d.,]*(?:\s*(?:%|per\s?cent|percent))?", clause[end:])
        return sentence[m.start():m.end() + end + (figure.end() if figure else 0)].rstrip(".,;:")
    return None


def _moved(sentence: str, mentions: list[tuple[str, str | None, int, int]]) -> str | None:
    """The words that move one of the month `mentions`, quoted from the sentence ("postponement of a mid-August
    deadline", "the April 30 deadline was extended"); None when none does."""
    for m in _RESCHEDULED.finditer(sentence):
        for _, _, start, end in mentions:
            if start >= m.end() and _near(sentence[m.end():start]):
                tail = re.match(r"\S*(?:\s+[\w-]+)?", sentence[end:])
                return sentence[m.start():end + tail.end()].rstrip(".,;:")
            if end <= m.start() and _near(sentence[end:m.start()]):
                return sentence[sentence.rfind(" ", 0, start) + 1:m.end()]
    return None


def _near(gap: str) -> bool:
    """Few words and no clause break between a move and its date ("postponed, officials said on Aug 3" dates
    the report)."""
    return len(_content_words(gap)) < _WINDOW and not re.search(r"[,;:.—–]", gap)


def _could_update(x: Ranked, best: Ranked) -> bool:
    """From another article and not an older one (an undated one may be either): a report that can say that
    what `best` reports has since moved or changed."""
    a, b = x.passage.hit.published_at, best.passage.hit.published_at
    return x.passage.hit.doc_id != best.passage.hit.doc_id and not (a and b and a < b)


def _value_sides(question: str, kind: str, pool: list[Ranked], limit: int) -> list[Side] | None:
    """The best sentence's value and up to `limit` - 1 differing ones from other articles, each with a question
    word next to it that sits next to the first value too ("Trade Representative X", "X this year")."""
    value = best_phrase(kind, question, pool[0].text)
    slot = _slot(question, pool[0].text, value)
    if not value or not slot:
        return None
    read_ahead(kind, question, (x.text for x in pool[1:]))  # each is read below
    sides, asked = [Side(pool[0], value)], _asked(question, pool[0].text)
    # for "who", a rival report names a person or a name of the first answer's kind: a nationality ("Swedish")
    # is no other report of a person
    label = value_label(pool[0].text, value) if kind == "person" else None
    # a date of another year than the question names is another event's ("2019" for "the 2021 NBA Draft")
    years = asked_years(asked_sentence(question)) if kind == "date" else frozenset()
    for x in pool[1:]:
        other = best_phrase(kind, question, x.text)
        if (other and x.passage.hit.doc_id not in {s.doc_id for s in sides} and _asked(question, x.text) == asked
                and not another_year(years, other, None)
                and slot & _slot(question, x.text, other)
                and (kind != "person" or value_label(x.text, other) in (label, "PERSON", None))):
            same = [i for i, s in enumerate(sides) if not _differ(kind, s, x, other)]
            if not same and len(sides) < limit:
                sides.append(Side(x, other))
            elif len(same) == 1 and kind == "date" and fuller_date(sides[same[0]].value, other):
                sides[same[0]] = Side(x, other)  # the same date told more precisely ("December 2015" for "2015")
    return sides


class _Take(NamedTuple):
    """A sentence as a stance: what it denies of the question (empty when it affirms), and its words."""

    item: Ranked
    denied: set[str]
    words: set[str]


def _stance_sides(question: str, pool: list[Ranked], limit: int) -> list[Side] | None:
    """The best sentence taking a stance and the best one taking the other (the affirming one has a word
    the denial governs), from another article or another speaker; then, up to `limit`, the best opposing
    report from each article not yet cited, sharing two of the governed words (one is often just the
    topic). For "how does X describe", all must be X's words. A conditional ("if ...", "unless ...")
    takes no stance."""
    described = _DESCRIBE.match(question)
    subject = _stems(described.group("subject")) if described else set()
    takes = [_Take(x, denied(x.text, question), _stems(x.text)) for x in sorted(pool, key=lambda x: -x.score)
             if subject <= speaker(x.text) and not _CONDITIONAL.search(x.text)]
    pair = next(((a, b) for i, a in enumerate(takes) for b in takes[i + 1:] if _opposed(a, b)
                 and (_doc(a) != _doc(b) or _different_speakers(a.item.text, b.item.text))), None)
    if pair is None:
        return None
    chosen = list(pair)
    for x in takes:
        if len(chosen) >= limit:
            break
        if _doc(x) not in {_doc(c) for c in chosen} and any(_opposed(c, x, overlap=2) for c in chosen):
            chosen.append(x)
    return [Side(c.item, None) for c in chosen]


def _doc(take: _Take) -> str:
    return take.item.passage.hit.doc_id


def _opposed(a: _Take, b: _Take, overlap: int = 1) -> bool:
    """Opposite stances on the same thing: the affirming sentence has a word the denial governs (or
    `overlap` of them, where the denial governs that many)."""
    governed = a.denied or b.denied
    shared = governed & (b.words if a.denied else a.words)
    return bool(a.denied) != bool(b.denied) and len(shared) >= min(overlap, len(governed)) and bool(shared)


def _different_speakers(a: str, b: str) -> bool:
    sa, sb = speaker(a), speaker(b)
    return bool(sa and sb) and not sa & sb


def _asked(question: str, sentence: str) -> set[str]:
    """Which of the question's words a sentence has: two reports of one fact match the same ones."""
    return _question_terms(question) & _terms(sentence)


def _slot(question: str, sentence: str, value: str | None, window: int = _SLOT_WINDOW) -> set[str]:
    """The question's words within `window` words of the value: what the value is a value of."""
    if not value or value not in sentence:
        return set()
    at = sentence.index(value)
    before = _words(sentence[:at])[-window:]
    after = _words(sentence[at + len(value):])[:window]
    return _terms(" ".join(before + after)) & _question_terms(question)


def close_sides(question: str, sides: list[Side]) -> bool:
    """Whether one question word sits within 4 words of every side's value: dates and amounts read strictly for
    the LLM answer to give way to (rag/answer/llm.py). At 8 words, the extractive answerer's own reading, a
    filming date was set against a premiere date and a right model answer was lost (RGB dev)."""
    slots = [_slot(question, side.item.text, side.value, _WINDOW) for side in sides if side.value]
    return len(slots) == len(sides) and bool(set.intersection(*slots)) if slots else False


def _differ(kind: str, side: Side, item: Ranked, value: str) -> bool:
    """Different values, not two spellings of one ("Greer" / "Jamieson Greer", "145%" / "145 per cent")."""
    if kind == "date":
        known = knows_year(side.value, side.published_at) and knows_year(value, item.passage.hit.published_at)
        year = None if known else 2000
        a = span(side.value, side.published_at, _before(side.item.text, side.value), year)
        b = span(value, item.passage.hit.published_at, _before(item.text, value), year)
        if not known and a and b:
            a, b = (tuple(d.replace(year=2000) for d in a), tuple(d.replace(year=2000) for d in b))
        return bool(a and b) and (a[1] < b[0] or b[1] < a[0])
    numbers = [set(re.findall(r"\d+(?:\.\d+)?", v.replace(",", ""))) for v in (side.value, value)]
    if all(numbers):
        return not numbers[0] & numbers[1]
    words = [content_terms(v) for v in (side.value, value)]
    return all(words) and not words[0] & words[1]


def _before(sentence: str, value: str) -> str:
    return sentence[:sentence.find(value)] if value in sentence else ""
