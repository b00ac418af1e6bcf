"""Near-duplicate articles (syndicated wire copies with small edits) found with MinHash LSH.

Several outlets print one wire story; indexed separately, the copies crowd the top results with one
source's words. MinHash over word shingles estimates the Jaccard similarity of two texts' shingle
sets cheaply, and LSH finds the candidates without comparing every pair.

A candidate is folded only when it is a copy: `differing_values` aligns the two texts word by word and
reads (with spaCy, on the sentences that differ only) the values the differing words carry. A copy whose
one changed word is a date, an amount or a name is another report, not a copy, and is kept.
"""
from __future__ import annotations

import base64
import re
from difflib import SequenceMatcher

import numpy as np

SHINGLE_WORDS = 3
NUM_PERM = 128
SCHEME = "affine32"  # datasketch's default hashing; named so stored signatures decode the same way
_WORD = re.compile(r"\w+")


def shingles(text: str, n: int = SHINGLE_WORDS) -> set[bytes]:
    """Overlapping runs of n lower-cased words: a light edit changes only the few runs around it."""
    words = _WORD.findall(text.lower())
    if len(words) <= n:
        return {" ".join(words).encode()} if words else set()
    return {" ".join(words[i:i + n]).encode() for i in range(len(words) - n + 1)}


def signed_text(text: str, title: str | None = None) -> str:
    """An article's words as `signature` reads them, as the article is indexed: title, then text. Scraped pages
    whose text is the same boilerplate (a newsletter pitch, an ad-feedback form) and whose title alone names
    the story are not copies of each other, while a long wire copy under another headline still is. A title
    taken from the text's first line (`rag.load.make_document` without one) is not read twice."""
    own_title = title and not text.lstrip().startswith(title.rstrip("…"))
    return f"{title}\n{text}" if own_title else text


def signature(text: str, title: str | None = None):
    """The MinHash of `signed_text(text, title)`."""
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    grams = shingles(signed_text(text, title))
    if grams:
        m.update_batch(list(grams))
    return m


def encode(m) -> str:
    """A MinHash as text, for the article record's metadata (Chroma stores scalars only)."""
    return base64.b64encode(np.asarray(m.hashvalues, dtype=np.uint64).tobytes()).decode()


def decode(text: str):
    from datasketch import MinHash

    return MinHash(num_perm=NUM_PERM, scheme=SCHEME, hashvalues=np.frombuffer(base64.b64decode(text), dtype=np.uint64))


class NearDuplicates:
    """An LSH index of article signatures; `match` names an indexed article a new text nearly copies."""

    def __init__(self, threshold: float):
        from datasketch import MinHashLSH

        self.threshold = threshold
        self.lsh = MinHashLSH(threshold=threshold, num_perm=NUM_PERM)
        self.signatures: dict[str, object] = {}

    def add(self, doc_id: str, m) -> None:
        if doc_id in self.signatures:
            self.lsh.remove(doc_id)
        self.signatures[doc_id] = m
        self.lsh.insert(doc_id, m)

    def remove(self, doc_id: str) -> None:
        if self.signatures.pop(doc_id, None) is not None:
            self.lsh.remove(doc_id)

    def match(self, doc_id: str, m) -> tuple[str, float] | None:
        """The most similar other article at or above the threshold, with its estimated Jaccard similarity."""
        found = self.matches(doc_id, m)
        return found[0] if found else None

    def matches(self, doc_id: str, m) -> list[tuple[str, float]]:
        """Every other article at or above the threshold, most similar first, with its estimated Jaccard."""
        found = [(other, m.jaccard(self.signatures[other])) for other in self.lsh.query(m) if other != doc_id]
        return sorted([(o, j) for o, j in found if j >= self.threshold], key=lambda f: (-f[1], f[0]))


NEGATION = "(negation)"  # stands for a differing "not"/"never" among the values `differing_values` returns


def differing_values(a: str, b: str) -> tuple[set[str], set[str]]:
    """What the words that differ between two texts say that the other text's differing words do not:
    (values only in a's changed words, values only in b's), each a set of `rag.nlp.canonical` strings
    ("july 4", "310000000 usd", "helen okafor"), plus NEGATION when one side's changed words negate.

    Both empty means the texts are copies: they differ in wording only ("said"/"announced",
    "$310 million"/"310 million dollars"). Words that one text adds before the other's first word or
    after its last (a dateline "LAKEPORT (Wire) -", a byline "Reporting by Ana Silva.") are credits:
    there only dates and amounts count, not names. An entity counts when it overlaps the changed words,
    or touches the place where the other text has words this one lacks.
    """
    from .nlp import NUMBER_LABELS, VALUE_LABELS, canonical, is_value, nlp

    wa, wb = _words(a), _words(b)
    ops = SequenceMatcher(None, [w for w, _, _ in wa], [w for w, _, _ in wb], autojunk=False).get_opcodes()
    regions: list[tuple[tuple[int, int], tuple[int, int], frozenset[str]]] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal":
            continue
        edge = tag != "replace" and ((i1 == 0 and j1 == 0) or (i2 == len(wa) and j2 == len(wb)))
        regions.append((_span(wa, i1, i2, len(a)), _span(wb, j1, j2, len(b)), NUMBER_LABELS if edge else VALUE_LABELS))
    if not regions:
        return set(), set()
    found: list[set[str]] = []
    for side, text in ((0, a), (1, b)):
        wanted = [(r[side], r[2]) for r in regions]
        sentences = sorted({s for (lo, hi), _ in wanted for s in _sentences(text, lo, hi)})
        got: set[str] = set()
        for (s, _), doc in zip(sentences, nlp().pipe(text[s:e] for s, e in sentences)):
            for (lo, hi), labels in wanted:
                touches = lambda x, y: x <= hi and y >= lo  # noqa: E731 - overlaps, or ends/starts at the edge
                got |= {canonical(e) for e in doc.ents if is_value(e, labels) and touches(s + e.start_char, s + e.end_char)}
                if labels is VALUE_LABELS and any(t.dep_ == "neg" and touches(s + t.idx, s + t.idx + len(t)) for t in doc):
                    got.add(NEGATION)
        found.append(got - {""})
    return found[0] - found[1], found[1] - found[0]


def _words(text: str) -> list[tuple[str, int, int]]:
    return [(m.group().lower(), m.start(), m.end()) for m in _WORD.finditer(text)]


def _span(words: list[tuple[str, int, int]], i1: int, i2: int, n: int) -> tuple[int, int]:
    """Character span of words[i1:i2]; when empty, the gap between the words before and after."""
    if i1 < i2:
        return words[i1][1], words[i2 - 1][2]
    return (words[i1 - 1][2] if i1 else 0), (words[i1][1] if i1 < len(words) else n)


def _sentences(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    from .text import sentence_spans

    return sentence_spans(text, max(0, lo - 1), min(len(text), max(hi, lo + 1) + 1)) or [(0, len(text))]
