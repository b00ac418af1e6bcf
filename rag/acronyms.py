"""Acronyms a question uses and the corpus spells out: "Who is the USTR?" over articles that only write
"U.S. Trade Representative".

    most_used(texts) -> {initials: (phrase, count)}   the capitalised phrase used most for each initials
    merge(tables) -> {initials: (phrase, count)}       the same over several `most_used` tables (segments)
    acronyms(question) -> [(token, initials)]          the all-capital words of a question

An unknown acronym matches nothing in BM25 and weighs as a word the corpus never uses in the local answerer,
so the question abstains. Schwartz and Hearst's algorithm (scispacy's AbbreviationDetector, the
`abbreviations` package) finds only acronyms a text defines in brackets, "National Security Strategy
(NSS)"; news copy seldom does, and the question's acronym may not occur in the corpus at all, so the corpus's
capitalised phrases are indexed by their initials instead (rag/segment.py, at BM25 build time) and
rag/lexical.py replaces an acronym the corpus never uses by the phrase those initials most often stand for.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

from .text import STOPWORDS

_WORD = re.compile(r"(?:[A-Z]\.){2,}|[A-Za-z][\w’'&-]*")
_JOINERS = {"of", "and", "for", "the", "on", "&"}  # lower-case words inside a name: "Department of Defense"
MAX_LETTERS = 6
_ACRONYM = re.compile(rf"\b(?:[A-Z]\.){{2,{MAX_LETTERS}}}|\b[A-Z]{{2,{MAX_LETTERS}}}\b")
_POSSESSIVE = re.compile(r"['’]s$")
MAX_WORDS = 5  # "Organization of the Petroleum Exporting Countries" is OPEC: five capitalised words


def _initials(word: str) -> str:
    return word.replace(".", "") if "." in word else word[0].upper()


def most_used(texts: Iterable[str]) -> dict[str, tuple[str, int]]:
    """For each initials, the phrase they stand for most often in `texts`, and how often: every run of 2 to
    MAX_WORDS capitalised words (joined by spaces and the lower-case words of _JOINERS, never across
    punctuation) is keyed by its initials with and without the joiners' ("DD" and "DOD" for "Department of
    Defense"; "U.S." gives "US"). A run's leading stopword ("The", "In") is no part of a name."""
    out: dict[str, Counter] = {}
    for text in texts:
        _count(text, out)
    return {key: c.most_common(1)[0] for key, c in out.items()}


def _count(text: str, out: dict[str, Counter]) -> None:
    """Adds `text`'s capitalised runs to `out` (see `most_used`)."""
    run: list[re.Match] = []

    def flush():
        caps = [i for i, m in enumerate(run) if m.group()[0].isupper()]
        while caps and run[caps[0]].group().lower() in STOPWORDS:
            caps.pop(0)
        for a, i in enumerate(caps):
            for j in caps[a + 1:a + MAX_WORDS]:
                words = run[i:j + 1]
                phrase = _POSSESSIVE.sub("", text[words[0].start():words[-1].end()])
                short = "".join(_initials(m.group()) for m in words if m.group()[0].isupper())
                full = "".join(_initials(m.group()) for m in words)
                for key in {short, full}:
                    if len(key) <= MAX_LETTERS and key.isalpha():
                        out.setdefault(key, Counter())[phrase] += 1
        run.clear()

    for m in _WORD.finditer(text):
        word = m.group()
        gap = text[run[-1].end():m.start()] if run else " "
        joins = word[0].isupper() or (word.lower() in _JOINERS and bool(run))
        if not joins or (gap.strip() and gap.strip() != "&") or "\n" in gap:
            flush()
            if not word[0].isupper():
                continue
        run.append(m)
    flush()


def merge(tables: list[dict]) -> dict[str, tuple[str, int]]:
    """The most used phrase for each initials over several `most_used` tables (one a BM25 segment), a phrase's
    counts summed across them."""
    counts: dict[str, Counter] = {}
    for table in tables:
        for key, (phrase, n) in table.items():
            counts.setdefault(key, Counter())[phrase] += n
    return {key: c.most_common(1)[0] for key, c in counts.items()}


def acronyms(question: str) -> list[tuple[str, str]]:
    """The question's all-capital words of 2 to 6 letters ("USTR", "U.S.T.R."), each with its letters; none
    in a question written all in capitals, where capitals mark nothing."""
    if question.upper() == question:
        return []
    return [(m.group(), m.group().replace(".", "")) for m in _ACRONYM.finditer(question)]
