"""Questions about a name the articles never mention: does the local answerer abstain, or answer about
something else?

Each answerable dev question that names a person, place, organisation, facility, event or product (spaCy's NER,
the first such name) is asked again with that name swapped for an invented one of the same kind ("Who won
the women's singles Wimbledon in 2019?" -> "... the women's singles Quorvex Cup in 2019?"). The swapped
question has no answer in the corpus, so the right response is an abstention; the original question is
asked too, so that what the check costs shows beside what it saves. Both with `name_check` on (the
default) and off, over the dev suite's own indexes (bench/fusion.py's `dev_sets`: RealTime QA dev with its
question date as `as_of`, RGB dev's accuracy corpus, the seeds' answerable questions).

    nice -n 10 .venv/bin/python bench/unknown_names.py [--index-dir index]

Prints a Markdown table and writes bench/results/unknown_names.json (counts, and per question the id, the
swapped name's kind and whether each run abstained; no question text). Exits 0 with "skipped: data absent"
when ../shared/bench is missing.
"""
from __future__ import annotations

import argparse
import json

import common

# invented names, one per NER label; each is checked to be absent from every corpus before use
INVENTED = {"PERSON": "Halvard Ostremo", "GPE": "Tarnby", "LOC": "the Vellmoor Basin", "FAC": "the Quillan Bridge",
            "ORG": "Vellmark Group", "EVENT": "the Quorvex Cup", "PRODUCT": "the Zentrix Z4"}
SETS = ("realtimeqa", "rgb", "seeds")


def swapped(question: str) -> tuple[str, str] | None:
    """The question with its first name swapped for the invented one of its kind, and that kind; None
    when it names nothing swappable."""
    from rag.nlp import entities

    found = entities(question, tuple(INVENTED))
    if not found:
        return None
    s, e, label = found[0]
    return f"{question[:s]}{INVENTED[label]}{question[e:]}", label


def run(sets: dict, name: str, check: bool) -> list[dict]:
    rag, questions, _, _ = sets[name]
    rows = []
    for q in questions:
        swap = swapped(q["question"])
        if swap is None:
            continue
        day = q["question_date"].replace("/", "-") if name == "realtimeqa" else None
        dated = {"as_of": day} if day else {}
        original = rag.ask(q["question"], answerer="local", **dated)
        invented = rag.ask(swap[0], answerer="local", **dated)
        rows.append({"id": q["id"], "kind": swap[1], "original_abstained": original.abstained,
                     "invented_abstained": invented.abstained})
    return rows


def main() -> int:
    import fusion
    from rag.settings import Settings

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    fusion.index_dir_argument(ap)
    args = ap.parse_args()
    bench = common.DATA.parent
    if fusion.dev_data_absent():
        return 0

    payload = {"benchmark": "unknown_names", "date": common.now(), "git_commit": common.git_commit(),
               "machine": common.machine(), "invented": INVENTED, "runs": {}}
    for check in (False, True):
        settings = Settings.load(index_dir=args.index_dir, bench_dir=bench, eval_dir=common.REPO / "eval",
                                 seeds_dir=common.REPO / "seeds", chroma_url=None, name_check=check)
        sets = fusion.dev_sets(settings, False)
        for name in SETS:
            # each invented name's first word (its own) is one no article uses; the rest may be common ("Group")
            known = sets[name][0].retriever.words.doc_freq([n.removeprefix("the ").split()[0].lower()
                                                            for n in INVENTED.values()])
            if any(known):
                raise SystemExit(f"an invented name is in the {name} corpus; choose another")
            payload["runs"][f"{name}, name_check={check}"] = run(sets, name, check)
    print("| set | name_check | questions with a name | original abstained | invented abstained |")
    print("|---|---|---|---|---|")
    for label, rows in payload["runs"].items():
        name, check = label.split(", ")
        print(f"| {name} | {check.split('=')[1]} | {len(rows)} | {sum(r['original_abstained'] for r in rows)} "
              f"| {sum(r['invented_abstained'] for r in rows)} |")
    out = common.RESULTS / "unknown_names.json"
    out.write_text(json.dumps(payload, indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
