"""What a sentence names for the thing an untyped part of a compound question asks for ("What was the
additional tariff ...?", "Which farm product ...?"): read with spaCy's parse, and MiniLM where the parse names
nothing."""
from __future__ import annotations

import numpy as np

from ..nlp import NUMBER_LABELS, parse
from ..text import prefix
from .phrases import THING_LABELS
from .question import asked_head


def part_named(question: str, sentence: str, embedder, similarity: float) -> str:
    """A value spaCy's parse attaches to the asked noun in `sentence` ("additional tariffs on China of 145 per
    cent" -> "145 per cent"), else the sentence's noun phrase or name, not made of the question's words, whose
    embedding (`embedder`: rag.embed.Embedder) is nearest the asked noun phrase's ("farm product" ->
    "soybeans", "illicit trade" -> "illegal fentanyl trade"), at least `similarity` near (cosine); "" when the
    part asks for no noun or nothing is that near."""
    head = asked_head(question)
    if not head:
        return ""
    asked = {prefix(t.lemma_.lower()) for t in parse(question)}

    def new(span) -> bool:  # names something the question does not
        return any(prefix(t.lemma_.lower()) not in asked for t in span if t.is_alpha or t.like_num)

    doc = parse(sentence)
    noun = prefix(parse(head)[-1].lemma_.lower())
    for t in doc:
        if t.pos_ in ("NOUN", "PROPN") and prefix(t.lemma_.lower()) == noun:
            for lo, hi in _attached(t):
                value = next((e for e in doc.ents if e.label_ in NUMBER_LABELS and lo <= e.start and e.end <= hi
                              and new(e)), None)
                if value is not None:
                    return value.text
    chunks = [c[next((i for i, w in enumerate(c) if w.pos_ not in ("DET", "PRON")), len(c)):] for c in doc.noun_chunks]
    spans = [s for s in [*chunks, *(e for e in doc.ents if e.label_ in THING_LABELS)] if len(s) and new(s)]
    if not spans:
        return ""
    sims = embedder.embed([s.text for s in spans]) @ embedder.embed_query(head)
    best = spans[int(np.argmax(sims))]
    if float(np.max(sims)) < similarity:
        return ""
    # "soybeans or other U.S. goods": the class is named to say what the thing before it is (Hearst's
    # "X or other Y"); the thing is the answer
    if best.root.dep_ == "conj" and any(t.lower_ == "other" for t in best.root.children):
        return next((c.text for c in chunks if c.root == best.root.head), best.text)
    return best.text


def _attached(noun) -> list[tuple[int, int]]:
    """Token ranges [lo, hi) that describe `noun` in spaCy's parse: its own subtree, then, for a subject or
    object, the phrases its verb takes after it (the small parser hangs "of 145 per cent" of "slapped
    additional tariffs on China of 145 per cent" on the verb), not another clause's."""
    ranges = [(noun.left_edge.i, noun.right_edge.i + 1)]
    if noun.dep_ in ("dobj", "nsubj", "nsubjpass", "attr"):
        ranges += [(c.left_edge.i, c.right_edge.i + 1) for c in noun.head.children
                   if c.i > noun.i and c.dep_ not in ("conj", "cc", "ccomp", "advcl", "relcl", "punct", "parataxis")]
    return ranges
