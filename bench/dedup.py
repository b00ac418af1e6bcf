"""Near-duplicates: how many articles indexing would fold, at which threshold, and whether a fold hides a
disagreement (issue #25).

Reads ../shared/bench/realtimeqa/corpus.jsonl.gz in place (skips when absent). For every pair that
MinHash LSH finds at a low threshold it computes the exact Jaccard similarity of the word-shingle
sets, so the table shows how many pairs each threshold would take and whether the estimate holds.
Folds are counted the way rag/indexer.py folds: in corpus order, each article that nearly copies an
earlier kept article (or one of its copies) becomes that article's alternate source.

Folds are counted twice: "MinHash only" (the rule before issue #25: every match at the threshold is
folded) and "MinHash + values" (rag/indexer.py's Folds itself: a match whose differing words carry a
date, amount, name or negation is kept as another report, a version). The second needs no embedding.

The RGB conflicting-reports corpus (../shared/bench/rgb/dev.jsonl, skipped when absent) is measured the
same way, one article per snippet of positive + positive_wrong + negative (as the dev suite builds it),
counting the folds that join a true snippet and its counterfactual copy. With --rgb-answers it is also
indexed with the real RAG (embedded, in a temporary folder) and the 50 questions asked with the local
answerer: true only / fake only / both (and "Reports differ") / neither, as the dev suite scores them.
--rgb-answers-only runs just that, importing only the RAG API, so the same file can measure an older
checkout (PYTHONPATH=<old checkout> python bench/dedup.py --rgb-answers-only).

    nice .venv/bin/python bench/dedup.py                  # tables, writes bench/results/dedup.json
    nice .venv/bin/python bench/dedup.py --rgb-answers    # + RGB conflict answers (a few minutes)
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DATA, git_commit, machine, now, read_corpus, read_dev, require_data, save, table  # noqa: E402

from rag.dedup import NearDuplicates, shingles, signature, signed_text  # noqa: E402
from rag.settings import Settings  # noqa: E402

FLOOR = 0.5
BINS = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 1.0)


RGB = DATA.parent / "rgb/dev.jsonl"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rgb-answers", action="store_true", help="also index the RGB conflict corpus and ask")
    ap.add_argument("--rgb-answers-only", action="store_true", help="only that (works on older checkouts)")
    args = ap.parse_args()
    if args.rgb_answers_only:
        print(json.dumps(rgb_answers(), indent=1) if RGB.is_file() else f"skipped: data absent ({RGB})")
        return
    threshold = Settings.load().indexing.near_duplicate_threshold
    rgb = rgb_folds(threshold) if RGB.is_file() else None
    if rgb is None:
        print(f"RGB: skipped, data absent ({RGB})")
    elif args.rgb_answers:
        rgb["answers"] = rgb_answers()
        print("RGB conflict answers:", rgb["answers"]["summary"])
    require_data("corpus.jsonl.gz")
    t0 = time.perf_counter()
    articles = read_corpus()
    t_read = time.perf_counter() - t0
    t1 = time.perf_counter()
    sigs = [signature(a["text"], a.get("title")) for a in articles]
    t_sign = time.perf_counter() - t1

    t2 = time.perf_counter()
    low = NearDuplicates(FLOOR)
    pairs = []
    for i, (a, m) in enumerate(zip(articles, sigs)):
        for other in low.lsh.query(m):
            j = int(other)
            exact = _jaccard(shingles(signed_text(articles[j]["text"], articles[j].get("title"))),
                             shingles(signed_text(a["text"], a.get("title"))))
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

    t4 = time.perf_counter()
    after = values_folds(articles, threshold)
    t_values = time.perf_counter() - t4
    gold = {g for q in read_dev() for g in q["gold_ids"]} if (DATA / "dev.jsonl").is_file() else set()
    unfolded = [{"a": after["matched"][d], "b": d, "differ": after["why"][d]} for d in folded if d not in after["owner"]]

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
    print(f"with the value check (Folds): {len(after['owner'])} folded into {len(set(after['owner'].values()))}; "
          f"{len(unfolded)} of the {len(folded)} kept as versions, {sum(u['a'] in gold or u['b'] in gold for u in unfolded)} "
          f"of them a RealTime QA gold article or its match")
    for u in unfolded[:5]:
        print(f"  kept {u['b']} (version of {u['a']}): {u['differ']}")
    print(f"time: read {t_read:.1f}s, sign {t_sign:.1f}s, pairs {t_pairs:.1f}s, fold {t_fold:.1f}s, "
          f"fold with values {t_values:.1f}s")
    out = save("dedup.json", {
        "when": now(), "commit": git_commit(), "machine": machine(), "corpus": "realtimeqa/corpus.jsonl.gz",
        "articles": len(articles), "threshold": threshold, "folded": len(folded), "kept_with_alternates":
        len(set(owner.values())), "folded_with_value_check": len(after["owner"]),
        "kept_with_alternates_with_value_check": len(set(after["owner"].values())),
        "kept_as_versions": unfolded, "kept_as_versions_touching_gold": sum(u["a"] in gold or u["b"] in gold
                                                                            for u in unfolded),
        "rgb_conflict": rgb, "shingle_words": 3, "num_perm": 128, "pairs_by_exact_jaccard": rows,
        "pairs_at_or_above_threshold_exact": sum(p["exact"] >= threshold for p in pairs),
        "examples": examples, "borderline": borderline,
        "seconds": {"read": round(t_read, 2), "sign": round(t_sign, 2), "pairs": round(t_pairs, 2),
                    "fold": round(t_fold, 2), "fold_with_values": round(t_values, 2)}})
    print(f"wrote {out}")


def values_folds(articles: list[dict], threshold: float) -> dict:
    """Fold `articles` in order through rag/indexer.py's Folds (MinHash + the value check), no store.

    owner: folded id -> kept id; matched: every id MinHash matched -> the article it matched first;
    why: for a match kept as a version, the values that differ (from rag.dedup.differing_values)."""
    from rag.dedup import differing_values
    from rag.indexer import Folds
    from rag.load import make_document

    texts = {a["id"]: a["text"] for a in articles}
    folds = Folds({}, threshold, texts.get)
    matched, why = {}, {}
    for a in articles:
        doc = make_document(a["id"], a["text"], a.get("url") or a["id"], title=a.get("title"),
                            published_at=a.get("published_at") or a.get("date"))
        folds.fold(doc)
        if folds.versions.get(doc.doc_id) and doc.doc_id not in folds.owner:
            first = folds.versions[doc.doc_id][0]["doc_id"]
            matched[doc.doc_id] = first
            why[doc.doc_id] = [sorted(v) for v in differing_values(texts[first], a["text"])]
        elif doc.doc_id in folds.owner:
            matched[doc.doc_id] = folds.owner[doc.doc_id]
    return {"owner": dict(folds.owner), "matched": matched, "why": why}


def _rgb_rows() -> list[dict]:
    return [json.loads(line) for line in RGB.read_text(encoding="utf-8").splitlines() if line.strip()]


def _snippet_id(text: str) -> str:  # the dev suite's neutral ids: no id tells which snippet states the answer
    return "web-" + hashlib.sha1(text.encode()).hexdigest()[:12]


def _rgb_corpus(rows: list[dict]) -> tuple[list[dict], dict[str, set[str]]]:
    kinds: dict[str, set[str]] = {}
    corpus: dict[str, dict] = {}
    for r in rows:
        for kind in ("positive", "positive_wrong", "negative"):
            for t in r[kind]:
                corpus.setdefault(_snippet_id(t), {"id": _snippet_id(t), "text": t})
                kinds.setdefault(_snippet_id(t), set()).add(kind)
    return list(corpus.values()), kinds


def rgb_folds(threshold: float) -> dict:
    """Folds in the RGB conflicting corpus, MinHash only and with the value check, and how many of them
    join a true snippet with a counterfactual one (positive with positive_wrong)."""
    articles, kinds = _rgb_corpus(_rgb_rows())
    sigs = [signature(a["text"], a.get("title")) for a in articles]
    fold, before = NearDuplicates(threshold), {}
    for a, m in zip(articles, sigs):
        match = fold.match(a["id"], m)
        if match:
            before[a["id"]] = before.get(match[0], match[0])
        fold.add(a["id"], m)
    after = values_folds(articles, threshold)["owner"]

    def conflicting(owner: dict[str, str]) -> int:
        return sum({"positive", "positive_wrong"} <= kinds[d] | kinds[k] and kinds[d] != kinds[k]
                   for d, k in owner.items())

    out = {"snippets": len(articles), "folded_minhash_only": len(before), "folded_with_value_check": len(after),
           "true_counterfactual_folded_minhash_only": conflicting(before),
           "true_counterfactual_folded_with_value_check": conflicting(after)}
    print(f"RGB conflict corpus: {out}")
    return out


def rgb_answers() -> dict:
    """Index the RGB conflicting corpus with the real RAG (embedded) and ask its 50 questions (local
    answerer); outcomes as the dev suite scores them."""
    from rag import RAG
    from rag.evaluate import contains

    rows = _rgb_rows()
    articles, _ = _rgb_corpus(rows)
    with tempfile.TemporaryDirectory(prefix="bench-dedup-rgb-") as tmp:
        corpus = Path(tmp) / "corpus.jsonl"
        corpus.write_text("".join(json.dumps(a) + "\n" for a in articles), encoding="utf-8")
        rag = RAG(index_dir=Path(tmp) / "index", seeds_dir=Path(tmp), chroma_url=None, answerer="local")
        t0 = time.perf_counter()
        report = rag.index([corpus])
        t_index = time.perf_counter() - t0
        outcomes = []
        for r in rows:
            answer = rag.ask(r["question"])
            true = not answer.abstained and contains(answer.text, r["answers"])
            fake = not answer.abstained and contains(answer.text, [r["fake_answer"]])
            outcome = {(True, False): "true_only", (False, True): "fake_only", (True, True): "both"}.get(
                (true, fake), "neither")
            outcomes.append({"id": r["id"], "outcome": outcome, "answer": answer.text.split("\n")[0],
                             "differ": outcome == "both" and "reports differ" in answer.text.lower()})
    summary = {k: sum(o["outcome"] == k for o in outcomes) for k in ("true_only", "fake_only", "both", "neither")}
    summary.update(both_differ=sum(o["differ"] for o in outcomes), indexed=report.added, folded=report.folded,
                   index_s=round(t_index, 1))
    import rag as package

    # outcomes only in aggregate: the answers quote RGB's snippets, which stay out of the repository
    return {"summary": summary, "rag_code": str(Path(package.__file__).parent)}


def _jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


if __name__ == "__main__":
    main()
