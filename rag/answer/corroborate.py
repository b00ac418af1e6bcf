"""The answer most sources give: among the close-scoring candidate sentences, the value (a person, a place)
stated by the most distinct articles, as redundancy-based QA does it (Brill, Dumais and Banko, "An analysis of
the AskMSR question-answering system", EMNLP 2002): several search snippets naming one winner outweigh the
single best-matching snippet that names someone else. Articles, not sentences, are counted, so the person a
long article keeps naming gets one vote like any other."""
from __future__ import annotations

import re
from typing import Callable

from .phrases import best_phrase, read_ahead, typed_spans


def _words(value: str) -> frozenset[str]:
    return frozenset(re.findall(r"\w+", value.lower().replace("’s", "").replace("'s", "")))


def corroborated(candidates: list, values: Callable[[str], list[str]], phrase: Callable[[str], str | None],
                 doc_of: Callable[[object], str], margin: float) -> object:
    """The first candidate (best first), or the best-scored candidate answering with a value more articles state.

    `candidates`: scored sentences (`.text`, `.score`), best first; `values(text)`: every value of the asked
    type the sentence states; `phrase(text)`: the one it would answer with; `doc_of(candidate)`: its article.
    Only candidates within `margin` of the first's score vote. A value and a shorter one made of some of its
    words ("Gadot", "Gal Gadot") are one value. The first candidate is replaced only when another value is
    stated by at least two articles and by more than the first's answer, and the first does not state it."""
    best = candidates[0]
    votes = [(x, w) for x in candidates if x.score >= best.score - margin for v in values(x.text) if (w := _words(v))]
    # one group per value, the fullest spelling first, so a surname joins its full name
    groups: list[tuple[frozenset[str], list]] = []
    for x, w in sorted(votes, key=lambda t: -len(t[1])):
        home = next((g for g in groups if w <= g[0]), None)
        if home is None:
            groups.append((w, [x]))
        else:
            home[1].append(x)
    if not groups:
        return best

    said: dict[int, frozenset[str]] = {}  # a sentence's answer, read once however many groups ask

    def support(group) -> int:
        return len({doc_of(x) for x in group[1]})

    def answers(x, group) -> bool:
        if id(x) not in said:
            said[id(x)] = _words(phrase(x.text) or "")
        return bool(said[id(x)]) and said[id(x)] <= group[0]

    own = next((g for g in groups if answers(best, g)), None)
    winner = max(groups, key=lambda g: (support(g), max(x.score for x in g[1])))
    if winner is own or support(winner) < 2 or (own is not None and support(winner) <= support(own)):
        return best
    # the first sentence names that value too and answers with another: it has weighed it already
    if best in winner[1]:
        return best
    return next((x for x in sorted(winner[1], key=lambda x: -x.score) if answers(x, winner)), best)


def most_named(question: str, ranked: list, known: str | None, settings) -> object:
    """For a "who" question: the first of `ranked` (rag.answer.local.Scored, best first), or among the first
    `corroboration_depth` within `corroboration_margin` of it, the best sentence answering with the person
    (or other name of the asked type, spaCy's NER) that more articles state (`corroborated`)."""
    leading = ranked[:settings.corroboration_depth]
    # the NER reads the sentences that vote in one batch (those within the margin)
    read_ahead("person", question, (x.text for x in leading if x.score >= leading[0].score - settings.corroboration_margin))
    return corroborated(leading,
                        lambda text: [text[s:e] for s, e in typed_spans("person", question, text)],
                        lambda text: best_phrase("person", question, text, known),
                        lambda x: x.passage.hit.doc_id, settings.corroboration_margin)
