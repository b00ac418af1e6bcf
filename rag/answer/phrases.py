"""Find the short answer phrase (a date, a number, a name, a place) inside a supporting sentence."""
from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache

from ..dates import coarser
from ..nlp import clause_tense, entities, name_end, nlp, parse, read, tree_distance, wh_verb
from ..text import FUNCTION_WORDS, MONTH_PATTERN, MONTHS, WEEKDAY_PATTERN, WEEKDAYS, stem
from .countries import countries, country_name, mentions
from .places import placed
from .question import asked_sentence, asked_tense, asked_unit, asks_price, counted_noun

_DATE = re.compile(
    rf"\b(?:(?:{WEEKDAY_PATTERN}),?\s+)?(?:(?:{MONTH_PATTERN})\s+\d{{1,2}}(?:st|nd|rd|th)?(?:\s*(?:and|to|-|–)\s*\d{{1,2}})?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}\s+(?:{MONTH_PATTERN})(?:\s+\d{{4}})?"
    rf"|(?:the\s+)?(?:end|middle|start|beginning)\s+of\s+(?:{MONTH_PATTERN})(?:\s+\d{{4}})?"
    rf"|(?:mid-|early\s+|late\s+)?(?:{MONTH_PATTERN})(?:\s+\d{{4}})?"
    rf"|(?:next|this|last)\s+(?:week|month|year)|\b(?:{WEEKDAY_PATTERN})\b|\b(?:19|20)\d{{2}}s?)(?!\w)")
_NUMBER = re.compile(r"(?:\$\s?)?\b\d[\d,]*(?:\.\d+)?(?:(?:\s?(?:%|per\s?cent|percent|trillion|billion|million|"
                     r"thousand|tons|tonnes|barrels|days?|weeks?|months?|years?|points?)|-day|-year|-month|th|st|nd|rd)(?!\w)){0,2}"
                     r"(?!\w)|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|dozens?|hundreds?)\s+"
                     r"(?:hundred|thousand|million|billion|of\s+\w+)\b", re.I)
_CAP = r"(?:[A-Z]\.(?:[A-Z]\.)+|[A-Z][\w’'\-]*)"
_NAME = re.compile(rf"{_CAP}(?:\s+(?:de|van|von|bin|al-)?\s*{_CAP}){{0,5}}")
_NOT_NAME = {w.capitalize() for w in WEEKDAYS + MONTHS} | set(("The A An In On At Of For And But If This That "
                 "These Those It Its He She They We I You President Vice Premier Minister Secretary "
                 "Treasury Commerce Foreign Trade Representative Spokesperson Chinese Ministry Officials Official "
                 "US U.S. U.S China Beijing Washington White House United States American Department Deputy "
                 "According Source Original Statement Media Report Prime Chief Head Senior Top Lead Chairman "
                 "Mr Mrs Ms Dr Gen Gov Sen Rep Commission Council Agency Government State Economic Security "
                 "Review Business Fox Bloomberg Xinhua Reuters AFP Journal Street Wall Times Post News").split())
_ROLE = set("President Vice Premier Minister Secretary Treasury Commerce Foreign Trade Representative "
            "Spokesperson Deputy Prime Chief Chairman Mr Mrs Ms Dr Gen Gov Sen Rep US U.S U.S. Chinese Senior".split())
_PLACE_PREP = re.compile(rf"\b(?:in|at|to|from|visit(?:ed|ing)?|into)\s+(?:the\s+)?({_CAP}(?:\s+{_CAP}){{0,2}})")
_ORDINAL = re.compile(r"\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|"
                      r"\d+(?:st|nd|rd|th))\b", re.I)
_NOT_PLACE = set(_NOT_NAME - {"Beijing", "Washington", "China", "US", "U.S.", "U.S", "United", "States"})
def candidates(kind: str, sentence: str) -> list[tuple[int, int]]:
    if kind == "date":
        return [m.span() for m in _DATE.finditer(sentence)]
    if kind == "number":
        return [m.span() for m in _NUMBER.finditer(sentence) if re.search(r"\d|[a-z]", m.group())]
    if kind == "person":
        return [span for m in _NAME.finditer(sentence)
                if (span := _trim_name(sentence, m.span()))]
    if kind == "place":
        return [m.span(1) for m in _PLACE_PREP.finditer(sentence)
                if not set(m.group(1).split()) <= _NOT_PLACE and not _DATE.fullmatch(m.group(1))]
    if kind == "ordinal":
        return [m.span() for m in _ORDINAL.finditer(sentence)]
    return []


def _trim_name(sentence: str, span: tuple[int, int]) -> tuple[int, int] | None:
    """Drop a leading article ("The"); names have 2+ words."""
    words = [(span[0] + m.start(), span[0] + m.end()) for m in re.finditer(r"\S+", sentence[span[0]:span[1]])]
    while words and sentence[words[0][0]:words[0][1]].rstrip(".") in {"The", "A", "An"}:
        words.pop(0)
    if len(words) < 2 or all(sentence[a:b].strip(".,’'") in _NOT_NAME for a, b in words):
        return None
    return words[0][0], words[-1][1]


# The spaCy (OntoNotes) entity labels that answer each kind of question, most fitting first: "who won"
# is a person, else a team, company or country.
# Amounts are left to the patterns below: typed by the NER ("50 cents" for "$5.02") they cost RealTime QA dev
# more answers than they gained (dev suite); only a price question ("How much did it cost?") asks for MONEY.
ANSWER_LABELS = {"person": ("PERSON", "ORG", "GPE", "NORP"), "place": ("GPE", "LOC", "FAC"), "date": ("DATE",)}
TYPED_CHARS = 1000  # a run-on scraped "sentence" is read this far for entities


# "Which country / city / state ...?" asks for a geopolitical entity (OntoNotes GPE), not any place: an island
# (LOC) or a building (FAC) is no country
_ASKS_GPE = re.compile(r"\b(?:which|what)\s+(?:city|cities|country|countries|capital|nation|state|states)\b", re.I)


# Set by the extractive answerer for one answer when the question's evidence gives the asked role to people
# (`held_by_people`): a "who" is then answered by a PERSON only, not by an organisation or a place.
PEOPLE_ONLY: ContextVar[bool] = ContextVar("people_only", default=False)


@contextmanager
def people_only(flag: bool = False):
    """`PEOPLE_ONLY` set to `flag` inside the block, as it was after it."""
    scope = PEOPLE_ONLY.set(flag)
    try:
        yield
    finally:
        PEOPLE_ONLY.reset(scope)


def asked_labels(kind: str | None, question: str) -> tuple[str, ...]:
    """The entity labels that answer the question, most fitting first; () when its kind has no type."""
    if kind == "person" and PEOPLE_ONLY.get():
        return ("PERSON",)
    if kind == "number" and asks_price(question):
        return ("MONEY",)
    if kind == "place" and _ASKS_GPE.search(asked_sentence(question)):
        return ("GPE",)
    return ANSWER_LABELS.get(kind or "", ())


def read_ahead(kind: str | None, question: str, sentences) -> None:
    """Runs the NER in one batch over the `sentences` about to be read for the answer to `question`, when
    its readers read the NER there: a typed `kind` (`asked_labels`) other than a "which country", or None for a
    "which/what <noun>" question, whose names of any label are compared (THING_LABELS). Each sentence then
    costs a lookup (rag.nlp.read)."""
    if kind is None or (asked_labels(kind, question) and not _asks_country(kind, question)):
        read(s[:TYPED_CHARS] for s in sentences)


def typed_spans(kind: str | None, question: str, sentence: str) -> list[tuple[int, int]]:
    """Entities in `sentence` of the type `kind` asks for that the question does not already name, of the
    most fitting label present (spaCy's NER); [] when there is none. A date is a point in time: the NER's
    DATE also tags lengths of time ("90-day" truce, "two years"), which answer no "when", and a date of a longer
    unit than the question asks for ("this week" for "Which days ...?", "2019" for a release date) is none."""
    spans = typed_spans_of(asked_labels(kind, question), question, sentence)
    if kind != "date":
        return spans
    spans = [_ranged(sentence, *sp) for sp in _of_unit(question, sentence, spans)
             if not _duration(sentence[sp[0]:sp[1]])]
    return [sp for sp in spans if not _inside(sp, spans)]


def _of_unit(question: str, sentence: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The date spans no longer a unit than the question asks for (`asked_unit`, rag.dates.coarser)."""
    unit = asked_unit(question)
    return [sp for sp in spans if not (unit and coarser(sentence[sp[0]:sp[1]], unit))]


def _inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    """Whether `span` lies within another of `spans` ("May 3" within "between May 3 and May 10")."""
    return any(o != span and o[0] <= span[0] and span[1] <= o[1] for o in spans)


_RANGE_ENDS = {"between": ("conj",), "from": ("to", "until", "till", "through")}


def _ranged(sentence: str, start: int, end: int) -> tuple[int, int]:
    """A date's span grown to the range it opens, read from the parse ("between May 3 and May 10", "from Monday
    until Friday"): the NER tags each end on its own, and one end alone is no answer to when."""
    doc = parse(sentence[:TYPED_CHARS])
    span = doc.char_span(start, end, alignment_mode="expand") if end <= len(doc.text) else None
    if span is None or span.root.dep_ != "pobj" or span.root.head.lower_ not in _RANGE_ENDS:
        return start, end
    prep, root = span.root.head, span.root
    if prep.lower_ == "between":
        other = next((t for t in root.children if t.dep_ == "conj"), None)
    else:
        to = next((t for t in prep.head.children if t.i > root.i and t.dep_ == "prep"
                   and t.lower_ in _RANGE_ENDS["from"]), None)
        other = next((t for t in to.children if t.dep_ == "pobj"), None) if to is not None else None
    if other is None:
        return start, end
    last = max(other.subtree, key=lambda t: t.i)
    return prep.idx, max(end, last.idx + len(last))


_UNITS = frozenset({"day", "days", "week", "weeks", "month", "months", "year", "years", "decade", "decades"})


def _duration(phrase: str) -> bool:
    """Whether a DATE phrase is a length of time: a count of calendar units ("90-day", "two years"; spaCy's
    `like_num` reads the count), not a point ("2020", "last year", "three years ago")."""
    tokens = [t for t in nlp().tokenizer(phrase) if not t.is_punct]
    return len(tokens) >= 2 and tokens[-1].lower_ in _UNITS and tokens[-2].like_num


def typed_spans_of(labels: tuple[str, ...], question: str, sentence: str,
                   tiered: bool = True) -> list[tuple[int, int]]:
    """Entities in `sentence` with one of `labels` that the question does not already name, when `tiered`
    only those of the first label in `labels` present; [] when there is none."""
    if not labels:
        return []
    # a name that only repeats the question's words, in any form ("Acquire" for "Who acquired ...?"), is none
    asked = _asked_stems(question)
    found = [(s, e, label) for s, e, label in entities(sentence[:TYPED_CHARS], labels)
             if not _repeats(sentence[s:e], asked)
             and not (label == "NORP" and _modifier(sentence, s, e))]
    tier = min((labels.index(label) for _, _, label in found), default=None)
    found = [(s, e, label) for s, e, label in found if not tiered or labels.index(label) == tier]
    # only the names kept are parsed for where they end (rag.nlp.name_end)
    return [_whole_words(sentence, s, name_end(sentence[:TYPED_CHARS], s, e)) if label in ("PERSON", "ORG")
            else _whole_words(sentence, *placed(sentence[:TYPED_CHARS], s, e)) if label == "GPE"
            else _whole_words(sentence, s, e) for s, e, label in found]


_POSSESSIVE = re.compile(r"[’']s?$")  # the NER's "Kestrel Bay's" repeats the question's "Kestrel Bay"


@lru_cache(maxsize=256)
def _asked_stems(question: str) -> frozenset[str]:
    """The stems of the question's words, which `_repeats` compares a span's with: read once a question, not
    once for each candidate sentence."""
    return frozenset(stem(w) for w in _words(question))


def _repeats(span: str, asked: frozenset[str]) -> bool:
    """Whether every word of a candidate span is one of the question's (`asked`: their stems), in any form
    ("Acquire" for "Who acquired ...?", "Kestrel Bay's" for "Kestrel Bay"): such a span names nothing new."""
    return {stem(w) for w in _words(_POSSESSIVE.sub("", span))} <= asked


def _modifier(sentence: str, start: int, end: int) -> bool:
    """Whether a group's name modifies a noun, as an adjective (spaCy's tag: "Swedish officials") or the head of
    a hyphened one ("the Aarhus-based maker"): it names no one who did or is anything."""
    if sentence[end:end + 1] == "-":
        return True
    doc = parse(sentence[:TYPED_CHARS])
    span = doc.char_span(start, end, alignment_mode="expand")
    return span is not None and span.root.pos_ == "ADJ"


def _words(text: str) -> set[str]:
    """Lower-cased words, abbreviations without their dots ("U.S." and "US" are one word)."""
    return {w.lower() for w in re.findall(r"\w+", text.replace(".", ""))}


_ASKS_COUNTRY = re.compile(r"\b(?:which|what)\s+(?:country|countries|nation|nations)\b", re.I)


def _asks_country(kind: str | None, question: str) -> bool:
    """Whether a place question asks "which country": a country answers it, never a city spaCy tags GPE."""
    return kind == "place" and bool(_ASKS_COUNTRY.search(asked_sentence(question)))


def _countries(question: str, sentence: str) -> list[tuple[str, int, int]]:
    """For a "which country" question, the countries the sentence names by name, demonym or capital ("Saudi
    Arabian", "Riyadh": rag/answer/countries.py, from the countryinfo package) that the question does not."""
    if not _asks_country("place", question):
        return []
    asked = countries(question)
    return [(c, s, e) for c, s, e in mentions(sentence[:TYPED_CHARS]) if c not in asked]


def holds_asked_type(kind: str | None, question: str, sentence: str) -> bool:
    """Whether the sentence holds a value of the type the question asks for (`typed_spans`; for a number, a
    number the question does not already name); True when the kind has no type."""
    if _asks_country(kind, question):
        return bool(_countries(question, sentence))
    if kind == "number" and not asked_labels(kind, question):
        asked = _words(question)
        return any(not _words(sentence[s:e]) <= asked for s, e in candidates(kind, sentence))
    return not asked_labels(kind, question) or bool(typed_spans(kind, question, sentence))


def alike(kind: str | None, question: str, items: list) -> list:
    """The items of a list answer (sentences with `.text`, the best first) whose most fitting entity of the
    asked labels is as fitting as the best one's, so a list of people names no outlet or place among them
    ("He Lifeng" and "Li Chenggang", not "Macau Business", an ORG that "who" takes only where no person is
    named). An item, or a best one, without such an entity stays (the pattern-found names of `candidates`).
    On the dev suite: seeds F1 0.600 -> 0.603, citation precision 0.887 -> 0.893, no answer worse; letting a
    later sentence take a dropped item's place instead named Scott Bessent among the Chinese officials."""
    labels = asked_labels(kind, question)
    if len(labels) < 2:
        return items
    tiers = [min((labels.index(label) for _, _, label in entities(x.text[:TYPED_CHARS], labels)), default=None)
             for x in items]
    return [x for x, t in zip(items, tiers) if None in (t, tiers[0]) or t <= tiers[0]]


def _whole_words(sentence: str, start: int, end: int) -> tuple[int, int]:
    """The span grown to the whitespace around it, less edge punctuation and a possessive: the tokenizer splits
    "€3.5m" into "€", "3.5" and "m" and the NER may tag only "3.5", but the unit is part of the answer."""
    while start > 0 and not sentence[start - 1].isspace():
        start -= 1
    while end < len(sentence) and not sentence[end].isspace():
        end += 1
    while start < end and sentence[start] in "([“\"'‘":
        start += 1
    while end > start and sentence[end - 1] in ".,;:!?)]”\"'’":
        end -= 1
    if sentence[end - 2:end] in ("'s", "’s") and end - 2 > start:  # "China's" names China
        end -= 2
    return start, end


def best_phrase(kind: str | None, question: str, sentence: str, earlier: str | None = None) -> str | None:
    """The value of the wanted kind that is not in the question and sits nearest the question's words: an
    entity of the asked type (`typed_spans`) where the NER finds one, else a pattern match. Words the
    conversation was already about (`earlier`: the question a follow-up follows, the person a pronoun stood
    for) are not anchors: what changed is what the answer sits next to."""
    if kind is None:
        return None
    earlier = {w.lower() for w in re.findall(r"\w+", earlier or "")}
    qwords = {w.lower() for w in re.findall(r"\w+", question)}
    asks_country = _asks_country(kind, question)
    named = _countries(question, sentence) if asks_country else []
    typed = [(s, e) for _, s, e in named] if asks_country else typed_spans(kind, question, sentence)
    # a number is read as the whole words it is part of ("19" of "COVID-19") before it is compared with the question
    asked = _asked_stems(question)
    patterns = [sp for sp in (_whole_words(sentence, *sp) if kind == "number" else sp for sp in candidates(kind, sentence))
                if not _repeats(sentence[sp[0]:sp[1]], asked)]
    # a date pattern ("Jul 23") competes with the NER's dates ("Wednesday"): the more specific one wins below
    if kind == "date":  # a pattern inside a typed range ("May 3" of "between May 3 and May 10") is part of it
        patterns = [p for p in _of_unit(question, sentence, patterns) if not _inside(p, typed)]
    spans = (typed + patterns if kind == "date" else typed) or ([] if asks_country else patterns)
    if not spans:
        return None
    tense = asked_tense(question) if kind == "date" and len(spans) > 1 else None
    anchors = [m.span() for m in re.finditer(r"\w+", sentence)
               if m.group().lower() in qwords - earlier and m.group().lower() not in FUNCTION_WORDS]

    def words_between(a: int, b: int) -> int:
        return sum(1 for w in re.findall(r"\w+", sentence[a:b]) if w.lower() not in FUNCTION_WORDS and w not in _ROLE)

    def gap(sp: tuple[int, int], anchor: tuple[int, int]) -> int:
        """Content words between anchor and candidate; answers tend to follow their anchor ("headed by X")."""
        if sp[0] >= anchor[1]:
            return words_between(anchor[1], sp[0])
        return 3 * words_between(sp[1], anchor[0]) + 1 if sp[1] <= anchor[0] else 0

    def cost(sp: tuple[int, int]) -> tuple[int, int]:
        specific = -3 if re.search(r"\d", sentence[sp[0]:sp[1]]) else 0
        if kind == "date" and tense and tense != clause_tense(sentence[:TYPED_CHARS], *sp):
            # a date whose clause is not read in the question's tense ("implemented in May" for "When does the
            # truce end?", or a clause with no tense to read) costs what a digit gains
            specific += 3
        gaps = [gap(sp, a) for a in anchors] or [0]
        # of two candidates as near, the one more of the question's words lead up to ("U.S. Treasury
        # Secretary Scott Bessent and U.S. Trade Representative Jacquelyn Gilliam")
        return min(gaps) + specific, -gaps.count(min(gaps))

    costs = [cost(sp) for sp in spans]
    if kind == "person" and len(spans) > 1 and anchors:  # the one the parse gives the asked role comes first
        doc = parse(sentence[:TYPED_CHARS])
        costs = [(not _takes_role(doc, sp, anchors), *c) for sp, c in zip(spans, costs)]
    tied = [sp for sp, c in zip(spans, costs) if c == min(costs)]
    s, e = _fewest_edges(tied, question, sentence[:TYPED_CHARS], anchors) if len(tied) > 1 and anchors else tied[0]
    if kind == "number":  # with the unit the NER reads after the figure: "2.3" -> "2.3 metres" (QUANTITY)
        e = max([e, *(b for a, b, _ in entities(sentence[:TYPED_CHARS], ("QUANTITY", "MONEY", "PERCENT")) if a <= s < e <= b)])
    # a country named by its demonym or capital is answered with its name
    return next((country_name(c) for c, a, b in named if (a, b) == (s, e)), sentence[s:e].strip(" ,;:"))


def _takes_role(doc, sp, anchors) -> bool:
    """Whether the name at `sp` is the subject of a verb whose complement holds one of the question's words
    ("Ingrid Holm will become chief executive", "Halvorsen will take over as chief executive", "Kell, who
    becomes chairman"): who is the role, in spaCy's parse."""
    name = doc.char_span(*sp, alignment_mode="expand")
    if name is None or not len(name):
        return False
    root = name.root
    verbs = [root.head] if root.dep_ in ("nsubj", "nsubjpass") else []
    verbs += [c for c in root.children if c.dep_ == "relcl" and any(w.dep_ in ("nsubj", "nsubjpass") and w.tag_ in ("WP", "WDT") for w in c.children)]
    for a in anchors:
        word = doc.char_span(*a, alignment_mode="expand")
        t = word.root if word is not None and len(word) else None
        for _ in range(4):
            if t is None or t.dep_ not in ("attr", "oprd", "pobj", "prep", "amod", "compound"):
                break
            t = t.head
            if t in verbs:
                return True
    return False


def _fewest_edges(tied: list[tuple[int, int]], question: str, sentence: str,
                  anchors: list[tuple[int, int]]) -> tuple[int, int]:
    """Of candidates as near the question's words, the one fewest parse edges from the verb the question's
    wh-word hangs on ("what did Beijing RETALIATE with": "Beijing responded with 125 per cent"), else from
    the question's words; the first when they tie. The sentence is parsed only here, when a tie needs it."""
    doc = parse(sentence)
    verb = wh_verb(asked_sentence(question))
    heads = [(t.idx, t.idx + len(t)) for t in doc if t.lemma_.lower() == verb] if verb else []

    def edges(sp: tuple[int, int]) -> int:
        found = [d for a in heads or anchors if (d := tree_distance(doc, sp, a)) is not None]
        return min(found, default=99)

    return min(tied, key=edges)


# The entity labels a "which/what <noun>" question can ask for when its noun names no kind above: any name
# or value; which one is for the noun's embedding to say ("release date": a DATE, "automaker": an ORG).
THING_LABELS = ("PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW",
                "DATE", "TIME", "MONEY", "PERCENT", "QUANTITY", "CARDINAL", "ORDINAL")


def counted(question: str, sentence: str) -> str | None:
    """For a "how many <noun>" question, the number the sentence's parse attaches to that noun with the noun
    ("Chestnut ate 63 hot dogs in his 15th win" -> "63 hot dogs", "extended six months" -> "six months");
    None when the question counts nothing or the sentence counts no such noun."""
    noun = counted_noun(question)
    if not noun:
        return None
    doc = parse(sentence[:TYPED_CHARS])
    for t in doc:
        if t.dep_ == "nummod" and t.head.lemma_.lower() == noun:
            start = min(w.i for w in t.subtree)
            return doc[start:t.head.i + 1].text
    return None


def held_by_people(role: str, texts) -> bool:
    """Whether the evidence gives a role ("ceo", from `asked_role`) to people: among the `texts` that use the
    word, the names it is tied to in spaCy's parse (the head of "Google CEO Sundar Pichai", the name "the CEO"
    stands in apposition to, the subject of "... is the CEO") are people more often than not. A role held
    by people is answered by a person only; one held by teams or countries ("runner-up") by any name."""
    people = others = 0
    for text in texts:
        if role not in text.lower():
            continue
        for t in parse(text[:TYPED_CHARS]):
            if t.lemma_.lower() != role:
                continue
            holders = [t.head] if t.dep_ in ("compound", "appos") else []
            holders += [c for c in t.children if c.dep_ == "appos"]
            if t.dep_ == "attr":
                holders += [c for c in t.head.children if c.dep_ in ("nsubj", "nsubjpass")]
            for h in holders:
                people += h.ent_type_ == "PERSON"
                others += h.ent_type_ in ("ORG", "GPE", "NORP", "LOC", "FAC")
    return people > others
