"""What the deeper read for number questions costs: `rag ask` latency of RealTime QA's number questions
with `number_depth` 10 (the default: the passages holding a number among the ten after the usual 15 are
read for the other side of a disagreement) against 0, interleaved in one process, each asked as of its
`question_date`, and which answers differ.

    nice -n 15 .venv/bin/python bench/number_depth.py            # 3 rounds
    nice -n 15 .venv/bin/python bench/number_depth.py --rounds 5

Needs the whole-corpus index `bench/retrieval.py` builds (index/bench-<hash>/); skips cleanly without it or
without ../shared/bench/realtimeqa. Writes bench/results/number-depth.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

import common

DEPTHS = (0, 10)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    common.require_data("dev.jsonl", "corpus.jsonl.gz")
    metas = {p: json.loads((p / "bench.json").read_text()) for p in sorted(common.CACHE.glob("bench-*"))
             if (p / "bench.json").is_file()}
    built = [p for p, m in metas.items() if m.get("complete") and m.get("key", {}).get("corpus") == "full"]
    if not built:
        print("skipped: no whole-corpus index (run bench/retrieval.py first)")
        return 0

    from rag import RAG
    from rag.answer.phrases import question_kind

    rags = {d: RAG(index_dir=built[0], number_depth=d) for d in DEPTHS}
    questions = [q for q in common.read_dev() if question_kind(q["question"]) == "number"]
    payload = {"date": common.now(), "commit": common.git_commit(), "machine": common.machine(),
               "index_dir": str(built[0].relative_to(common.REPO)), "questions": len(questions), "rounds": args.rounds}
    for rag in rags.values():
        rag.ask(questions[0]["question"])  # warm-up: model load, caches; not timed
    latencies: dict[int, list[float]] = {d: [] for d in DEPTHS}
    answers: dict[int, dict[str, str]] = {d: {} for d in DEPTHS}
    for _ in range(args.rounds):
        for depth in DEPTHS:
            for q in questions:
                t = time.perf_counter()
                answer = rags[depth].ask(q["question"], as_of=q["question_date"].replace("/", "-"))
                latencies[depth].append(time.perf_counter() - t)
                answers[depth][q["question_id"]] = answer.text.splitlines()[0]
    rows = [{"number_depth": d, "median_ms": round(statistics.median(v) * 1000, 1),
             "p95_ms": round(common.percentile(v, 95) * 1000, 1), "asks": len(v)} for d, v in latencies.items()]
    payload["results"] = rows
    payload["ratio_median"] = round(rows[1]["median_ms"] / rows[0]["median_ms"], 3)
    payload["changed_answers"] = [{"question_id": k, "depth_0": answers[0][k], "depth_10": answers[10][k]}
                                  for k in answers[0] if answers[0][k] != answers[10][k]]
    payload["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out = common.save("number-depth.json", payload)
    print(common.table(rows, [("number_depth", "number_depth", ""), ("median_ms", "median ms", ".1f"),
                              ("p95_ms", "p95 ms", ".1f"), ("asks", "asks", "")]))
    print(f"median ratio {payload['ratio_median']}; {len(payload['changed_answers'])} of {len(questions)} "
          f"first answer lines differ")
    for c in payload["changed_answers"]:
        print(f"  {c['question_id']}: {c['depth_0'][:90]!r} -> {c['depth_10'][:90]!r}", file=sys.stderr)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
