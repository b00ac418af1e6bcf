"""Load on the chat server: N simultaneous `/ask` requests (one gradio_client per simulated user).

For each queue concurrency limit tried (RAG_UI_CONCURRENCY), starts `rag serve` on a free 127.0.0.1
port over the seed articles, fires all requests at once, checks every answer against the phrase its
seed article states, and records latency (submit to result, queue wait included) and throughput.

    nice -n 10 .venv/bin/python bench/load.py                      # 50 requests, limits 1, 2, 4
    nice -n 10 .venv/bin/python bench/load.py --requests 20 --limits 2

Output: bench/results/load.json and a Markdown table.
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import REPO, git_commit, machine, now, percentile, save, table

QUESTIONS = {
    "When does the tariff truce expire?": "August 12",
    "Who led the US officials at the Stockholm talks?": "Scott Bessent",
    "How many tons of soybeans did Bessent say China is ready to buy?": "12 million tons",
}
START_TIMEOUT = 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(index_dir: Path, limit: int, workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_") and k != "OPENAI_API_KEY"}
    env.update(RAG_INDEX_DIR=str(index_dir), RAG_SEEDS_DIR=str(REPO / "seeds"), RAG_UI_CONCURRENCY=str(limit))
    log = open(workdir / f"serve-{limit}.log", "wb")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("rag")), "serve", "--host", "127.0.0.1",
                             "--port", str(port)], cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"rag serve exited with {proc.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"rag serve did not answer within {START_TIMEOUT} s")


def fire(url: str, n: int) -> dict:
    """n users, each with its own client, released together; returns latencies and correctness."""
    from gradio_client import Client

    asked = [list(QUESTIONS)[i % len(QUESTIONS)] for i in range(n)]
    with ThreadPoolExecutor(8) as pool:
        clients = list(pool.map(lambda _: Client(url, verbose=False, httpx_kwargs={"timeout": 600}), range(n)))
    go = threading.Barrier(n + 1)

    def one(i: int) -> tuple[float, bool, str | None]:
        go.wait()
        t = time.perf_counter()
        try:
            result = clients[i].predict(asked[i], api_name="/ask")
        except Exception as e:  # noqa: BLE001 - counted and shown, the run goes on
            return time.perf_counter() - t, False, f"{e.__class__.__name__}: {e}"[:200]
        expected = QUESTIONS[asked[i]]
        ok = expected in result["answer"] and bool(result["citations"]) and expected in result["citations"][0]["quote"]
        return time.perf_counter() - t, ok, None

    with ThreadPoolExecutor(n) as pool:
        futures = [pool.submit(one, i) for i in range(n)]
        go.wait()
        t0 = time.perf_counter()
        results = [f.result() for f in futures]
        wall = time.perf_counter() - t0
    ms = [r[0] * 1000 for r in results]
    errors = sorted({r[2] for r in results if r[2]})
    return {"requests": n, "correct": sum(r[1] for r in results), "errors": errors,
            "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
            "max_ms": round(max(ms), 1), "wall_s": round(wall, 2), "questions_per_s": round(n / wall, 2)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=50)
    ap.add_argument("--limits", default="1,2,4", help="comma-separated RAG_UI_CONCURRENCY values to try")
    ap.add_argument("--out", default="load.json")
    args = ap.parse_args()
    info = machine()
    rows = []
    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
        workdir = Path(tmp)
        for limit in [int(x) for x in args.limits.split(",")]:
            proc, url = start_server(workdir / "index", limit, workdir)
            try:
                fire(url, min(args.requests, 6))  # warm-up: connections, caches
                row = {"ui_concurrency": limit, **fire(url, args.requests)}
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            rows.append(row)
            print(f"limit {limit}: {row['correct']}/{row['requests']} correct, p50 {row['p50_ms']} ms, "
                  f"p95 {row['p95_ms']} ms, {row['questions_per_s']} q/s", flush=True)
    info["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    payload = {"benchmark": "load", "date": now(), "git_commit": git_commit(), "machine": info,
               "setup": {"requests": args.requests, "questions": QUESTIONS, "corpus": "seeds (5 articles)",
                         "answerer": "local", "latency": "submit to result per request, queue wait included"},
               "results": rows}
    out = save(args.out, payload)
    print(table(rows, [("ui_concurrency", "RAG_UI_CONCURRENCY", ""), ("correct", "correct", ""),
                       ("p50_ms", "p50 ms", ".0f"), ("p95_ms", "p95 ms", ".0f"), ("max_ms", "max ms", ".0f"),
                       ("questions_per_s", "questions/s", ".2f")]))
    print(f"wrote {out}")
    return 0 if all(r["correct"] == r["requests"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
