"""Turn a follow-up that points back ("and who led the Chinese side?", "when did she join?") into a standalone
question; a question that does not point back is asked as it is, however short."""
from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from .errors import RagError
from .nlp import nlp
from .types import Turn

_LEADING = re.compile(r"^\s*(and|but|also|so|what about|how about|then)\b", re.I)
_POINTS_BACK = re.compile(r"\b(he|she|they|them|him|his|her|hers|their|it|its|that|those|this|these|there|the same)\b",
                          re.I)
_NAME = re.compile(r"^(?:[A-Z][\w’'.-]+)(?:\s+(?:[A-Z][\w’'.-]+|de|van|von|da|al|bin))*$")


def points_back(question: str) -> bool:
    """Leans on the previous turn: opens with "and/but/what about …", names a pronoun, or trails off ("…")."""
    return bool(_LEADING.search(question) or _POINTS_BACK.search(question) or question.rstrip("?! ").endswith(("…", "...")))


def turns(history: list | str | None) -> tuple[Turn, ...]:
    """Earlier turns, oldest first, from what callers pass: question strings, {"question", "answer"} dicts,
    (question, answer) pairs or Turns, or one question string; RagError for anything else (a number is none)."""
    out = []
    for item in [history] if isinstance(history, str) else history or ():  # one question given alone
        if isinstance(item, Turn):
            out.append(item)
        elif isinstance(item, dict):
            out.append(Turn(str(item.get("question") or ""), str(item.get("answer") or "")))
        elif isinstance(item, (list, tuple)):
            out.append(Turn(str(item[0] if item else ""), str(item[1] if len(item) > 1 else "")))
        elif isinstance(item, str) or item is None:
            out.append(Turn(item or ""))
        else:
            raise RagError(f"a history turn is a question, a {{question, answer}} dict or a (question, answer) pair, "
                           f"not {type(item).__name__} {item!r}"[:200])
    return tuple(out)


def named_person(answer: str) -> str | None:
    """The one name a previous answer gave ("Jonas Berg [1] (reported …)" -> "Jonas Berg"), else None; a
    place or an organisation ("Stockholm", "Green List", as spaCy's NER reads them) is no person."""
    line = re.sub(r"\[\d{1,3}\]|\([^)]*\)", " ", (answer or "").split("\n", 1)[0])
    line = " ".join(line.replace("“", " ").replace("”", " ").split()).strip(" .,;:")
    if not (line and len(line.split()) <= 5 and _NAME.match(line)):
        return None
    return None if any(e.label_ != "PERSON" for e in nlp()(line).ents) else line


def _person_pronoun(question: str):
    """The first third-person singular pronoun of a person ("he", "her", "his"; spaCy's morphology says which)
    as a token, or None. A capitalised one inside the sentence is part of a name ("He Lifeng")."""
    for t in nlp()(question):
        m = t.morph
        if ("Prs" in m.get("PronType") and "3" in m.get("Person") and set(m.get("Gender")) & {"Masc", "Fem"}
                and not (t.i and t.text[:1].isupper())):
            return t
    return None


def _resolve(question: str, pronoun, name: str) -> str:
    """The pronoun (a spaCy token of `question`) replaced by the name: "his rival" -> "Jonas Berg’s rival"."""
    possessive = "Yes" in pronoun.morph.get("Poss")
    start, end = pronoun.idx, pronoun.idx + len(pronoun.text)
    return f"{question[:start]}{name}{'’s' if possessive else ''}{question[end:]}"


@dataclass(frozen=True)
class FollowUp:
    """A question made standalone. `question` is what is asked (a pronoun resolved); `follows` is the earlier
    question it is searched together with when it points back at no person (None otherwise); `referent` is
    the person a pronoun was resolved to, already in `question` ("Who was Jonas Berg’s rival?": "Jonas Berg").
    `condensed`: an LLM rewrote the question from the conversation (the condense-question step)."""

    question: str
    follows: str | None = None
    referent: str | None = None
    condensed: bool = False

    @property
    def search(self) -> str:
        """The text retrieval searches for, also shown to the reader ("Searched for: ...")."""
        return f"{self.question} (following: {self.follows})" if self.follows else self.question


def standalone(question: str, history: tuple[Turn, ...],
               condense: Callable[[str, tuple[Turn, ...]], str | None] | None = None) -> FollowUp:
    """The question unchanged unless it points back. Then `condense` (an LLM answerer's, given the question and
    the history) rewrites it when it can; otherwise a personal pronoun becomes the person the previous
    answer named ("When did she join the company?" -> "When did Clara Holm join the company?"); otherwise the
    previous question is searched with it, and kept apart for the answerer, because in a follow-up the words
    that changed ("Chinese side" after "US officials") are what the answer must sit next to.
    `history` holds the earlier turns, oldest first (`turns`)."""
    if not history or not points_back(question):
        return FollowUp(question)
    previous, answer = history[-1].question, history[-1].answer
    name = named_person(answer)
    if condense and (rewritten := condense(question, history)):
        return FollowUp(rewritten, referent=name if name and name in rewritten else None, condensed=True)
    q = re.sub(r"^\s*(and|but|also|so|then)\s*,?\s*", "", question, flags=re.I).strip()
    q = f"{q[:1].upper()}{q[1:]}"
    pronoun = _person_pronoun(q) if name else None
    if pronoun is not None:
        return FollowUp(_resolve(q, pronoun, name), referent=name)
    return FollowUp(q, previous.strip() or None)
