"""Sentence-aware chunks sized in the embedding model's own tokens, each tied to exact article offsets."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable

from .types import Chunk, Document


class Chunker:
    def __init__(self, tokenize: Callable[[str], list], chunk_tokens: int, overlap: int):
        from llama_index.core.node_parser import SentenceSplitter

        self.splitter = SentenceSplitter(chunk_size=chunk_tokens, chunk_overlap=min(overlap, chunk_tokens // 2),
                                         tokenizer=tokenize, paragraph_separator="\n\n")

    def chunks(self, doc: Document) -> list[Chunk]:
        spans, cursor = [], 0
        for piece in self.splitter.split_text(doc.text):
            # chunks overlap but each starts after the one before: a repeated passage is found where it
            # continues the article, not where it first occurred
            span = locate(doc.text, piece, cursor)
            if span is None:
                continue
            spans.append(span)
            cursor = span[0] + 1
        spans = [*dict.fromkeys(spans), *gaps(doc.text, spans)]
        return [Chunk(chunk_id=chunk_id(doc, (s, e)), doc_id=doc.doc_id, text=doc.text[s:e], start=s, end=e)
                for s, e in sorted(spans)]


def gaps(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Text no span covers, as spans of their own (whitespace trimmed): on repetitive text the splitter may
    rebuild a piece that is not where it belongs, and every word must stay searchable and quotable."""
    out, end = [], 0
    for s, e in [*sorted(spans), (len(text), len(text))]:
        if s > end and text[end:s].strip():
            lead = len(text[end:s]) - len(text[end:s].lstrip())
            out.append((end + lead, end + len(text[end:s].rstrip())))
        end = max(end, e)
    return out


def locate(text: str, piece: str, cursor: int) -> tuple[int, int] | None:
    """Where the splitter's piece sits in the article; it may have trimmed or joined whitespace."""
    piece = piece.strip()
    if not piece:
        return None
    i = text.find(piece, cursor)
    if i < 0:
        i = text.find(piece)
    if i >= 0:
        return i, i + len(piece)
    pattern = r"\s+".join(re.escape(w) for w in piece.split())
    m = re.compile(pattern).search(text, cursor) or re.compile(pattern).search(text)
    return (m.start(), m.end()) if m else None


def chunk_id(doc: Document, span: tuple[int, int]) -> str:
    """Deterministic from doc id + content hash + offset, so re-indexing is idempotent."""
    doc_key = hashlib.sha1(doc.doc_id.encode()).hexdigest()[:12]
    return f"{doc_key}-{doc.content_hash[:12]}-{span[0]}-{span[1]}"
