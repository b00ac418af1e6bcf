"""Shared bits of the benchmark scripts: where the data lives, machine facts, result files."""
from __future__ import annotations

import datetime as dt
import gzip
import json
import os
import platform
import resource
import signal
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# Never copied into the repository: read from ../shared beside the work tree.
DATA = Path(__file__).resolve().parents[2] / "shared/bench/realtimeqa"
RESULTS = BENCH / "results"
CACHE = REPO / "index"  # git-ignored

# A SIGTERM (e.g. `kill PID`) unwinds normally, so temporary folders are removed.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from rag.settings import offline_environment  # noqa: E402 - from the repository on sys.path

offline_environment()


def require_data(*names: str) -> None:
    """Exit 0 with a skip message when the shared benchmark data is not there."""
    missing = [n for n in names if not (DATA / n).is_file()]
    if missing:
        print(f"skipped: data absent ({', '.join(str(DATA / n) for n in missing)})")
        sys.exit(0)


def read_corpus() -> list[dict]:
    with gzip.open(DATA / "corpus.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_dev() -> list[dict]:
    with open(DATA / "dev.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def write_jsonl_gz(records: list[dict], path: Path) -> Path:
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def machine() -> dict:
    info = {"cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "machine": platform.machine(), "load_avg_at_start": [round(x, 2) for x in os.getloadavg()],
            "nice": os.nice(0)}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.split(":", 1)[1].strip()
                break
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split()
        info["mem_total_gb"] = round(int(mem[1]) / 1048576, 1)
    except (OSError, IndexError, ValueError):
        pass
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
        info["torch"] = torch.__version__
    except ImportError:
        pass
    return info


def now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # Linux: KiB


def rss_mb() -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return None


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    i = max(0, min(len(s) - 1, int(-(-p * len(s) // 100)) - 1))
    return s[i]


def git_commit() -> str | None:
    import subprocess

    try:
        out = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True, text=True)
        return out.stdout.strip() or None
    except OSError:
        return None


def variant(rag, overrides: dict):
    """A RAG with `overrides` on `rag`'s settings that shares its store and embedder (no second model load).
    Its Retriever is new, so query-time settings take effect (a RAG keeps the Retriever made with the
    settings it had first); the BM25 state is read from the index's cache."""
    from rag.api import RAG

    other = RAG(rag.settings, **overrides)
    other.__dict__.update(store=rag.store, embedder=rag.embedder)
    return other


def save(name: str, payload: dict) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / name
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    tmp.replace(out)
    return out


def table(rows: list[dict], columns: list[tuple[str, str, str]]) -> str:
    """columns: (key, header, format); returns a Markdown table."""
    head = "| " + " | ".join(h for _, h, _ in columns) + " |"
    sep = "|" + "|".join("---" for _ in columns) + "|"
    lines = [head, sep]
    for r in rows:
        cells = []
        for key, _, fmt in columns:
            v = r.get(key)
            cells.append("" if v is None else (format(v, fmt) if fmt and isinstance(v, (int, float)) else str(v)))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
