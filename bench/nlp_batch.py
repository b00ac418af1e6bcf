"""What spaCy costs the answerer per candidate sentence, four ways: the NER alone or the whole pipeline (tagger,
parser, NER: what `rag.nlp.parse` runs), each one sentence per call or in `Language.pipe` batches (what
`rag.nlp.read` runs over the sentences the answerer is about to compare). Sentences: the first two of each
positive and negative snippet of RGB dev, each read at most 1,000 characters (as the answerer reads them).
Rounds are interleaved; medians of the per-round milliseconds per sentence are reported.

    nice .venv/bin/python bench/nlp_batch.py              # 3 rounds over 200 sentences
    nice .venv/bin/python bench/nlp_batch.py --rounds 5 --sentences 400

Reads ../shared/bench/rgb/dev.jsonl in place (skips cleanly without it). Writes bench/results/nlp-batch.json.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import common

RGB = common.DATA.parent / "rgb" / "dev.jsonl"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--sentences", type=int, default=200)
    args = ap.parse_args()
    if not RGB.is_file():
        print(f"skipped: data absent ({RGB})")
        return 0
    from rag.nlp import nlp
    from rag.text import sentence_spans

    texts = []
    for line in RGB.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        for snippet in [*rec.get("positive", []), *rec.get("negative", [])]:
            texts += [snippet[s:e][:1000] for s, e in sentence_spans(snippet)[:2]]
    texts = texts[:args.sentences]
    pipeline = nlp()
    ner_only = [n for n in pipeline.pipe_names if n not in ("tok2vec", "ner")]
    ways = {
        "ner, one call each": lambda: [pipeline(t, disable=ner_only) for t in texts],
        "whole pipeline, one call each": lambda: [pipeline(t) for t in texts],
        "ner, batched": lambda: list(pipeline.pipe(texts, batch_size=64, disable=ner_only)),
        "whole pipeline, batched": lambda: list(pipeline.pipe(texts, batch_size=64)),
    }
    ways["whole pipeline, batched"]()  # warm-up
    times: dict[str, list[float]] = {w: [] for w in ways}
    for _ in range(args.rounds):
        for way, run in ways.items():
            start = time.perf_counter()
            run()
            times[way].append((time.perf_counter() - start) * 1000 / len(texts))
    base = statistics.median(times["ner, one call each"])
    rows = {w: {"ms_per_sentence_median": round(statistics.median(v), 2), "ratio_to_ner_one_call": round(
        statistics.median(v) / base, 2), "rounds_ms": [round(x, 2) for x in v]} for w, v in times.items()}
    for w, r in rows.items():
        print(f"{w:32s} {r['ms_per_sentence_median']:6.2f} ms/sentence  x{r['ratio_to_ner_one_call']:.2f}")
    out = {"sentences": len(texts), "mean_chars": round(statistics.mean(map(len, texts))), "rounds": args.rounds,
           "results": rows, "machine": common.machine(), "commit": common.git_commit(), "at": common.now()}
    (common.RESULTS / "nlp-batch.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {common.RESULTS / 'nlp-batch.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
