"""One settings object: defaults that work offline, overridden by `rag.toml`, then by `RAG_*` env vars."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

from .errors import RagError

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")


@dataclass(frozen=True)
class Settings:
    index_dir: Path = Path("index")
    seeds_dir: Path = Path("seeds")
    eval_dir: Path = Path("eval")  # the seeds' eval set (questions.jsonl) and its rewordings (paraphrases.jsonl)
    bench_dir: Path = Path("../shared/bench")  # external dev sets (realtimeqa/, rgb/), read in place; absent = skipped
    chroma_url: str | None = None
    collection: str = "rag_news"
    embed_model: str | None = None
    embed_backend: str = "onnx"
    embed_batch: int = 64
    embed_url: str | None = None  # an OpenAI-compatible /v1/embeddings server instead of the in-process model
    embed_url_model: str = "all-MiniLM-L6-v2"  # the model name sent to it
    embed_url_key: str | None = field(default=None, repr=False)
    embed_url_in_flight: int = 4  # requests of embed_batch texts sent at once (bench/ingest.py --server)
    embed_url_retries: int = 3  # per request, with exponential backoff (HTTP 429, 5xx, connection errors)
    embed_url_timeout: float = 60.0
    chunk_tokens: int = 128
    chunk_overlap: int = 32
    top_k: int = 5
    candidates: int = 100  # per retriever: 100 beat 50 on RealTime QA (bench/retrieval.py variants)
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    article_weight: float = 1.0
    title_in_embedding: bool = True
    typo_correction: bool = True  # misspelt question words -> nearest frequent corpus word, for BM25 only (bench/typos.py)
    other_passages: int = 10
    number_depth: int = 10
    per_article: int = 2
    typo_min_len: int = 4
    typo_long_len: int = 6
    typo_min_count: int = 1
    typed_depth: int = 5
    typed_margin: float = 0.15
    list_rescore: int = 12
    part_rescore: int = 6
    scored_chars: int = 300
    min_support: float = 0.6
    follow_up_weight: float = 0.5
    answerer: str = "local"
    abstain_threshold: float = 0.40
    max_answer_sentences: int = 3
    answer_rescore: int = 1  # sentences the local answerer re-embeds; the rest keep their chunk's similarity
    llm_base_url: str | None = None
    llm_model: str = "gpt-4o-mini"
    llm_timeout: float = 30.0
    llm_retries: int = 3
    local_llm_model: str | None = None  # a GGUF (K-quant) for the local-llm answerer; default: the packaged Qwen2.5 1.5B
    local_llm_max_tokens: int = 96  # the local LLM's answer length cap; its answers are one to three short sentences
    openai_api_key: str | None = field(default=None, repr=False)
    recency_half_life_days: float = 30.0
    near_duplicate_threshold: float = 0.8  # MinHash Jaccard to fold a copy into an article; 0 = off
    max_file_mb: float = 50.0
    max_question_chars: int = 2000
    ui_user: str | None = None
    ui_password: str | None = field(default=None, repr=False)
    upload_max_mb: float = 10.0
    ui_concurrency: int = 4  # questions the chat server answers at once; the rest wait in its queue (bench/load.py)

    @classmethod
    def load(cls, config: str | Path | None = None, **overrides) -> "Settings":
        values: dict = {}
        path = Path(config or os.environ.get("RAG_CONFIG", "rag.toml"))
        if path.is_file():
            try:
                values.update(tomllib.loads(path.read_text(encoding="utf-8")).get("rag", {}))
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
                raise RagError(f"config {path}: not valid TOML ({e})") from None
        for f in fields(cls):
            env = os.environ.get(f"RAG_{f.name.upper()}")
            if env not in (None, ""):
                values[f.name] = env
        if os.environ.get("OPENAI_API_KEY") and "openai_api_key" not in values:
            values["openai_api_key"] = os.environ["OPENAI_API_KEY"]
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls()._with(values)

    def _with(self, values: dict) -> "Settings":
        known = {f.name: f for f in fields(self)}
        typed = {}
        for name, raw in values.items():
            if name not in known:
                raise RagError(f"unknown setting {name!r}")
            default = getattr(self, name)
            try:
                typed[name] = _coerce(raw, default)
            except ValueError:
                raise RagError(f"setting {name}: cannot use {raw!r}") from None
        return replace(self, **typed)


def _coerce(raw, default):
    if raw is None:
        return None
    if isinstance(default, bool):
        return raw if isinstance(raw, bool) else str(raw).lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, Path):
        return Path(raw)
    return raw
