"""What a question asks: its last sentence, the kind of value it wants (a date, a number, a person, a
place), the noun it asks for, its parts when it is compound, and whether it names the type of its answer. Read
with spaCy's tags and parse (rag.nlp) and the wh-words."""
from __future__ import annotations

import re
from functools import lru_cache

from ..nlp import parse, tense_of

_LAST_SENTENCE = re.compile(r"(?<=[a-z0-9][.!?])\s+(?=[A-Z])")  # not after "U.S."


def asked_sentence(question: str) -> str:
    """The question's last sentence: what a quiz question's preamble ("Police arrested 31 men ... who
    allegedly planned ...") leads up to ("Where was it?")."""
    return _LAST_SENTENCE.split(question.strip())[-1]


def question_kind(question: str, earlier: str | None = None) -> str | None:
    """The kind of value asked for, read from the question's last sentence: a quiz question's preamble
    ("Police arrested 31 men ... who allegedly planned ...") does not say what is asked ("Where was it?").
    `earlier` is the question a follow-up follows (rag/followup.py)."""
    last = _unrelative(asked_sentence(question))
    # a follow-up that names no kind ("And what did Beijing retaliate with?") asks what the question it follows did
    return (_kind(last.lower()) or head_kind(question)
            or _kind(f"{_unrelative(question)} {earlier or ''}".lower()))


def head_kind(question: str) -> str | None:
    """The kind the noun a "what is the <noun>" question asks for names, read as "what <noun>" is: "What is
    the release date of ...?" asks for a date as "What date ...?" does (`asked_head`: spaCy's tags). Only
    after the verb: the tags of a "which <noun>" run are less sure ("which popular product early next
    month": "month"), and `_kind` reads "which <noun>" itself."""
    doc = _asked_doc(question)
    wh = next((t for t in doc if t.lower_ in ("what", "which")), None)
    if wh is None or wh.i + 1 >= len(doc) or doc[wh.i + 1].pos_ != "AUX":
        return None
    head = asked_head(question)
    return _kind(f"what {head.split()[-1].lower()}") if head else None


def _unrelative(text: str) -> str:
    """`text` with its relative pronouns as "that" when another wh-word asks the question (spaCy's tags and
    parse: a relative one's head heads a relative clause): "the terrorist, who was associated with which
    group?" asks for a group, not a person; "Name the officials who ..." still asks for people."""
    doc = parse(text)
    # "whose" hangs on its noun ("whose implementation"), which hangs on the clause
    relative = {t.i for t in doc if t.tag_ in ("WP", "WP$", "WDT") and "relcl" in (t.head.dep_, t.head.head.dep_)}
    if not any(t.tag_ in ("WP", "WP$", "WDT", "WRB") and t.i not in relative for t in doc):
        return text
    return "".join(("that" + t.whitespace_) if t.i in relative else t.text_with_ws for t in doc)


def _kind(q: str) -> str | None:
    if re.search(r"\b(when|(what|which) (dates?|days?|months?|years?)|by when|deadline|how long ago)\b", q):
        return "date"
    if re.search(r"\b(how (many|much|high|big|large|long)|"
                 r"what (?:\w+ )?(percent|percentage|rate|level|share|amount|number|value|figure|size)|"
                 r"which (rate|level|percentage)|"
                 r"what(?:'s| is| was| are| were) (?:the )?(?:[\w’'-]+ ){0,3}(rate|percentage|level|price|amount))\b", q):
        return "number"
    if re.search(r"\b(who|whom|whose)\b", q):
        return "person"
    if re.search(r"\b(where|which (city|cities|country|countries|capital|place|venue|location|nation)|"
                 r"what (city|cities|country|countries|capital|place))\b", q):
        return "place"
    if re.search(r"\b(which|what) (round|stage|phase|edition|session|term|anniversary)\b", q):
        return "ordinal"
    return None


_SECOND_QUESTION = re.compile(r",?\s+and\s+(?=(?:what|which|who|whom|whose|when|where|why|how)\b)", re.I)


# a part that is a question of its own: "who/what/which ..." or a wh-word that leads to a verb ("how much of it
# did"), not a clause such as "... and when asked about ..."
_ASKS = re.compile(r"^(?:(?:who|whom|whose|what|which)\s+\S+\s+\S+|\w+(?:\s+[\w’'-]+){0,3}?\s+(?:is|are|was|were|did|"
                   r"does|do|will|would|has|have|had|can|could|should)\b)", re.I)


def question_parts(question: str) -> list[str]:
    """The questions a compound one asks ("Which product ..., and how much of it ...?"), each answered on its
    own; a single question comes back whole."""
    parts = [p[:1].upper() + p[1:] + "?" for p in (p.strip(" ,?") for p in _SECOND_QUESTION.split(question))]
    if len(parts) < 2 or not all(_ASKS.match(p) for p in parts[1:]):
        return [question]
    return parts


def wants_list(question: str) -> bool:
    return bool(re.search(r"\b(which|what|name)\s+(\w+\s+){0,2}(cities|countries|places|officials|people|topics|issues|"
                          r"goods|products|sectors|items|materials|economies|leaders|members|rounds|meetings|dates)\b"
                          r"|\ball\b|\blist\b|\bboth\b", question, re.I))


_PRICE = re.compile(r"^\W*how\s+much\b.*\b(?:cost|costs|costing|pay|paid|pays|spend|spent|spends|price|priced|"
                    r"charge|charged|charges|worth|fee)\b", re.I)


def asks_price(question: str) -> bool:
    """"How much did X cost / pay / spend ...?", or "What is the price / fee of ...?" (the asked noun, `asked_head`,
    one of the words above): the answer is an amount of money (spaCy's MONEY)."""
    head = asked_head(question)
    return bool(_PRICE.match(question) or head and _PRICE.match(f"how much {head.split()[-1]}"))


_ASKED_TYPE = re.compile(r"^\W*(?:when|who|whom|where|how\s+(?:much|many))\b", re.I)


def asks_type(question: str) -> bool:
    """Whether the question names the type of its answer by its opening words ("When ...", "Who ...", "How
    much ...") or by the noun it asks for ("What is the release date ...?", `head_kind`): only then does
    evidence without a value of that type mean the answer is not there."""
    return bool(_ASKED_TYPE.match(question)) or head_kind(question) is not None


def _asked_doc(question: str):
    """The question's last sentence as spaCy reads it, for `asked_head` and `counted_noun`."""
    return parse(asked_sentence(question))


@lru_cache(maxsize=256)
def asked_head(question: str) -> str | None:
    """The noun phrase a "which/what <noun>" question asks for, read from spaCy's part-of-speech tags in the
    question's last sentence: "Which automaker recalled 2.9 million vehicles?" -> "automaker", "Which type of
    extreme weather ...?" -> "type of extreme weather"; None when the wh-word stands alone ("What is it
    called?"). The tags, not the parse: the small parser often attaches "Which" to the verb when its noun has
    modifiers. The small tagger's slips show ("at which prestigious awards show?" -> "prestigious awards":
    "show" read as a verb)."""
    doc = _asked_doc(question)
    for t in doc:
        if t.lower_ in ("which", "what"):
            start = t.i + 1
            if start < len(doc) and doc[start].lower_ == "of":  # "Which of the following US cities"
                start += 1 + (start + 1 < len(doc) and doc[start + 1].pos_ == "DET")
            words = _noun_run(doc, start)
            if words and words[-1].i + 2 < len(doc) and doc[words[-1].i + 1].lower_ == "of":
                words += [doc[words[-1].i + 1], *_noun_run(doc, words[-1].i + 2)]
            if not words and start < len(doc) and doc[start].pos_ == "AUX":
                # "What is the release date of ...?", "What was Tesla's revenue ...?": the noun after the
                # verb's determiner or possessive
                at = _past_determiners(doc, start + 1)
                words = _noun_run(doc, at) if at > start + 1 else []
            after = words[-1].i + 1 if words else len(doc)
            if [w.lower_ for w in words] == ["name"] and after + 1 < len(doc) and doc[after].lower_ == "of":
                # "What is the name of the deal ...?" asks for a deal
                words = _noun_run(doc, _past_determiners(doc, after + 1))
            return " ".join(w.text for w in words) or None
    return None


def _past_determiners(doc, at: int) -> int:
    """The first token from `at` that is no determiner or possessive ("the", "Tesla's")."""
    while at < len(doc) and (doc[at].pos_ == "DET" or doc[at].tag_ == "POS" or (
            doc[at].pos_ == "PROPN" and at + 1 < len(doc) and doc[at + 1].tag_ == "POS")):
        at += 1
    return at


def _noun_run(doc, start: int) -> list:
    """The tokens from `start` that modify or are a noun, up to the last noun ("wildly popular show"); a name
    after a common noun opens the next phrase ("the additional tariff | Trump imposed"), and so does a date
    (the NER's: "revenue | last year" asks for revenue, not a year)."""
    run = []
    for w in doc[start:]:
        if (w.pos_ not in ("ADV", "ADJ", "NOUN", "PROPN", "NUM") and w.text != "-"
                or run and (w.pos_ == "PROPN" and run[-1].pos_ == "NOUN" or w.ent_iob_ == "B" and w.ent_type_ == "DATE")):
            break
        run.append(w)
    while run and run[-1].pos_ not in ("NOUN", "PROPN"):
        run.pop()
    return run


_UNIT_NOUNS = {"date": "day", "dates": "day", "day": "day", "days": "day", "month": "month", "months": "month",
               "year": "year", "years": "year"}


def asked_unit(question: str) -> str | None:
    """The calendar unit a "which/what <noun>" question asks its date in (`asked_head`): "day" for "Which days
    ...?" and "What is the release date ...?", "month", "year"; None for "When ...?", which takes any."""
    head = asked_head(question)
    return _UNIT_NOUNS.get(head.split()[-1].lower()) if head else None


@lru_cache(maxsize=256)
def counted_noun(question: str) -> str | None:
    """The lemma of the noun a "how many <noun>" question counts ("How many hot dogs ...?" -> "dog")."""
    doc = _asked_doc(question)
    for t in doc[:-2]:
        if t.lower_ == "how" and doc[t.i + 1].lower_ == "many":
            run = _noun_run(doc, t.i + 2)
            return run[-1].lemma_.lower() if run else None
    return None


@lru_cache(maxsize=256)
def asked_tense(question: str) -> str | None:
    """Whether a question asks about the past ("When did …?", "When was … founded?") or from now on ("When
    does the truce end?", "When will …?", "When is it set to …?"): "past", "later" or None, read from the
    tense spaCy's tagger gives its first auxiliary, else its first verb (rag.nlp.tense_of)."""
    doc = _asked_doc(question)
    verb = next((t for t in doc if t.pos_ == "AUX"), None) or next((t for t in doc if t.pos_ == "VERB"), None)
    return tense_of(verb) if verb is not None else None


def asked_role(question: str) -> str | None:
    """The role a "who is the <noun>" question asks about, as its noun's lemma ("Who is the CEO of Lego?" ->
    "ceo", "Who was the runner-up ...?" -> its head word); None for a "who" that asks about a doing ("Who won
    ...?"). Read from spaCy's parse: the noun that is the subject or complement of the question's "be"."""
    doc = _asked_doc(question)
    who = next((t for t in doc if t.lower_ == "who"), None)
    if who is None or who.head.lemma_ != "be":
        return None
    role = next((t for t in who.head.children if t is not who and t.dep_ in ("attr", "nsubj")
                 and (t.pos_ == "NOUN" or t.pos_ == "PROPN" and t.ent_type_ != "PERSON")),
                None)
    return role.lemma_.lower() if role is not None else None
