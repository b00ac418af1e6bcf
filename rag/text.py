"""The text toolkit every stage shares: sentences with exact offsets, words, stopwords, stems, month and
weekday names, numbers and calendar dates. One definition each, so the retriever, the answerers and the
citation check read text the same way.

    sentence_spans(text, lo=0, hi=None) -> [(start, end)]   whole sentences overlapping [lo, hi)
    stem(word) -> str; stemmer()                            English Snowball stems (PyStemmer), lower-cased
    prefix(word) -> str                                     the answerer's word-form match (first 5 letters)
    undotted(text) -> str                                   initials as one word: "U.S." and "U. S." read "US"
    STOPWORDS, FUNCTION_WORDS, FILLER                       nested word sets, bm25s's English list first
    MONTHS, MONTH_PATTERN, WEEKDAYS, month_number(word)     calendar names
    NUMBER                                                  digits with inner separators ("1,200", "3.5")
    parse_date(value) -> date | None                        the date an ISO-like value starts with
    plural(n, noun) -> str                                  "article" for 1, "articles" for any other count
    wants_recent(question) -> bool                          asks for the latest state ("latest", "now", "still")
    decode(raw) -> (text, problem)                          a file's bytes as text: UTF-8, else a legacy encoding
"""
from __future__ import annotations

import re
from datetime import date
from functools import cache, lru_cache

from bm25s.stopwords import STOPWORDS_EN

MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# a month as news copy writes it: in full, or abbreviated with or without the period ("Sept." too)
MONTH_PATTERN = "|".join([m.capitalize() for m in MONTHS] + [m[:3].capitalize() + ("t?" if m == "september" else "")
                                                            + "\\.?" for m in MONTHS if m != "may"])
WEEKDAY_PATTERN = "|".join(d.capitalize() for d in WEEKDAYS)
NUMBER = re.compile(r"\d[\d,.]*\d|\d")

# bm25s's English stopwords (what BM25 ignores) ...
STOPWORDS = frozenset(STOPWORDS_EN)
# ... with the auxiliaries, pronouns and question words that carry no content either (the answer-phrase
# finder's anchors skip them) ...
FUNCTION_WORDS = STOPWORDS | frozenset("been does did do from has have had can could would its were what which who whom "
                                       "whose when where why how said says".split())
# ... and the words a claim or a question uses to frame what it says ("according to", "How does X describe
# Y?", "Who is quoted in the articles?"): the citation check and the answerer's word overlap skip them all.
FILLER = FUNCTION_WORDS | frozenset(
    "being about according also before between both down during each after he her his i just least less may "
    "me might more most my only our out over per quoted say set shall she should so than them those under up "
    "very we while would yes you your describe describes described characterize characterizes characterized "
    "articles coverage".split())


def month_number(word: str) -> int | None:
    """1-12 for a month name or its abbreviation ("Aug.", "sept", "December"), else None."""
    w = word.lower().rstrip(".")
    w = "sep" if w == "sept" else w
    return next((i for i, m in enumerate(MONTHS, 1) if len(w) >= 3 and m.startswith(w)), None)


# Chinese and Japanese write no spaces between words and Korean's words inflect: a run of these scripts is
# matched as its overlapping character bigrams ("图书馆" -> "图书", "书馆"), as Lucene's CJK analyzer indexes
# them; a lone character stays whole.
CJK = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")


def cjk_split(word: str) -> list[str]:
    """A word holding CJK characters as its CJK runs' bigrams and its other parts of 2+ characters, in order;
    any other word as itself."""
    if CJK.search(word) is None:
        return [word]
    out = []
    for part in re.split(f"({CJK.pattern})", word):
        if CJK.fullmatch(part):
            out.extend([part] if len(part) == 1 else [part[i:i + 2] for i in range(len(part) - 1)])
        elif len(part) > 1:
            out.append(part)
    return out


@cache
def stemmer():
    """PyStemmer's English Snowball stemmer, shared (BM25 tokenizes with it too)."""
    import Stemmer

    return Stemmer.Stemmer("english")


def stem(word: str) -> str:
    """The English Snowball stem of a word, lower-cased ("Tariffs" -> "tariff", "expired" -> "expir")."""
    return stemmer().stemWord(word.lower())


_INITIALS = re.compile(r"\b[^\W\d_]\.(?:\s?[^\W\d_]\.)+")


def undotted(text: str) -> str:
    """`text` with dotted initials written as one word ("U.S.-China" -> "US-China", "U. K." -> "UK"): BM25's
    tokens are two or more word characters, so "U.S." is no token at all. Offsets change: for words only."""
    return _INITIALS.sub(lambda m: re.sub(r"[.\s]", "", m.group()), text)


def prefix(word: str) -> str:
    """A lower-cased word's first five letters: how the answerer matches word forms ("negotiations" and
    "negotiators", "Chinese" and "China"). On the dev suite, Snowball stems (`stem`) instead cost seeds
    accuracy 0.789 -> 0.772 and paraphrases 0.714 -> 0.696, and turned a RealTime QA answer that cites both
    reported gas prices into the older one alone (gained 3 and lost 1 other RealTime QA answer)."""
    return word[:5]


def parse_date(value) -> date | None:
    """The calendar date a value starts with ("2025-07-23", "2025/07/23", "2025-07-23T10:00:00Z"), or None."""
    try:
        return date.fromisoformat(str(value)[:10].replace("/", "-")) if value else None
    except ValueError:
        return None


# a full stop before a space; CJK full stops need none ("。", "！", "？")
_END = re.compile(r"[.!?][\"'”’)\]]*(?=\s)|[。！？]+[”’」』）]*|\n+")
_ABBREV = re.compile(r"(?:\b(?:[A-Z]\.)+|\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Gov|Sen|Rep|Gen|Lt|Col|Inc|Corp|Co|Ltd|No|vs|v|etc|"
                     + "|".join(m[:3].capitalize() for m in MONTHS if m != "may") + r"|Sept)\.)$")


_NEXT = re.compile(r"\s+([A-Z][a-z]*)\b")


def _opens(text: str, at: int) -> bool:
    """Whether the word after an abbreviation's full stop opens a sentence: a capitalised function word ("... in
    the U.S. The fact sheet ..."), not a name ("U.S. Trade"), as Punkt's orthographic heuristic reads it."""
    m = _NEXT.match(text, at)
    return bool(m) and m.group(1).lower() in FILLER


def sentence_spans(text: str, lo: int = 0, hi: int | None = None) -> list[tuple[int, int]]:
    """Whole sentences of `text` that overlap [lo, hi), trimmed of surrounding whitespace, as (start, end)
    offsets into `text`: every quote shown can be located in its article."""
    hi = len(text) if hi is None else hi
    return [(s, e) for s, e in _sentences(text) if e > lo and s < hi]


@lru_cache(maxsize=256)
def _sentences(text: str) -> tuple[tuple[int, int], ...]:
    """Every sentence of a text, split once: the answerer asks for those of each retrieved chunk of an article,
    and splitting a whole article for each of them was a fifth of a RealTime QA question's time."""
    spans, start = [], 0
    for m in _END.finditer(text):
        if (m.group().startswith(("\n",)) or not _ABBREV.search(text[max(0, m.start() - 12):m.start() + 1])
                or _opens(text, m.end())):
            spans.append((start, m.end()))
            start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return tuple(out)


def is_question(sentence: str) -> bool:
    """Whether a sentence asks rather than states ("But which film roared loudest?"): it asserts no fact,
    so it answers nothing, whatever words it shares with the question."""
    return sentence.rstrip(" \"'”’)»」』").endswith(("?", "？"))


def fuller_number(phrase: str, other: str) -> bool:
    """Whether amount `other` states amount `phrase` more precisely, in the same words and unit: the same
    value to more digits ("$5" -> "$5.02", "2 million" -> "2.1 million")."""
    a, b = NUMBER.search(phrase), NUMBER.search(other)
    if not a or not b or phrase.replace(a.group(), "#", 1) != other.replace(b.group(), "#", 1):
        return False
    given, told = a.group().replace(",", ""), b.group().replace(",", "")
    places = len(given.split(".")[1]) if "." in given else 0
    return told != given and round(float(told), places) == float(given)


def plural(n: int, noun: str) -> str:
    """The noun as a count of `n` takes it in a message: "1 article", "0 articles", "2 chunks"."""
    return noun if n == 1 else f"{noun}s"


# "Recently" is left out: news quizzes say "recently" of an event in a given week, not of the latest state,
# and boosting the newest articles for it cost RealTime QA dev MRR 0.78 -> 0.75 (bench/retrieval.py).
_RECENCY = re.compile(r"\b(latest|currently|current|now|newest|most recent|as of today|these days|still)\b", re.I)


def wants_recent(question: str) -> bool:
    """Whether the question asks for the latest state: retrieval weighs newer articles up, and the extractive
    answer gives the newest report's value first, the older ones as earlier reports."""
    return bool(_RECENCY.search(question))


def decode(raw: bytes) -> tuple[str, str | None]:
    """(text, None) for a text file's bytes: UTF-8 (a BOM dropped), else in the legacy encoding charset-normalizer
    reads with the least noise, windows-1252 of equally good ones (the web's default legacy encoding, WHATWG:
    short Latin-1 French reads as cp1250 too, "à Genève" as "ŕ Genčve"); ("", why not) for none."""
    if not raw.strip():
        return "", "empty file"
    if b"\x00" in raw[:8192]:
        return "", "not a text file (a binary file)"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as e:
        from charset_normalizer import from_bytes

        found = list(from_bytes(raw))  # best first
        if not found:
            return "", f"not text in UTF-8 or a legacy encoding (bad byte at offset {e.start})"
        tied = [m for m in found if (m.chaos, m.coherence) == (found[0].chaos, found[0].coherence)]
        return str(next((m for m in tied if m.encoding == "cp1252"), found[0])), None
