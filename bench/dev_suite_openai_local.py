"""The dev suite through the `openai` answerer against an OpenAI-compatible server on 127.0.0.1 that serves
the packaged Qwen2.5-Coder-1.5B via mistralrs (the server of tests/mistralrs_openai.py): the OpenAI path
measured end to end over HTTP, with no external service. Needs the `llm` extra.

    RUST_LOG=error nice .venv/bin/python bench/dev_suite_openai_local.py --limit 10 --out eval-report/dev-openai-10

Prints the suite's table and writes report.{json,md,png} to --out (see `rag eval --suite dev`).
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
os.environ.setdefault("RUST_LOG", "error")


def main() -> int:
    from mistralrs_openai import MistralrsOpenAI

    from rag.answer.local_llm import LocalLLMAnswerer
    from rag.settings import Settings, offline_environment
    from rag.suite import markdown, run_suite

    offline_environment()

    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=int, default=10, help="first N questions of each set")
    ap.add_argument("--sets", default="realtimeqa,rgb,seeds")
    ap.add_argument("--out", default="eval-report/dev-openai-local")
    args = ap.parse_args()
    runner = LocalLLMAnswerer(Settings.load()).runner()
    with MistralrsOpenAI(runner) as server:
        settings = Settings.load(llm_base_url=server.url, llm_model=server.model, llm_timeout=600, llm_retries=0)
        report = run_suite(settings, args.sets.split(","), answerer="openai", limit=args.limit, out=Path(args.out),
                           progress=True)
    print(markdown(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
