"""What BM25 segments do to retrieval: the same chunks searched as one segment or as several.

An index that grows by `rag index` runs holds its BM25 in segments (rag/lexical_cache.py) whose scores
use the whole index's idf but each segment's own average length, and whose replaced articles still count
in document frequencies until merged. This measures the effect on RealTime QA dev retrieval, over the
dev suite's RealTime QA index (its gold articles plus 150 others; `rag eval --suite dev` builds it under
RAG_INDEX_DIR/dev-suite/realtimeqa-*, the newest is used), with the same chunks laid out as:

  one        one segment, as a full build makes it (the baseline; bm25s's own scores)
  halves     2 segments, articles split in index order
  eights     8 segments
  lsm        as growth leaves it: 85% of the articles, then 8%, 4% and 3%
  dead 10%   one segment in which a tenth of the articles are dead, their copies in a second segment
             (as after re-indexing them): the dead rows still count in idf

For each layout: doc-level hit@1/5 and MRR@10 of `RAG.retrieve(k=50)` from the question alone and `as_of`
its date, the questions whose top-5 articles differ from the baseline's, and the answer lines
(`RAG.ask`) that differ from the baseline's.

    RAG_INDEX_DIR=index nice -n 10 .venv/bin/python bench/segments.py [--index-dir index/dev-suite/realtimeqa-<key>]

Writes bench/results/segments.json. Exits 0 with "skipped: ..." when the data or the index is absent.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
from pathlib import Path

import common
from retrieval import doc_ranking, gold_rank, metrics


def layouts(ids: list[str], texts: list[str], metas: list[dict], seed: int) -> dict:
    """name -> (segments' row lists, dead articles per segment) over the same chunks."""
    docs = list(dict.fromkeys(m["doc_id"] for m in metas))
    rows_of: dict[str, list[int]] = {}
    for i, m in enumerate(metas):
        rows_of.setdefault(m["doc_id"], []).append(i)

    def split(fractions: list[float]) -> list[list[int]]:
        cuts = [round(sum(fractions[:k + 1]) * len(docs)) for k in range(len(fractions))]
        groups = [docs[a:b] for a, b in zip([0] + cuts[:-1], cuts)]
        return [[r for d in g for r in rows_of[d]] for g in groups]

    again = sorted(random.Random(seed).sample(range(len(docs)), len(docs) // 10))
    return {"one": ([list(range(len(ids)))], None), "halves": (split([0.5, 0.5]), None),
            "eights": (split([0.125] * 8), None), "lsm": (split([0.85, 0.08, 0.04, 0.03]), None),
            "dead 10%": ([list(range(len(ids))), [r for k in again for r in rows_of[docs[k]]]], [set(again), set()])}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--index-dir", type=Path, help="the dev suite's RealTime QA index (default: the newest)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    common.require_data("dev.jsonl")
    from rag.settings import Settings

    suite = Settings.load().paths.index_dir / "dev-suite"
    index = args.index_dir or max((p.parent for p in suite.glob("realtimeqa-*/complete")),
                                  key=lambda p: p.stat().st_mtime, default=None)
    if index is None or not (index / "complete").is_file():
        print("skipped: no dev-suite RealTime QA index (run `rag eval --suite dev` first, or give --index-dir)")
        return 0
    from rag.api import RAG
    from rag.lexical import Lexical
    from rag.segment import Segment

    info, started = common.machine(), common.now()
    questions = common.read_dev()
    rag = RAG(index_dir=index, chroma_url=None)
    built = rag.retriever.lexical
    ids, texts, metas = rag.store.chunks_of({d: m["doc_hash"] for d, m in rag.store.records(list(built.live)).items()})
    count = rag.store.chunks.count()
    results, baseline = {}, {}
    for name, (parts, dead) in layouts(ids, texts, metas, args.seed).items():
        segments = [Segment.build([ids[r] for r in p], [texts[r] for r in p], [metas[r] for r in p], {}) for p in parts]
        # the layout stands in for the synced state: the store's count matches, so it is not synced away
        rag.retriever._lexical = Lexical(segments, dead, built.spelling, seen={"chunks": count})
        row = {"segments": [s.n for s in segments]}
        for mode in ("question_only", "as_of"):
            ranks, tops, answers = [], [], []
            for q in questions:
                kw = {"as_of": q["question_date"].replace("/", "-")} if mode == "as_of" else {}
                ranked = doc_ranking(h.doc_id for h in rag.retrieve(q["question"], k=50, **kw))
                ranks.append(gold_rank(ranked, q["gold_ids"]))
                tops.append(ranked[:5])
                answers.append(rag.ask(q["question"], **kw).answer)
            base = baseline.setdefault(mode, (tops, answers))
            row[mode] = {**metrics(ranks, []), "top5_differs": sum(a != b for a, b in zip(tops, base[0])),
                         "answers_differ": sum(a != b for a, b in zip(answers, base[1]))}
        results[name] = row
        print(f"{name}: {row}", file=sys.stderr)
    info["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    out = common.save("segments.json", {"benchmark": "segments", "date": started, "git_commit": common.git_commit(),
                                        "machine": info, "index": str(index), "chunks": len(ids),
                                        "articles": len(built.live), "questions": len(questions), "layouts": results})
    rows = [{"layout": n, "segments": len(r["segments"]), **{f"{m}_{k}": r[m][k] for m in ("question_only", "as_of")
                                                             for k in ("hit@1", "hit@5", "mrr@10", "top5_differs", "answers_differ")}}
            for n, r in results.items()]
    cols = [("layout", "layout", ""), ("segments", "segments", "")]
    for m, label in (("question_only", "question only"), ("as_of", "as_of")):
        cols += [(f"{m}_hit@1", f"{label} hit@1", ".3f"), (f"{m}_hit@5", "hit@5", ".3f"), (f"{m}_mrr@10", "MRR@10", ".3f"),
                 (f"{m}_top5_differs", "top-5 differs", ""), (f"{m}_answers_differ", "answers differ", "")]
    print(common.table(rows, cols))
    print(f"wrote {out.relative_to(common.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
