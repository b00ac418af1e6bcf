"""Relative dates ("next month", "on Wednesday") resolved against the article's published date.

News copy dates events relative to the day it was written; a reader weeks later needs the calendar date.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from .nlp import entity_spans
from .text import MONTH_PATTERN, WEEKDAYS, month_number, parse_date

_MONTH = rf"(?:{MONTH_PATTERN})(?![a-z])"  # a month's name or abbreviation, not "decade", "market" or "Marvel"
_RELATIVE = re.compile(r"\b(?:(next|this|last|past)\s+(week|month|year)|(yesterday|today|tomorrow)|"
                       r"(?:(next|this|last|past)\s+)?(" + "|".join(WEEKDAYS) + r"))\b", re.I)
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_MONTH_DAY = re.compile(rf"\b({MONTH_PATTERN})(?!\w)(?:\s+(\d{{1,2}})(?!\d))?|\b(\d{{1,2}})\s+({MONTH_PATTERN})(?!\w)")
_FUTURE = re.compile(r"\b(will|would|shall|scheduled|due|set to|plans? to|expected to|going to)\b", re.I)


def published(published_at: str | None) -> date | None:
    return parse_date(published_at)


def _month(d: date, shift: int) -> date:
    m = d.year * 12 + d.month - 1 + shift
    return date(m // 12, m % 12 + 1, 1)


def _day(d: date) -> str:
    return f"{d:%B} {d.day}, {d.year}"


def resolve(phrase: str, published_at: str | None, context: str = "") -> str | None:
    """The calendar reading of a relative date phrase, e.g. "next month" on 2025-07-23 -> "August 2025".

    A bare weekday means the latest such day up to the article's date, unless the words before it
    (`context`, the sentence up to the phrase) speak of the future ("will meet on Friday").
    """
    pub = published(published_at)
    m = _RELATIVE.search(phrase or "")
    if pub is None or m is None:
        return None
    which, unit, word, day_which, day = (g.lower() if g else None for g in m.groups())
    if unit:
        shift = {"next": 1, "this": 0, "last": -1, "past": -1}[which]
        if unit == "year":
            return str(pub.year + shift)
        if unit == "month":
            return f"{_month(pub, shift):%B %Y}"
        monday = pub - timedelta(days=pub.weekday()) + timedelta(weeks=shift)
        return f"week of {_day(monday)}"
    if word:
        return _day(pub + timedelta(days={"yesterday": -1, "today": 0, "tomorrow": 1}[word]))
    target = WEEKDAYS.index(day)
    back = (pub.weekday() - target) % 7
    if day_which == "next":
        return _day(pub - timedelta(days=pub.weekday()) + timedelta(weeks=1, days=target))
    if day_which in ("last", "past"):
        return _day(pub - timedelta(days=back or 7))
    if day_which == "this" or _FUTURE.search(context[-60:]):
        return _day(pub + timedelta(days=(target - pub.weekday()) % 7))
    return _day(pub - timedelta(days=back))


def relative_dates(text: str, published_at: str | None) -> list[tuple[str, str]]:
    """Each relative date phrase in `text` with its calendar reading: a quote stays verbatim, so its
    "next week" is resolved beside it."""
    found = {}
    for m in _RELATIVE.finditer(text):
        resolved = resolve(m.group(), published_at, text[:m.start()])
        if resolved and resolved.lower() not in m.group().lower():
            found.setdefault(m.group(), resolved)
    return list(found.items())


def annotate(phrase: str, published_at: str | None, context: str = "") -> str:
    """The phrase with its resolution in brackets when it is relative and the article is dated."""
    resolved = resolve(phrase, published_at, context)
    return f"{phrase} ({resolved})" if resolved and resolved.lower() not in phrase.lower() else phrase


def span(phrase: str, published_at: str | None, context: str = "",
         year: int | None = None) -> tuple[date, date] | None:
    """The first and last day a date phrase can mean, for comparing two reports of one date.

    Without a year in the phrase or a published date, `year` stands in (None: no span).
    """
    pub = published(published_at)
    text = resolve(phrase, published_at, context) or phrase
    year_m = _YEAR.search(text)
    year = int(year_m.group()) if year_m else (pub.year if pub else year)
    month_m = re.search(rf"\b({_MONTH})", text, re.I)
    if year is None or not (month_m or year_m):
        return None
    start = _parse_day(text, year)
    if start and text.lower().startswith("week of"):
        return start, start + timedelta(days=6)
    if start:
        return start, start
    if month_m:
        first = date(year, month_number(month_m.group(1)), 1)
        return first, _month(first, 1) - timedelta(days=1)
    return date(year, 1, 1), date(year, 12, 31)


_UNITS = ("time", "day", "week", "month", "quarter", "year")  # dateparser's periods, finest first


@lru_cache(maxsize=4096)
def period(phrase: str) -> str | None:
    """The calendar unit a date phrase names, as dateparser reads it: "Thursday" and "Jan. 6, 2023" -> "day",
    "this week" -> "week", "Oct 2021" -> "month", "2019" -> "year"; None when it reads no single date ("Jul 27
    to 30", "Spring 2025")."""
    data = _parser_on(None).get_date_data(phrase)
    return data.period if data.date_obj is not None and data.period in _UNITS else None


@lru_cache(maxsize=4096)
def unplaced(phrase: str) -> bool:
    """Whether only the day it was written places the phrase, as dateparser reads it from different days:
    "Tuesday", "this week", "next month" (read from two days of one year) and "last year" (a year read from two
    years) do; "Nov 15" names its day in any year, "2017" and "Oct 2021" name theirs outright. In a passage with
    no published date such a phrase places nothing on the calendar."""
    unit = period(phrase)
    cut = {"year": lambda d: d.year, "month": lambda d: (d.year, d.month), "quarter": lambda d: (d.year, d.month)
           }.get(unit, lambda d: d.date())  # dateparser fills what the phrase leaves out from the day it reads on
    read = [_read_on(phrase, datetime(*day)) for day in ((2020, 6, 15), (2020, 3, 3), (2011, 6, 15))]
    if None in read:
        return False
    return cut(read[0]) != cut(read[1]) or unit == "year" and read[0].year != read[2].year


def _read_on(phrase: str, base: datetime) -> datetime | None:
    return _parser_on(base).get_date_data(phrase).date_obj


@lru_cache(maxsize=4)
def _parser_on(base: datetime | None):
    """dateparser's English reader, reading relative dates from `base` (None: today); builds its language data
    on first use (~0.1 s)."""
    from dateparser.date import DateDataParser
    return DateDataParser(languages=["en"], settings={"RELATIVE_BASE": base} if base else None)


def coarser(phrase: str, unit: str) -> bool:
    """Whether a date phrase names a longer unit than `unit` ("this week" for a day): no answer to "Which
    day ...?" or "What is the release date ...?"."""
    named = period(phrase)
    return named is not None and _UNITS.index(named) > _UNITS.index(unit)


def knows_year(phrase: str, published_at: str | None) -> bool:
    return bool(published(published_at) or _YEAR.search(phrase or ""))


def asked_years(question: str) -> frozenset[str]:
    """The years named by the dates spaCy's NER finds in a question: {"2021"} for "Who won Wimbledon in 2021?"
    or "Tesla's revenue in Q1 2021". A year right after another entity ends that name ("Wonder Woman 1984")."""
    spans = entity_spans(question)
    name_ends = {e for _, e, label in spans if label != "DATE"}
    return frozenset(y for s, e, label in spans if label == "DATE" and s - 1 not in name_ends
                     for y in _YEAR.findall(question[s:e]))


def names_year(years: frozenset[str], text: str, published_at: str | None) -> bool:
    """Whether `text` (an article's words and title) or its published date names one of `years`."""
    return bool(years & set(_YEAR.findall(f"{text} {published_at or ''}")))


def another_year(years: frozenset[str], text: str, published_at: str | None) -> bool:
    """True when an article names years (in `text`, its words and title, or its published date) and none of
    `years`: a report of another season, quarter or election than the one asked about. An article naming no
    year may be about any."""
    named = set(_YEAR.findall(f"{text} {published_at or ''}"))
    return bool(years and named and not years & named)


def _parse_day(text: str, year: int) -> date | None:
    m = re.search(rf"\b({_MONTH})\s+(\d{{1,2}})\b|\b(\d{{1,2}})\s+({_MONTH})", text, re.I)
    if not m:
        return None
    mon, day = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
    try:
        return date(year, month_number(mon), int(day))
    except ValueError:
        return None


def month_mentions(text: str) -> list[tuple[str, str | None, int, int]]:
    """Each month a text names ("jan".."dec"), with the day named with it and where the mention sits."""
    out = []
    for m in _MONTH_DAY.finditer(text):
        month, day = (m.group(1), m.group(2)) if m.group(1) else (m.group(4), m.group(3))
        out.append((month[:3].lower(), day, m.start(), m.end()))
    return out


def month_days(text: str) -> dict[str, set[str]]:
    """The months a text names, each with the days named with it ("August 12" -> {"aug": {"12"}})."""
    out: dict[str, set[str]] = {}
    for month, day, _, _ in month_mentions(text):
        out.setdefault(month, set()).update([day] if day else [])
    return out


def fuller_date(phrase: str, other: str) -> bool:
    """Whether date phrase `other` tells the date `phrase` tells, more fully: a bare year with its month
    ("2015" -> "December 2015"), a month or day without a year with its year ("Nov 15" -> "November 15, 2020"),
    a month with its day ("December 2015" -> "December 1, 2015")."""
    said, told = month_mentions(phrase), month_mentions(other)
    years, other_years = set(_YEAR.findall(phrase)), set(_YEAR.findall(other))
    if not told or not other_years or not years <= other_years:
        return False
    if not said:  # a bare year, or no date at all
        return bool(years)
    month, day = said[0][:2]
    same = [d for m, d, _, _ in told if m == month and day in (None, d)]
    return bool(same) and (not years or (day is None and any(same)))

