"""Near-duplicates in the RealTime QA corpus: how many articles indexing would fold, and at which threshold.

Reads ../shared/bench/realtimeqa/corpus.jsonl.gz in place (skips when absent). For every pair that
MinHash LSH finds at a low threshold it computes the exact Jaccard similarity of the word-shingle
sets, so the table shows how many pairs each threshold would take and whether the estimate holds.
Folds are counted the way rag/indexer.py folds: in corpus order, each article that nearly copies an
earlier kept article (or one of its copies) becomes that article's alternate source.

    .venv/bin/python bench/dedup.py            # prints a table, writes bench/results/dedup.json
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import git_commit, machine, now, read_corpus, require_data, save, table  # noqa: E402

from rag.dedup import NearDuplicates, shingles, signature  # noqa: E402
from rag.settings import Settings  # noqa: E402

FLOOR = 0.5
BINS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


def main() -> None:
    require_data("corpus.jsonl.gz")
    threshold = Settings.load().near_duplicate_threshold
    t0 = time.perf_counter()
    articles = read_corpus()
    t_read = time.perf_counter() - t0
    t1 = time.perf_counter()
    sigs = [signature(a["text"]) for a in articles]
    t_sign = time.perf_counter() - t1

    t2 = time.perf_counter()
    low = NearDuplicates(FLOOR)
    pairs = []
    for i, (a, m) in enumerate(zip(articles, sigs)):
        for other in low.lsh.query(m):
            j = int(other)
            exact = _jaccard(shingles(articles[j]["text"]), shingles(a["text"]))
            pairs.append({"a": articles[j]["id"], "b": a["id"], "estimated": round(m.jaccard(sigs[j]), 3),
                          "exact": round(exact, 3)})
        low.add(str(i), m)
    t_pairs = time.perf_counter() - t2

    t3 = time.perf_counter()
    fold = NearDuplicates(threshold)
    owner: dict[str, str] = {}
    folded = []
    for a, m in zip(articles, sigs):
        match = fold.match(a["id"], m)
        if match:
            owner[a["id"]] = owner.get(match[0], match[0])
            folded.append(a["id"])
        fold.add(a["id"], m)
    t_fold = time.perf_counter() - t3

    rows = []
    for lo, hi in zip(BINS, BINS[1:] + (1.01,)):
        inside = [p for p in pairs if lo <= p["exact"] < hi]
        rows.append({"exact Jaccard": f"[{lo:.2f}, {min(hi, 1.0):.2f}{']' if hi > 1 else ')'}", "pairs": len(inside),
                     "estimate off by >0.1": sum(abs(p["estimated"] - p["exact"]) > 0.1 for p in inside)})
    by_id = {a["id"]: a for a in articles}
    examples = []
    for p in sorted(pairs, key=lambda p: -p["exact"]):
        if len(examples) >= 6 or not (threshold <= p["exact"] < 1.0):
            continue
        examples.append({**p, "title_a": by_id[p["a"]]["title"], "title_b": by_id[p["b"]]["title"],
                         "url_a": by_id[p["a"]].get("url"), "url_b": by_id[p["b"]].get("url")})
    borderline = [{**p, "title_a": by_id[p["a"]]["title"], "title_b": by_id[p["b"]]["title"]}
                  for p in sorted(pairs, key=lambda p: abs(p["exact"] - threshold))[:4]]

    print(f"{len(articles)} articles; {len(pairs)} pairs with exact Jaccard found by LSH at {FLOOR}")
    print(table(rows, [("exact Jaccard", "exact Jaccard", ""), ("pairs", "pairs", "d"),
                       ("estimate off by >0.1", "MinHash estimate off by >0.1", "d")]))
    print(f"\nthreshold {threshold}: {len(folded)} articles folded into {len(set(owner.values()))} kept articles")
    for e in examples[:3]:
        print(f"  {e['exact']:.3f}  {e['title_a'][:70]!r}  ~  {e['title_b'][:70]!r}")
    print(f"time: read {t_read:.1f}s, sign {t_sign:.1f}s, pairs {t_pairs:.1f}s, fold {t_fold:.1f}s")
    out = save("dedup.json", {
        "when": now(), "commit": git_commit(), "machine": machine(), "corpus": "realtimeqa/corpus.jsonl.gz",
        "articles": len(articles), "threshold": threshold, "folded": len(folded), "kept_with_alternates":
        len(set(owner.values())), "shingle_words": 3, "num_perm": 128, "pairs_by_exact_jaccard": rows,
        "pairs_at_or_above_threshold_exact": sum(p["exact"] >= threshold for p in pairs),
        "examples": examples, "borderline": borderline,
        "seconds": {"read": round(t_read, 2), "sign": round(t_sign, 2), "pairs": round(t_pairs, 2),
                    "fold": round(t_fold, 2)}})
    print(f"wrote {out}")


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


if __name__ == "__main__":
    main()
