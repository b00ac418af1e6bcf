"""Measure a change to what happens after the local LLM writes (the citation check, the fallback, the typed
"reports differ" step) in a minute instead of an hour: log the model's generations once, then replay them.

    nice .venv/bin/python bench/llm_replay.py log GEN.jsonl -- eval --suite dev --answerer local-llm --out A
    nice .venv/bin/python bench/llm_replay.py replay GEN.jsonl -- eval --suite dev --answerer local-llm --out B

`log` runs the `rag` command after `--` with the packaged model (rag/answer/local_llm.py) and appends one
JSON line per generation: the sha256 of its prompt (the whole message list) and the text the model wrote.
No article text is written. `replay` runs the command again with the model replaced by that text for the
same prompt, condense rewrites included. Decoding is greedy, so a live run writes the same text for the same
prompt: a replay is the live run, but for its latencies (not the model's) and for prompts the log lacks (a
change to the prompt or to the passages the model reads), which fail as a failed generation does and are
counted on stderr. Several logs: GEN1.jsonl,GEN2.jsonl. A `log` run resumes: prompts already in its log are
answered from it, so a stopped run restarted with the same command only generates what it had not reached.
"""
from __future__ import annotations

import hashlib
import json
import sys


def _key(messages: list[dict]) -> str:
    return hashlib.sha256(json.dumps(messages, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def main() -> int:
    if len(sys.argv) < 4 or sys.argv[1] not in ("log", "replay") or sys.argv[3] != "--":
        print(__doc__.split("\n\n")[1])
        return 2
    mode, paths, command = sys.argv[1], sys.argv[2].split(","), sys.argv[4:]
    from rag.settings import offline_environment

    offline_environment()
    from rag.answer import local_llm
    from rag.llm_client import LLMFailure

    live = local_llm.MistralClient.generate
    logged: dict[str, str] = {}
    missed = []
    for path in paths:
        try:
            with open(path, encoding="utf-8") as fh:
                logged.update((r["prompt_sha256"], r["text"]) for r in map(json.loads, filter(str.strip, fh)))
        except FileNotFoundError:
            if mode == "replay":
                raise
    if mode == "log":
        out = open(paths[0], "a", encoding="utf-8")

        def generate(self, messages, stream):
            key = _key(messages)
            if key in logged:
                yield logged[key]
                return
            pieces = []
            for piece in live(self, messages, stream):
                pieces.append(piece)
                yield piece
            out.write(json.dumps({"prompt_sha256": key, "text": "".join(pieces)}) + "\n")
            out.flush()
    else:
        def generate(self, messages, stream):
            key = _key(messages)
            if key not in logged:
                missed.append(key)
                raise LLMFailure("prompt not in the replay log")
            yield logged[key]
    local_llm.MistralClient.generate = generate  # a replay never loads the model: only `generate` does
    from rag.cli import main as rag

    try:
        return rag(command)
    finally:
        if mode == "replay":
            print(f"replayed from {len(logged)} logged generations; {len(missed)} prompts not in the log",
                  file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
