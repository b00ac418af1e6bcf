"""Near-duplicate articles (syndicated wire copies with small edits) found with MinHash LSH.

Several outlets print one wire story; indexed separately, the copies crowd the top results with one
source's words. MinHash over word shingles estimates the Jaccard similarity of two texts' shingle
sets cheaply, and LSH finds the candidates without comparing every pair.
"""
from __future__ import annotations

import base64
import re

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


def signature(text: str):
    from datasketch import MinHash

    m = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    grams = shingles(text)
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
        found = [(other, m.jaccard(self.signatures[other])) for other in self.lsh.query(m) if other != doc_id]
        found = [(o, j) for o, j in found if j >= self.threshold]
        return max(found, key=lambda f: (f[1], f[0])) if found else None
