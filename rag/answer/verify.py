"""The citation check of LLM answers: each sentence must cite a passage whose own sentence backs it.

`verify` keeps the sentences their passages support (what a sentence adds to the question quoted, numbers and
dates all present, people named as a passage names them, a passage on the question's story), re-attributes a
misnumbered one, drops the rest, and numbers the citations as the stream showed them (`Markers`,
`cited_order`). Used by every LLM answerer (rag/answer/llm.py, local_llm.py).
"""
from __future__ import annotations

import re

from ..cite import claim_terms, content_terms, is_figure, is_instruction, support
from ..nlp import AMOUNT_LABELS, actor, entities, subjects
from ..text import prefix, sentence_spans, undotted
from ..types import Citation
from .base import Passage, cite_sentence, passage_text
from .countries import countries

_MARK = r"\[\d+(?:\s*,\s*\d+)*\]"
_JOIN = r"\s*(?:,\s*(?:and\s+)?|and\s+)?"
MARKS = re.compile(rf"{_MARK}(?:{_JOIN}{_MARK})*")  # a run like "[1]", "[1, 2]", "[1][3]" or "[1], [2] and [4]"
_LEADING = re.compile(rf"\s*{_MARK}(?:{_JOIN}{_MARK})*\s*[.,;:]?\s*")
ABSTAINED = re.compile(r"\b(?:could|can)(?:\s*not|n[’']t)\s+(?:find|answer)\b|\bnot\s+in\s+the\s+(?:indexed\s+)?(?:articles|passages)\b"
                        r"|\bpassages\s+do\s+not\s+(?:contain|say|mention)\b", re.I)


# -- citation numbers ---------------------------------------------------------------------------------------
# A marker names a source, as in the chat tools that cite as they stream (Perplexity, Bing): [n] is the n-th
# passage the model cited, in the order it first cited them, both in the streamed text and in the verified
# answer, whose citation n quotes that passage. So a number a reader saw never changes; a passage whose every
# claim fails the check leaves its number unused rather than renumbering the rest.

def cited_order(text: str, known: set[int], order: dict[int, int] | None = None) -> dict[int, int]:
    """`order` (passage n -> citation number) extended by the passages `text`'s markers cite, numbered in the
    order first cited; numbers of passages the model was not given (`known`) are skipped."""
    order = {} if order is None else order
    for m in re.finditer(_MARK, text):
        for n in _numbers(m.group()):
            if n in known and n not in order:
                order[n] = len(order) + 1
    return order


class Markers:
    """Rewrites the model's markers in streamed text as the verified answer will number them (`cited_order`):
    feed(delta) -> the text ready to show, holding back a marker that has not closed yet ("[1,")."""

    def __init__(self, known: set[int]):
        self.known, self.order, self.held = known, {}, ""

    def feed(self, delta: str) -> str:
        text = self.held + delta
        cut = m.start() if (m := _OPEN_MARK.search(text)) else len(text)
        text, self.held = text[:cut], text[cut:]
        cited_order(text, self.known, self.order)
        return MARKS.sub(lambda m: _numbered(m.group(), self.order), text)

    def flush(self) -> str:
        held, self.held = self.held, ""
        return held


_OPEN_MARK = re.compile(r"\[[\d,\s]*$")


def _numbers(run: str) -> list[int]:
    """The passage numbers of a marker run ("[5, 2]" -> [5, 2])."""
    return [int(d) for d in re.findall(r"\d+", run)]


def _numbered(run: str, order: dict[int, int]) -> str:
    """A marker run ("[5, 2]", "[5][2]") as citation numbers in ascending order ("[1][2]"); passages not in
    `order` left out."""
    return "".join(f"[{k}]" for k in sorted({order[n] for n in _numbers(run) if n in order}))


# -- the citation check -----------------------------------------------------------------------------------

def verify(text: str, passages: list[Passage], min_support: float, question: str = "",
           one_source: bool = False) -> tuple[str, list[Citation], int, int]:
    """Keep the sentences whose passages support them: at least `min_support` of what a sentence adds to the
    `question` (its content words the question lacks), or of all its words, in its quotes, numbers all of them
    (a year or figure the question names may be elsewhere in the passage, as its date line); a sentence that
    adds nothing to the question answers nothing. A sentence its cited passages do not support, or that cites none, is checked
    against every passage and cites the one that supports it (small models misnumber their sources). Each
    cited passage becomes one citation numbered as the stream showed it (`cited_order`), or from 1 again when
    a dropped or re-attributed claim left a gap, quoting its supporting sentences (first to last).

    With `one_source`, a sentence after the first kept one that cites a passage the first does not, and uses none
    of the question's words, is left out (not counted as dropped): it elaborates from another source.

    Returns (rewritten text, citations by number, sentences considered, sentences dropped). A sentence that
    only says the answer was not found is neither kept nor counted.
    """
    by_n = {p.n: p for p in passages}
    given = content_terms(question)
    order = cited_order(text, set(by_n))
    quoted: dict[int, list[tuple[int, int]]] = {}  # passage n -> the sentences that back its claims
    kept: list[str] = []
    first: set[int] = set()
    asked = {prefix(w) for w in given}
    total = dropped = 0
    prev_end = 0
    for s, e in _claims(text):
        gap, prev_end = text[prev_end:s], e
        claim = text[s:e]
        if ABSTAINED.search(claim) and not MARKS.search(claim):
            continue
        total += 1
        rewritten = None
        # a later claim may be left out under `one_source`: what it would add to the quotes is kept aside
        before = {n: list(spans) for n, spans in quoted.items()} if kept and one_source else None
        for i, reading in enumerate(_readings(claim)):
            # a reading that only restates the question ("The spokesperson demanded that ...") answers nothing,
            # and a clause cut from the claim that names nothing asked about ("In July") is no answer to it
            said = claim_terms(reading)
            if given and (not said - given or (i and not said & given)):
                break
            if (rewritten := _verify_claim(reading, by_n, order, quoted, min_support, given, question)) is not None:
                break
        if rewritten is None:
            dropped += 1
            continue
        cites = {n for m in MARKS.finditer(rewritten) for n in _numbers(m.group())}
        # elaboration from another source: none of the question's words
        if before is not None and not cites <= first and not {prefix(w) for w in claim_terms(claim)} & asked:
            quoted.clear()
            quoted.update(before)
            continue
        first = first or cites
        kept.append(("\n" if "\n" in gap else " ") * bool(kept) + rewritten)
    checked = "".join(kept)
    used = sorted(order[n] for n in quoted)
    if used != list(range(1, len(used) + 1)):  # a dropped or re-attributed claim left a gap: number from 1 again
        renumber = {k: i for i, k in enumerate(used, 1)}
        checked = MARKS.sub(lambda m: _numbered(m.group(), renumber), checked)
        order = {n: renumber[order[n]] for n in quoted}
    citations = [cite_sentence(order[n], by_n[n], min(s for s, _ in spans), max(e for _, e in spans))
                 for n, spans in sorted(quoted.items(), key=lambda item: order[item[0]])]
    return checked, citations, total, dropped


def _claims(text: str) -> list[tuple[int, int]]:
    """Sentences of the answer; a marker after the period ('… August 12. [1] Next …') joins the sentence before."""
    out: list[tuple[int, int]] = []
    for s, e in sentence_spans(text):
        lead = _LEADING.match(text, s, e)
        if out and lead:
            out[-1] = (out[-1][0], len(text[:lead.end()].rstrip()))
            s = lead.end()
        if s < e:
            out.append((s, e))
    return out


def _readings(claim: str):
    """The claim, then its text up to each comma, longest first, with its marker runs: a sentence whose last
    clause the passages do not back ("… is Garry Marshall, who was born on …") keeps the clause they do; a
    date's year is no clause to cut. Only for a claim whose markers all follow its text: a claim citing part
    by part is checked whole."""
    yield claim
    marks = list(MARKS.finditer(claim))
    body = claim[:marks[0].start()] if marks else claim
    if claim_terms(claim[len(body):]):
        return
    runs = " ".join(m.group() for m in marks)
    for comma in reversed([m.start() for m in re.finditer(r",\s+(?!\d)", body)]):  # not "August 12, 2023"
        yield f"{body[:comma].rstrip()} {runs}".rstrip() + "."


def _verify_claim(claim: str, by_n: dict, order: dict[int, int], quoted: dict[int, list[tuple[int, int]]],
                  min_support: float, given: set[str], asked: str = "") -> str | None:
    """The claim with its markers numbered by `order`, or None when some part of it is supported by no
    passage, or names a person or place (spaCy's PERSON, GPE) that neither its passages nor the question
    (`asked`) name word for word (`_words`), a country also by its name, demonym or capital (`countries`): the
    word check skips short words ("Li Lifeng" is not "He Lifeng"), and a name from outside the passages backs
    nothing ("The 2008 Olympics were hosted in Beijing" on a passage about the bids). The sentences that back a kept claim are added to `quoted` (passage n
    -> spans), and a passage first cited here is numbered next in `order`.

    Each run of markers covers the text since the previous run (text after the last run belongs to the last).
    """
    raw = []  # (text, cited passages, marker runs); unknown passage numbers are dropped here
    pos = 0
    for m in MARKS.finditer(claim):
        raw.append((claim[pos:m.start()], [n for n in _numbers(m.group()) if n in by_n], [m]))
        pos = m.end()
    if raw:
        raw[-1] = (raw[-1][0] + " " + claim[pos:], *raw[-1][1:])
    else:
        raw = [(claim, [], [])]
    segments, pending = [], None
    for part, ns, runs in raw:  # a part with nothing to check (no passages or no words) joins a neighbour
        if pending:
            part, ns, runs = pending[0] + " " + part, pending[1] + ns, pending[2] + runs
            pending = None
        if ns and content_terms(part):
            segments.append((part, ns, runs))
        elif segments:
            last = segments[-1]
            segments[-1] = (last[0] + " " + part, last[1] + ns, last[2] + runs)
        else:
            pending = (part, ns, runs)
    if pending:
        segments.append(pending)  # nothing checkable at all: fails below

    plans = []
    for part, ns, runs in segments:
        terms = claim_terms(part)
        # a year or figure the question asked about must be in the passage, if not in the quote (a date line)
        about = {t for t in terms & given if t[0].isdigit()}
        fits = [p for p in by_n.values() if about <= content_terms(f"{p.hit.title} {p.hit.published_at} {p.hit.text}")]
        # backed: what the part adds to the question is quoted, or most of its words are
        checks = [t for t in (terms - given, terms - about) if t]
        chosen = _supporting(part, [p for p in fits if p.n in ns], checks, min_support)
        if not chosen:
            chosen = _supporting(part, [p for p in fits if p.n not in ns], checks, min_support, one=True)
        # a passage that shares no word with what the part restates of the question is about another story:
        # "Fiji plunged into chaos, prompting its leader to flee [1]" on a passage that only names Fiji
        restated = {t for t in terms & given if not is_figure(t)}
        if not terms or not chosen or restated and not support(part, [passage_text(by_n[n]) for n in chosen], restated):
            return None
        names = entities(part, ("PERSON", "GPE"))
        if names:  # the cited articles are read word by word only for a part that names someone or somewhere
            read = " ".join([asked, *(by_n[n].article for n in chosen)])
            said, places = _words(read), None
            for a, b, label in names:
                if _words(part[a:b]) in said:
                    continue
                if label == "GPE" and (where := countries(part[a:b])):
                    places = countries(read) if places is None else places
                    if where <= places:  # "Germany" for "the Germans", "China" for "Beijing"
                        continue
                return None
        if _misattributed(part, [by_n[n].article[s:e] for n, spans in chosen.items() for s, e in spans]):
            return None
        plans.append((runs, chosen))

    replace: dict[int, str] = {}  # marker run start -> its new markers
    tail = ""
    for runs, chosen in plans:
        for n, spans in chosen.items():
            quoted.setdefault(n, []).extend(spans)
            order.setdefault(n, len(order) + 1)
        markers = "".join(f"[{k}]" for k in sorted(order[n] for n in chosen))
        replace.update({m.start(): "" for m in runs})
        if runs:
            replace[runs[0].start()] = markers
        else:
            tail = markers
    out = MARKS.sub(lambda m: replace[m.start()], claim)
    if tail:
        out = re.sub(r"(?=[.!?]?\s*$)", f" {tail}", out.rstrip(), count=1)
    return re.sub(r"[ \t]+(?=[.,;:!?]|$)", "", re.sub(r"[ \t]{2,}", " ", out)).strip().rstrip(",;")


def stems(text: str) -> set[str]:
    """The text's words as compared: lower-cased prefixes (rag.text.prefix)."""
    return {prefix(w) for w in re.findall(r"\w+", text.lower())}


def _misattributed(part: str, quotes: list[str]) -> bool:
    """Whether the claim gives an amount (spaCy's MONEY, PERCENT, QUANTITY, CARDINAL) to another actor than its
    quote does, where the quote has the claim's actor do something else: "Beijing retaliated with 145 per cent"
    on "Trump slapped tariffs of 145 per cent and Beijing responded with 125 per cent". Who did what is read
    from spaCy's parse (`rag.nlp.actor`)."""
    for a, b, _ in entities(part, tuple(AMOUNT_LABELS)):
        if not (ours := actor(part, a, b)):
            continue
        for quote in quotes:
            at = quote.find(part[a:b])
            theirs = actor(quote, at, at + b - a) if at >= 0 else None
            if theirs and not stems(ours) & stems(theirs) and any(stems(ours) & stems(s) for s in subjects(quote)):
                return True
    return False


_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> str:
    """The text's words, lower-cased, one space apart and around, dots dropped and apostrophes and hyphens
    splitting them ("Li Chenggang’s" -> " li chenggang s ", "U. S.-China" -> " us china "): a name is found
    in it as " li chenggang "."""
    return " " + " ".join(_WORD.findall(undotted(text.lower()).replace(".", ""))) + " "


def _supporting(part: str, passages: list[Passage], checks: list[set[str]], min_support: float,
                one: bool = False) -> dict[int, list[tuple[int, int]]]:
    """Passage n -> the sentences of it that back `part` together, or {} when they hold less than `min_support`
    of every set of words in `checks`; with `one`, only the single passage that backs the part best."""
    by_n = {p.n: p for p in passages}
    chosen = {p.n: q for p in passages if (q := _best_quotes(part, p, checks, min_support))}

    def backing(ns) -> float:
        return _backing(part, [by_n[n].article[s:e] for n in ns for s, e in chosen[n]], checks)

    if one and chosen:
        best = max(chosen, key=lambda n: backing([n]))
        chosen = {best: chosen[best]}
    return chosen if checks and chosen and backing(chosen) >= min_support else {}


def _backing(part: str, quotes: list[str], checks: list[set[str]]) -> float:
    return max((support(part, quotes, terms) for terms in checks), default=0.0)


def _best_quotes(claim: str, p: Passage, checks: list[set[str]], min_support: float) -> list[tuple[int, int]]:
    """The passage sentence that best backs the claim (`_backing`), or the best pair when one sentence is not
    enough.

    Sentences addressed to an AI ('ignore previous instructions…') never count, and a quote must share a word
    with the claim.
    """
    words = set().union(*checks)
    spans = [(s, e) for s, e in sentence_spans(p.article, p.hit.start, p.hit.end) if not is_instruction(p.article[s:e])]
    pool = [x for x in spans if words & content_terms(p.article[x[0]:x[1]])]
    if not pool:
        return []

    def score(spans):
        quotes = [p.article[s:e] for s, e in spans]
        return _backing(claim, quotes, checks), len(words & set().union(*map(content_terms, quotes))), -len(spans)

    best = max(([x] for x in pool), key=score)
    # a pair is a sentence and its neighbour (a claim over a hard-wrapped line's two halves): the citation quotes
    # everything between its ends, which for sentences apart is text the claim does not rest on
    at = spans.index(best[0])
    pairs = [sorted(best + [spans[i]]) for i in (at - 1, at + 1) if 0 <= i < len(spans)]
    if score(best)[0] < min_support and pairs:
        pair = max(pairs, key=score)
        if score(pair)[0] > score(best)[0]:
            return pair
    return best
