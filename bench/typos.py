"""Typo tolerance on RGB dev: one seeded typo per question, with spelling correction off and on.

Builds the RGB accuracy corpus (positive + negative snippets, as `rag eval --suite dev` does) into one
index, then asks each question clean and with one typo (a seeded swap, deletion, doubling or
substitution of a letter in one word of 5+ letters) with `typo_correction` off and on, and reports the
share of typo'd questions whose answer phrase equals the clean question's (rag.evaluate.answer_phrase,
the paraphrase set's consistency), plus accuracy of each. RGB is read in place from
../shared/bench/rgb/dev.jsonl and never copied into the repo.

    nice -n 15 .venv/bin/python bench/typos.py [--seed 0]

Writes bench/results/typos.json. Exits 0 with "skipped: data absent" when the RGB dev set is missing.
"""
from __future__ import annotations

import argparse
import json
import random
import re
import sys
import tempfile
from pathlib import Path

import common

RGB = common.DATA.parent / "rgb" / "dev.jsonl"
WORD = re.compile(r"[A-Za-z]{5,}")


def typo(question: str, rng: random.Random) -> tuple[str, str, str]:
    """The question with one edit in one of its 5+ letter words; (question, word, misspelt word)."""
    words = list(WORD.finditer(question))
    if not words:
        return question, "", ""
    m = rng.choice(words)
    w = m.group()
    while True:
        i = rng.randrange(1, len(w) - 1)  # keep the first and last letter, as most typos do
        op = rng.choice(("swap", "delete", "double", "substitute"))
        if op == "swap":
            bad = w[:i] + w[i + 1] + w[i] + w[i + 2:]
        elif op == "delete":
            bad = w[:i] + w[i + 1:]
        elif op == "double":
            bad = w[:i] + w[i] + w[i:]
        else:
            bad = w[:i] + rng.choice([c for c in "aeioustrnl" if c != w[i].lower()]) + w[i + 1:]
        if bad.lower() != w.lower():
            return question[:m.start()] + bad + question[m.end():], w, bad


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not RGB.is_file():
        print(f"skipped: data absent ({RGB})")
        return 0
    from rag.api import RAG
    from rag.evaluate import answer_phrase, contains
    from rag.suite import _snippet_id

    rows = [json.loads(line) for line in RGB.read_text(encoding="utf-8").splitlines() if line.strip()]
    corpus = list({_snippet_id(t): {"id": _snippet_id(t), "text": t}
                   for r in rows for k in ("positive", "negative") for t in r[k]}.values())
    rng = random.Random(args.seed)
    typos = [typo(r["question"], rng) for r in rows]
    started, info = common.now(), common.machine()
    with tempfile.TemporaryDirectory(prefix="rag-bench-typos-") as tmp:
        path = Path(tmp) / "corpus.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in corpus), encoding="utf-8")
        on = RAG(index_dir=Path(tmp) / "index", chroma_url=None, answerer="local", typo_correction=True)
        on.index([path])
        off = RAG(on.settings, typo_correction=False)
        off.__dict__["embedder"] = on.embedder
        result = {}
        for name, rag in (("off", off), ("on", on)):
            same = clean_ok = typo_ok = 0
            for r, (bad, _, _) in zip(rows, typos):
                clean = rag.ask(r["question"])
                got = rag.ask(bad)
                same += answer_phrase(got.answer) == answer_phrase(clean.answer)
                clean_ok += not clean.abstained and contains(clean.answer, r["answers"])
                typo_ok += not got.abstained and contains(got.answer, r["answers"])
            n = len(rows)
            result[name] = {"n": n, "same_answer_as_clean": round(same / n, 3),
                            "clean_accuracy": round(clean_ok / n, 3), "typo_accuracy": round(typo_ok / n, 3)}
            print(f"correction {name}: same answer as clean {same}/{n} = {same / n:.3f}; accuracy clean "
                  f"{clean_ok / n:.3f}, with typo {typo_ok / n:.3f}", file=sys.stderr)
    payload = {"benchmark": "typos", "date": started, "git_commit": common.git_commit(), "machine": info,
               "data": "RGB dev (accuracy corpus: positive + negative snippets)", "seed": args.seed,
               "result": result}  # no per-question rows: RGB's text stays out of the repository
    out = common.save("typos.json", payload)
    print(common.table([{"correction": k, **v} for k, v in result.items()],
                       [("correction", "typo correction", ""), ("n", "n", ""),
                        ("same_answer_as_clean", "typo answer = clean answer", ".3f"),
                        ("clean_accuracy", "accuracy clean", ".3f"), ("typo_accuracy", "accuracy with typo", ".3f")]))
    print(f"\nwrote {out.relative_to(common.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
