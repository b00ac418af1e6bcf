"""The offline answerer: picks the sentences that answer the question and quotes them verbatim."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ..cite import content_terms, is_instruction
from ..dates import asked_years, fuller_date, month_days, unplaced
from ..nlp import AMOUNT_LABELS, NAME_LABELS, value_label
from ..text import CJK, NUMBER, fuller_number, is_question, prefix, sentence_spans, wants_recent
from ..truecase import truecased
from ..types import Answer, Citation
from .base import (Context, Passage, Request, abstention, cite_sentence, joined, not_mentioned, quote_lines,
                   quote_window, reading_order, reports_differ, resolved, unnamed, without_year)
from .conflicts import Side, asks_stance, close_sides, disagreement, excludes, rescheduled, revised
from .copies import with_copies
from .corroborate import most_named
from .parts import part_named
from .phrases import (ANSWER_LABELS, PEOPLE_ONLY, THING_LABELS, TYPED_CHARS, alike, best_phrase, candidates, counted,
                      held_by_people, holds_asked_type, people_only, read_ahead, typed_spans_of)
from .question import asked_head, asked_role, asked_sentence, asks_price, asks_type, question_kind, question_parts, wants_list

NAME = "local"
_POINTS_BACK = re.compile(r"\b(it|its|they|them|their|that|those)\b", re.I)  # at a thing, not a person


@dataclass
class Scored:
    passage: Passage
    start: int
    end: int
    lexical: float
    dense: float = 0.0
    score: float = 0.0
    other: bool = False  # from a passage beyond the top k: may only show the other side of a disagreement
    mismatch: float = 0.0  # excludes what the question asks about
    lacks_number: bool = False  # lacks a number or year the question names: another fact, not another side

    @property
    def text(self) -> str:
        return self.passage.article[self.start:self.end]


class WordStats(Protocol):
    """The corpus's word statistics (rag.lexical.Lexical): rarity weights and chunk counts per word."""

    def idf(self, words: list[str]) -> np.ndarray: ...

    def doc_freq(self, words: list[str]) -> list[int | None]: ...

    def unknown(self, query: str) -> list[str]: ...


class LocalAnswerer:
    """Scores sentences by idf-weighted overlap with the question plus their chunk's similarity to it,
    then re-scores the leaders with their own embedding (`answer_rescore`)."""

    name = NAME

    def __init__(self, settings, embedder, words: WordStats):
        self.settings, self.embedder, self.words = settings, embedder, words
        self.threshold, self.max_sentences = settings.answer.abstain_threshold, settings.answer.max_answer_sentences
        self.rescore = settings.answer.answer_rescore

    def request(self, question: str, k: int, context: Context = Context()) -> Request:
        """The top k to answer from, then passages read for a report that disagrees: `other_passages`, and
        for a number question `number_depth` more, of which only those holding a number are read."""
        deeper = self.settings.retrieval.number_depth if question_kind(question, context.follows) == "number" else 0
        return Request(k=k, others=self.settings.retrieval.other_passages + deeper)

    def condense(self, question: str, history) -> None:
        """No model to rewrite a follow-up with: rag/followup.py's rules do it."""
        return None

    def rank(self, question: str, passages: list[Passage], others: list[Passage] = (),
             rescore: int | None = None, earlier: str | None = None,
             referent: str | None = None) -> tuple[list[Scored], float]:
        """Sentences best first, and the share of the question's weight in words the corpus never uses.
        The words of the question a follow-up follows (`earlier`) and of the person a pronoun was resolved to
        (`referent`, in the question) count at `follow_up_weight`: "His rival, Clara Holm" names no "Berg"."""
        kind = question_kind(question, earlier)
        own = content_terms(question.replace(referent, " ") if referent else question)
        terms = sorted(own | content_terms(f"{earlier or ''} {referent or ''}"))
        # a CJK bigram no chunk holds mostly spans two words ("的馆"): neither evidence nor a word the corpus lacks
        if any(CJK.search(t) for t in terms):  # counted only then: idf and `unknown` count them again below
            terms = [t for t, d in zip(terms, self.words.doc_freq(terms)) if d or not CJK.search(t)]
        question = f"{question} {earlier}" if earlier else question
        weights = self.words.idf(terms) if terms else np.zeros(0)
        # in a follow-up the words that changed are what the answer must sit next to
        weights = weights * np.array([1.0 if t in own else self.settings.answer.follow_up_weight for t in terms])
        total = float(weights.sum()) or 1.0
        unknown = float(sum(w for t, w, d in zip(terms, weights, self.words.doc_freq(terms)) if d == 0) / total)
        numbers = set(NUMBER.findall(asked_sentence(question)))  # a quiz's preamble is context
        # "The 10 per cent rate is to rise, although not for China" gives no rate for China
        denial_counts = bool(kind) and not asks_stance(question)
        seen, pool = set(), []
        for p, other in [*((p, False) for p in passages), *((p, True) for p in others)]:
            for s, e in sentence_spans(p.article, p.hit.start, p.hit.end):
                if (p.hit.doc_id, s) in seen or e - s < 15:
                    continue
                seen.add((p.hit.doc_id, s))
                text = p.article[s:e]
                # text addressed to an AI is data and a question states nothing: neither is evidence
                if is_instruction(text) or is_question(text):
                    continue
                have = content_terms(text)
                stems = {prefix(t) for t in have}
                lex = sum(w for t, w in zip(terms, weights) if t in have or prefix(t) in stems) / total
                mismatch = float(denial_counts and excludes(text, question))
                pool.append(Scored(p, s, e, lexical=float(lex), other=other, mismatch=mismatch,
                                   lacks_number=bool(numbers - set(NUMBER.findall(text)))))
        # every sentence gets its chunk's similarity (free); only the leaders are embedded (encoding is slow)
        for x in pool:
            x.dense = x.passage.hit.similarity
            x.score = self._score(kind, unknown, x)
        pool.sort(key=lambda x: -x.score)
        # A list draws on several sentences and a stance is weighed against the other side's best
        # sentence, so more of them are embedded on their own.
        wide = self.settings.answer.list_rescore
        if rescore or asks_stance(question):
            top = pool[:rescore or wide]
        else:
            top = [x for x in pool if not x.other][:wide if wants_list(question) else self.rescore]
        if top:
            # Scraped pages hold run-on "sentences" of thousands of characters; their head is enough to score.
            vecs = self.embedder.embed([x.text[:self.settings.answer.scored_chars] for x in top])
            query = self.embedder.embed_query(question)
            for x, v in zip(top, vecs):
                x.dense = float(query @ v)
                x.score = self._score(kind, unknown, x)
        pool.sort(key=lambda x: -x.score)
        return pool, unknown

    @staticmethod
    def _score(kind: str | None, unknown: float, x: Scored) -> float:
        return (0.6 * x.dense + 0.4 * x.lexical + (0.1 if kind and candidates(kind, x.text) else 0.0)
                - 0.15 * unknown - 0.2 * x.mismatch)

    def stream(self, question: str, passages: list[Passage], context: Context = Context()):
        answer = self.answer(question, passages, context)
        yield from re.findall(r"\S+\s*", answer.text)
        yield answer

    def answer(self, question: str, passages: list[Passage], context: Context = Context()) -> Answer:
        """Answers from `passages`; `context.others` (retrieved beyond them) are read only for a report that
        disagrees with the answer, which top-k passages often miss: a denial sits lower than the claim."""
        with people_only():  # the asked type as this question's evidence reads it: for this answer only
            return self._answer(question, passages, context)

    def _answer(self, question: str, passages: list[Passage], context: Context) -> Answer:
        # case matters to the NER and the date rules, not to retrieval: recased here, not for an LLM
        cased = question != question.lower()  # `unnamed` reads capitals as names only if the writer uses them
        question = truecased(question, (p.hit.text for p in (*passages, *context.others)))
        earlier = context.follows
        # words the answer phrase is not anchored to: what the conversation was already about
        known = " ".join(filter(None, (earlier, context.referent))) or None
        wanted = self.settings.retrieval.other_passages
        others = [*context.others[:wanted], *(p for p in context.others[wanted:] if candidates("number", p.hit.text))]
        everything, unknown = self.rank(question, passages, others, earlier=earlier, referent=context.referent)
        if not (ranked := [x for x in everything if not x.other]):
            return abstention(NAME, "no passages")
        best = ranked[0]
        diag = {"best_score": round(best.score, 4), "best_dense": round(best.dense, 4),
                "best_lexical": round(best.lexical, 4), "unknown_terms": round(unknown, 4)}
        if best.score < self.threshold:  # off the question too when most of its weight is in words no article uses
            return abstention(NAME, "weak evidence", off_topic=unknown >= self.settings.answer.unknown_off_topic, **diag)
        if self.settings.answer.name_check and (name := unnamed(question, [*passages, *others], self.words.unknown, cased)):
            return not_mentioned(NAME, name, **diag)
        if all(x.lacks_number for x in ranked):  # "How many tons ... in 2024?" where no passage says 2024
            return abstention(NAME, "no passage names the question's numbers", **diag)
        parts = question_parts(question)
        if len(parts) > 1:
            answer = self._answer_parts(parts, [*passages, *others], diag)
            if answer is not None:
                return answer
        kind = question_kind(question, earlier)
        # "Who is the CEO ...?" asks for a person where the evidence gives that role to people: a company or
        # a town the best sentence names is no answer (RGB rejection 0.24 -> 0.26, conflict 0.64 -> 0.66)
        if kind == "person" and (role := asked_role(question)) and held_by_people(role, [x.text for x in everything]):
            PEOPLE_ONLY.set(True)
            diag["people_only"] = True
        typed = self._typed_leader(kind, question, ranked)
        if kind in ("date", "number"):
            typed = self._fuller(kind, question, typed, ranked, known)
        if kind == "person":  # the person most articles name, not the one the best-matching sentence names
            typed = most_named(question, _first(typed, ranked), known, self.settings.answer)
        if typed is not best:
            best, ranked, everything = typed, _first(typed, ranked), _first(typed, everything)
        # the evidence is not about what was asked: an answer any answerer builds on it is unsupported
        if without_year(asked_years(asked_sentence(question)), best.passage):
            return abstention(NAME, "the best passage names no year the question names", off_topic=True, **diag)
        if (kind in ANSWER_LABELS and asks_type(question)
                and not _placed(kind, best, found := best_phrase(kind, question, best.text, known))):
            # the subject is named above, the answer given in a sentence that only refers to it
            after = next((x for x in ranked if _follows(best, x) and holds_asked_type(kind, question, x.text)
                          and _placed(kind, x, best_phrase(kind, question, x.text, known))), None)
            if after is None:  # a date only an undated passage's writing day places: the model may read on
                return abstention(NAME, "the evidence dates it only relative to an undated passage" if found else
                                  f"no {kind} in the evidence", off_topic=not found, read=best.passage.hit.doc_id,
                                  **diag)
            best, ranked, everything = after, _first(after, ranked), _first(after, everything)
        if asks_price(question) and not holds_asked_type(kind, question, best.text):
            return abstention(NAME, "no amount of money in the evidence", off_topic=True, **diag)
        # The top-k passages are searched for the other side first; the passages beyond them only after.
        # A report of another year, number or month than the question names is another fact, not another side.
        reports = [x for x in [*ranked, *(x for x in everything if x.other)]
                   if x is best or not (x.mismatch or x.lacks_number)]
        sides = (disagreement(question, kind, reports, self.threshold, self.max_sentences)
                 or rescheduled(question, kind, best, everything))
        sides = revised(question, kind, best, everything, sides) or sides
        if sides and (answer := self._disagree(question, kind, sides, diag)) is not None:
            return answer
        chosen = [best]
        if wants_list(question):
            for x in ranked[1:self.settings.answer.list_rescore]:
                if len(chosen) >= self.max_sentences or x.score < best.score - 0.15:
                    break
                if not kind or candidates(kind, x.text):
                    chosen.append(x)
            chosen = reading_order(alike(kind, question, chosen))
        # another article's copy of the answer's sentence with its value changed is the other side
        return with_copies(self._compose([(question, kind, x) for x in chosen], diag, known), [*passages, *others])

    def _typed_leader(self, kind: str | None, question: str, ranked: list[Scored]) -> Scored:
        """The best sentence, or, when it holds no entity of the type the question asks for (a person for
        "who", a date for "when", a name near the asked noun for "which <noun>": `_things`; for "how many <noun>",
        a number that counts that noun: spaCy's parse, `counted`), the first close runner-up (`_close`) that does:
        search snippets and leads often put the sentence that repeats the question's words above the answer.
        Asked for the latest (`wants_recent`), the newest report's of those and of the two sentences after each
        ("raised the price of coffee again. A cup now costs 42 kronor.")."""
        best, close = ranked[0], self._close(ranked[0], ranked)
        read_ahead(kind, question, (x.text for x in (best, *close)))  # most of them are read below
        if not kind:
            # a runner-up naming a thing clearly nearer the asked noun ("Yellowstone" for "national park")
            fits = self._things(question, [x.text for x in (best, *close)])  # only these are compared
            fit = lambda x: fits.get(x.text, (0.0, ""))[0]  # noqa: E731
            return next((x for x in close if fit(x) >= fit(best) + self.settings.answer.thing_gain), best)
        if kind == "number" and not counted(question, best.text):  # None at once when the question counts nothing
            best = next((x for x in close if counted(question, x.text)), best)
        recent, lead = wants_recent(question), (best, *close)
        pool = [x for x in ranked if any(x is y or _follows(y, x) for y in lead)] if recent else lead
        typed = [x for x in pool if holds_asked_type(kind, question, x.text)]  # max: the first of the newest
        return (max(typed, key=lambda x: x.passage.hit.published_at or "") if recent else typed[0]) if typed else best

    def _fuller(self, kind: str, question: str, best: Scored, ranked: list[Scored], known: str | None) -> Scored:
        """The leader, or a close runner-up (`typed_depth`, `typed_margin`) telling its date or amount more fully,
        the same fact ("2015" -> "December 2015": rag.dates.fuller_date; "$5" -> "$5.02": rag.text.fuller_number);
        a month or day without its year takes it from any top-k sentence telling that day (RGB accuracy 0.72 ->
        0.76, conflict 0.60 -> 0.64; a bare year stays with close runners-up, which `typed_margin` was set for)."""
        fuller = fuller_date if kind == "date" else fuller_number
        phrase = best_phrase(kind, question, best.text, known) or ""
        return next((x for x in (ranked if kind == "date" and month_days(phrase) else self._close(best, ranked))
                     if x is not best and fuller(phrase, best_phrase(kind, question, x.text, known) or "")), best)

    def _close(self, best: Scored, ranked: list[Scored]) -> list[Scored]:
        """The runners-up to `best` among the leading `typed_depth` sentences within `typed_margin` of its score."""
        return [x for x in ranked[:self.settings.answer.typed_depth] if x is not best
                and x.score >= best.score - self.settings.answer.typed_margin]

    def _answer_parts(self, parts: list[str], passages: list[Passage], diag: dict) -> Answer | None:
        """Each part of a compound question answered by its own sentence, one holding the kind of value the part
        asks for. Passages were retrieved for the whole question, so each part reads beyond the top k and embeds
        its leading sentences. A later part that points back at a thing ("what rate are the tariffs tied to it")
        is asked about what the first part's best sentence names ("illegal fentanyl trade"). Two parts that want
        the same sentence: the part it fits better takes it, the other its next (greedy matching by score).
        None when the first part finds nothing."""
        first = self._fits(parts[0], passages)
        if not first:
            return None
        # embedded only when a later part points back at it
        named = self._part_named(parts[0], first[0].text) if any(_POINTS_BACK.search(p) for p in parts[1:]) else ""
        fits = [first, *(self._fits(f"{part} {named}" if named and _POINTS_BACK.search(part) else part, passages)
                         for part in parts[1:])]
        picks: dict[int, Scored] = {}
        for _, i, x in sorted(((x.score, i, x) for i, f in enumerate(fits) for x in f), key=lambda t: -t[0]):
            if i not in picks and all((x.passage.hit.doc_id, x.start) != (y.passage.hit.doc_id, y.start)
                                      for y in picks.values()):
                picks[i] = x
        chosen = [(part, question_kind(part), picks[i]) for i, part in enumerate(parts) if i in picks]
        return self._compose(chosen, {**diag, "parts": len(parts), "parts_answered": len(chosen)}, each=True)

    def _fits(self, part: str, passages: list[Passage]) -> list[Scored]:
        """Sentences that could answer one part: over the threshold, holding a value of the kind it asks for."""
        kind = question_kind(part)
        return [x for x in self.rank(part, passages, rescore=self.settings.answer.part_rescore)[0]
                if x.score >= self.threshold and (not kind or candidates(kind, x.text))]

    def _compose(self, picks: list[tuple[str, str | None, Scored]], diag: dict, known: str | None = None,
                 each: bool = False) -> Answer:
        """The short answers up front, then the quotes; `picks` pairs each sentence with the question it answers.
        `known`: words the conversation was already about, which no answer phrase is anchored to. `each`: the
        picks answer the parts of a compound question: a part no typed phrase answers is on the answer line by
        what its sentence names for the asked thing ("illegal fentanyl trade" for "What illicit trade ...?",
        rag.answer.parts), when it names it. Its quote alone would lengthen the line more than it helps: on the
        dev suite it took seeds F1 from 0.586 to 0.539 and rewordings' consistency from 0.825 to 0.807."""
        citations: list[Citation] = []
        heads: list[str] = []
        for question, kind, x in picks:
            found = (counted(question, x.text) or best_phrase(kind, question, x.text, known)) if kind else None
            c = cite_sentence(len(citations) + 1, x.passage, *self._bounded(x, found or question))
            if c is None:
                continue
            citations.append(c)
            phrase = resolved(found, x.text, c)
            if each and not phrase:
                phrase = self._part_named(question, c.quote)
            if phrase and phrase.lower() not in {h.split(" [")[0].lower() for h in heads}:
                heads.append(f"{phrase} [{c.n}]")
        if not citations:
            return abstention(NAME, "no verifiable quote", **diag)
        quotes = quote_lines(citations)
        head = joined(heads) if heads else " ".join(f"{c.quote} [{c.n}]" for c in citations)
        dated = [c for c in citations if c.published_at]
        if heads and dated:
            head += f" (reported {dated[0].published_at})"
        text = head if not heads else f"{head}\n\n{quotes}"
        if each or len(heads) > 1:  # each part's or list item's phrase, for the LLM answerer's check
            diag = {**diag, "part_answers": [h.rsplit(" [", 1)[0] for h in heads]}
        return Answer(text=text, citations=citations, abstained=False, answer=head, answerer=NAME, diagnostics=diag)

    def _part_named(self, question: str, sentence: str) -> str:
        return part_named(question, sentence, self.embedder, self.settings.answer.thing_similarity)

    def _things(self, question: str, sentences: list[str]) -> dict[str, tuple[float, str]]:
        """For a "which/what <noun>" question, each sentence's name or value (spaCy's NER, any label in
        THING_LABELS, not already in the question) whose embedding is nearest the asked noun phrase's
        ("automaker" -> "Ford", not "NHTSA"; "release date" -> "June 19, 2020"), with that cosine, for the
        sentences that hold one at least `thing_similarity` near; {} when the question asks for no noun."""
        head = asked_head(question)
        if not head:
            return {}
        # a name is compared by its words the question lacks: "Chinese Foreign Ministry" is not nearer
        # "Chinese vice commerce minister" than "Li Chenggang" for sharing two of its words
        asked = {prefix(w) for w in re.findall(r"\w+", question.lower())}
        found = [(text, text[s:e], own) for text in dict.fromkeys(sentences)
                 for s, e in typed_spans_of(THING_LABELS, question, text[:TYPED_CHARS], tiered=False)
                 if (own := " ".join(w for w in re.findall(r"[\w’'.-]+", text[s:e]) if prefix(w.lower()) not in asked))]
        if not found:
            return {}
        sims = self.embedder.embed([own for _, _, own in found]) @ self.embedder.embed_query(head)
        best: dict[str, tuple[float, str]] = {}
        for (text, name, _), sim in zip(found, sims):
            if sim >= self.settings.answer.thing_similarity and sim > best.get(text, (-2.0, ""))[0]:
                best[text] = (float(sim), name)
        return best

    def _disagree(self, question: str, kind: str | None, sides: list[Side], diag: dict) -> Answer | None:
        """"Reports differ: X [1] (reported ...); Y [2]", newest article first, each value cited to its quote; for a
        question that asks for the latest (`wants_recent`), dated values are updates: "X [1] (reported ...);
        earlier: Y [2] (reported ...)"."""
        citations: list[Citation] = []
        heads, labels, kept = [], [], []
        for side in sides:
            x = side.item
            c = cite_sentence(len(citations) + 1, x.passage, *self._bounded(x, side.value or question))
            if c is None:
                continue
            citations.append(c)
            kept.append(side)
            labels.append("amount" if (lab := value_label(x.text, side.value)) in AMOUNT_LABELS else lab)
            said = resolved(side.value, x.text, c) if side.value else f"“{c.quote}”"
            # a stance is shown as its whole quote, so what the quote's relative dates meant goes with it
            note = f"reported {c.published_at}" if side.value else c.dated()
            heads.append(f"{said} [{c.n}]" + (f" ({note})" if c.published_at else ""))
        if len(citations) < 2:
            return None
        # asked for the latest, dated values are updates, not a disagreement: the newest answers, the rest came before
        dates = [c.published_at for c in citations]
        updated = kind and wants_recent(question) and all(side.value for side in kept) and all(dates)
        latest = kept[0].value if updated and dates[0] > max(dates[1:]) else None
        line = f"{heads[0]}; earlier: {'; '.join(heads[1:])}" if latest else reports_differ(heads)
        text = f"{line}\n\n{quote_lines(citations)}" if kind else line
        # what an LLM answer is checked against: the values, when the NER reads them as one type (two people), or a
        # number question's amounts ("145 per cent" MONEY as "200%"), a date or an amount close to the question's words
        ones = ([side for lab, side in zip(labels, kept) if lab == "amount"] if kind == "number"
                else kept if None not in labels and len(set(labels)) == 1 else [])
        typed = [side.value for side in ones] if not latest and len(ones) > 1 and (
            kind != "number" and labels[0] in NAME_LABELS or close_sides(question, ones)) else []
        return Answer(text=text, citations=citations, abstained=False, answer=line, answerer=NAME,
                      diagnostics={**diag, "conflict": len(citations), "typed_sides": typed, "latest": latest,
                                   "stance": not any(side.value for side in kept)})

    def _bounded(self, x: Scored, focus: str) -> tuple[int, int]:
        """The sentence's offsets, or a window `max_quote_chars` long of a run-on one (`quote_window`)."""
        lo, hi = quote_window(x.text, focus, self.settings.answer.max_quote_chars)
        return x.start + lo, x.start + hi


def _follows(first: Scored, x: Scored) -> bool:
    """Whether `x` is one of the two sentences after `first` in its article: a headline and its lead name the
    subject, the sentence after often only refers to it ("His rival, Clara Holm, ...")."""
    if x.passage.hit.doc_id != first.passage.hit.doc_id or x.start < first.end:
        return False
    return len(sentence_spans(x.passage.article, first.end, x.start)) <= 1


def _placed(kind: str, x: Scored, phrase: str | None) -> bool:
    """Whether `phrase` (`x`'s answer phrase) answers: found, and no date that only its writing day places
    ("released last year") in an undated passage."""
    return phrase is not None and not (kind == "date" and not x.passage.hit.published_at and unplaced(phrase))


def _first(x: Scored, items: list[Scored]) -> list[Scored]:
    """`items` led by `x`, which leaves its own place."""
    return [x, *(y for y in items if y is not x)]
