"""Time to first text and to the full answer in the chat, as a reader sees them: the real app (`python app.py`
on a fresh index of the seeds, warmed up as `rag serve` does) in headless Chromium, the question typed and
Ask clicked, times taken in the page from the click to the answer's first words and to its finished answer.

    nice -n 10 .venv/bin/python bench/ui_latency.py --runs 5 [--answerer local|local-llm]

Prints each run and the medians; writes them with the machine's facts to bench/results/ui-latency-ANSWERER.json.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path

import common

sys.path.insert(0, str(common.REPO / "tests"))

QUESTION = "When does the tariff truce expire?"
# Clicks Ask and resolves with milliseconds from the click to the new answer's first words (not the "…"
# placeholder) and to its finished form (its answer line's meta, or an error).
MEASURE_JS = """() => new Promise((resolve) => {
  const chat = document.querySelector('#chat');
  const bots = () => chat.querySelectorAll('[data-testid=bot]');
  const before = bots().length, t0 = performance.now();
  let first = null;
  const check = () => {
    const all = bots();
    if (all.length <= before) return;
    const last = all[all.length - 1], text = last.innerText.replace('▌', '').trim();
    if (first === null && text && text !== '…') first = performance.now() - t0;
    if (last.querySelector('.answer-meta, .error-msg')) {
      observer.disconnect();
      resolve({first_text_ms: Math.round(first), full_answer_ms: Math.round(performance.now() - t0)});
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(chat, {subtree: true, childList: true, characterData: true});
  document.getElementById('ask').click();
})"""


def main() -> int:
    from ui_helpers import AppServer, chromium_browser, open_page

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--answerer", default="local", choices=["local", "local-llm"])
    args = ap.parse_args()
    facts = {"date": common.now(), "commit": common.git_commit(), "machine": common.machine()}
    with tempfile.TemporaryDirectory(prefix="rag-ui-latency-") as tmp:
        app = AppServer(Path(tmp), env={"RAG_ANSWERER": args.answerer}).start()
        try:
            runs = []
            with chromium_browser() as browser:
                for _ in range(args.runs):
                    ctx, pg, _errors = open_page(browser, app.url)
                    pg.fill("#question textarea", QUESTION)
                    pg.wait_for_function("!document.getElementById('ask').disabled")
                    runs.append(pg.evaluate(MEASURE_JS))
                    ctx.close()
                    print(runs[-1], flush=True)
        finally:
            app.stop()
    facts["machine"]["load_avg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    medians = {f"median_{k}": statistics.median(r[k] for r in runs) for k in ("first_text_ms", "full_answer_ms")}
    print(json.dumps({"answerer": args.answerer, **medians}))
    common.save(f"ui-latency-{args.answerer}.json", {**facts, "question": QUESTION, "answerer": args.answerer,
                                                    **medians, "runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
