"""Typed records that cross module boundaries, so every layer speaks the same shapes."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Document:
    doc_id: str
    title: str
    text: str
    source: str
    published_at: str | None
    content_hash: str
    # Where it came from, for a file (or a JSONL line without an `id`): `key` identifies it (the file's real
    # path, `#line` for a JSONL line, or the URL fetched), `ids` are the ids it may take, shortest first
    # (the path relative to the folder named, then with more of its parent folders), `path` is the file as
    # reached, to tell when it is gone. An explicit JSONL `id` is its own identity: no key.
    key: str | None = None
    ids: tuple[str, ...] = ()
    path: str | None = None
    author: str | None = None  # from a web page's metadata (HTML)
    site: str | None = None
    warnings: tuple[tuple[str, str], ...] = ()  # (input, warning): e.g. a publication date that could not be read


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Hit:
    chunk_id: str
    doc_id: str
    title: str
    source: str
    published_at: str | None
    score: float
    text: str
    start: int
    end: int
    alternates: list[dict] = field(default_factory=list)  # near-duplicate copies folded into this article
    similarity: float = 0.0  # cosine of the chunk's stored vector to the question's

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k != "chunk_id"}


@dataclass
class Citation:
    n: int
    doc_id: str
    title: str
    source: str
    published_at: str | None
    quote: str
    start: int
    end: int
    alternates: list[dict] = field(default_factory=list)
    dates: list[tuple[str, str]] = field(default_factory=list)  # relative dates in the quote, resolved
    # other reports of the same story that change a value (rag/dedup.py keeps them apart): doc_id, title,
    # source, published_at
    versions: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)

    def dated(self) -> str:
        """"reported 2025-07-23; next week = week of July 28, 2025": the article's date, and what the
        quote's relative dates meant on it."""
        return "; ".join([f"reported {self.published_at}", *(f"{p} = {r}" for p, r in self.dates)])


@dataclass
class Answer:
    """What an answerer returns. `answer` is the answer line a reader reads (e.g. "August 12 [1]" or
    "Reports differ: ..."); `text` is that line plus the numbered quotes under it. Eval scores `answer`;
    quotes count only as evidence (citation precision/recall)."""
    text: str
    citations: list[Citation]
    abstained: bool
    answer: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    answerer: str = "local"
    notice: str | None = None
    diagnostics: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.answer:
            self.answer = self.text.split("\n\n", 1)[0]

    @property
    def searched(self) -> str | None:
        """The question as it was searched and answered, when the engine changed it: spelling corrected or an
        acronym spelt out as the corpus writes it (`spelling_corrected`), or a follow-up made standalone."""
        said = self.diagnostics or {}
        return said.get("spelling_corrected") or said.get("standalone_question")

    def to_json(self) -> dict:
        return {
            "answer": self.answer,
            "text": self.text,
            "abstained": self.abstained,
            "citations": [c.to_json() for c in self.citations],
            "timings": self.timings,
            "answerer": self.answerer,
            "notice": self.notice,
            "diagnostics": self.diagnostics,
        }


@dataclass(frozen=True)
class Turn:
    """One earlier turn of a conversation: the question asked and the answer line shown ("" when unknown)."""

    question: str
    answer: str = ""


@dataclass
class Verdict:
    """An LLM judge's ruling on one answer; `correct` is None when no usable ruling came back."""
    correct: bool | None
    reason: str


@dataclass
class IndexReport:
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    repaired: int = 0
    chunks_written: int = 0
    folded: int = 0  # near-duplicates kept as alternate sources of an indexed article, not indexed again
    missing: int = 0  # indexed articles from a folder named whose files no longer exist (kept without --prune)
    missing_ids: list[str] = field(default_factory=list)  # their ids, for `rag remove`
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # indexed, but e.g. its date could not be read
    seconds: float = 0.0

    @property
    def seen(self) -> int:
        return self.added + self.updated + self.unchanged

    def to_json(self) -> dict:
        d = asdict(self)
        d["skipped"] = [{"input": p, "reason": r} for p, r in self.skipped]
        d["warnings"] = [{"input": p, "warning": w} for p, w in self.warnings]
        return d
