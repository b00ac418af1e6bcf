"""The `rag` command: a thin layer over `rag.RAG`; errors are one line and a non-zero exit."""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

from .errors import RagError, describe
from .settings import misspelt_variables, offline_environment


def _date(value: str) -> str:
    """A date argument, checked (rag.retrieve.iso_date) as the arguments are read, before any index or model loads."""
    from .retrieve import iso_date

    try:
        iso_date(value)
    except RagError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return value


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument("--since", type=_date, help="only articles published on/after YYYY-MM-DD")
    p.add_argument("--until", type=_date, help="only articles published on/before YYYY-MM-DD")
    p.add_argument("--source", help="only articles whose source, id or title contains this text")
    p.add_argument("--as-of", dest="as_of", type=_date, help="reference date for recency (YYYY-MM-DD)")


def _store(p: argparse.ArgumentParser) -> None:
    p.add_argument("--index-dir", help="the index folder (default: the index_dir setting, RAG_INDEX_DIR, index/)")
    p.add_argument("--chroma-url", help="a Chroma server instead of the folder's store (default: RAG_CHROMA_URL)")


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error in one line (argparse prints the usage block before it)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


ANSWERERS = ("auto: local-llm when installed and its memory is free, else local; local: extractive, instant; "
             "local-llm: the packaged Qwen2.5-Coder-1.5B-Instruct in process; openai: RAG_LLM_BASE_URL")
ANSWERER_HELP = f"default: the answerer setting (RAG_ANSWERER), auto; {ANSWERERS}"


def parser() -> argparse.ArgumentParser:
    ap = _Parser(prog="rag", description="Answer questions about news articles with quoted citations.")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("index", help="index files/folders (.txt .md .html .jsonl .jsonl.gz)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--prune", action="store_true", help="remove indexed articles not among PATHs")
    p.add_argument("--json", action="store_true", help="print the index report as one JSON object")
    _store(p)
    p = sub.add_parser("ask", help="answer a question with citations")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer, citations and timings as one JSON object")
    p.add_argument("--answerer", choices=["auto", "local", "local-llm", "openai"],
                   help=ANSWERER_HELP)
    p.add_argument("--k", type=int, help="passages given to the answerer (default: the top_k setting, RAG_TOP_K, 5)")
    p.add_argument("--after", action="append", metavar="QUESTION",
                   help="an earlier question this one follows (repeatable, oldest first): a follow-up that points "
                        "back (\"And who led the Chinese side?\") is made standalone, as the chat does")
    _filters(p)
    _store(p)
    p = sub.add_parser("retrieve", help="show the passages retrieved for a question")
    p.add_argument("question")
    p.add_argument("--k", type=int, default=10, help="passages to show (default: 10)")
    p.add_argument("--json", action="store_true", help="print the passages as one JSON object")
    _filters(p)
    _store(p)
    p = sub.add_parser("serve", help="start the web UI")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--answerer", choices=["auto", "local", "local-llm", "openai"],
                   help="the answerer selected when a page opens (the page can switch it)")
    _store(p)
    p = sub.add_parser("eval", help="score the system: the seeds, or the whole dev suite, or any JSONL eval set")
    p.add_argument("--suite", choices=["seeds", "dev"],
                   help="seeds: seed questions + paraphrases (the default); dev: also RealTime QA dev and RGB dev")
    p.add_argument("--sets", help="comma-separated sets of the suite to run (seeds,paraphrases,realtimeqa,rgb)")
    p.add_argument("--dataset", help="instead of the suite: one JSONL eval set")
    p.add_argument("--corpus", help="with --dataset: the corpus to index for it (default: the seeds)")
    p.add_argument("--out", help="report folder (default eval-report/)")
    p.add_argument("--limit", type=int, help="only the first N questions of each set")
    p.add_argument("--index-dir", help="with --dataset: reuse this index folder (e.g. one bench/retrieval.py built)")
    p.add_argument("--answerer", choices=["auto", "local", "local-llm", "openai"],
                   help=f"default: the answerer setting (RAG_ANSWERER) when it names one, else local, never auto; {ANSWERERS}")
    p.add_argument("--judge", action="store_true",
                   help="also score answers with an LLM judge (RAG_LLM_BASE_URL / RAG_LLM_MODEL): --dataset's, or the seed questions")
    _store(sub.add_parser("articles", help="list indexed articles"))
    p = sub.add_parser("remove", help="remove indexed articles (and the copies folded into them) by id; files are left alone")
    p.add_argument("doc_ids", nargs="+", metavar="ID", help="an article id as `rag articles` lists it")
    _store(p)
    ap.set_defaults(commands=sub.choices)
    return ap


def main(argv: list[str] | None = None) -> int:
    args, unknown = parser().parse_known_args(argv)
    if unknown:  # named by the command's parser, so the error points at `rag ask --help`, whose flags they are
        args.commands[args.command].error(f"unrecognized arguments: {' '.join(unknown)}")
    offline_environment()
    for line in misspelt_variables():
        print(f"rag: warning: {line}", file=sys.stderr)
    interrupted = False
    try:
        return COMMANDS[args.command](args) or 0
    except RagError as e:
        print(f"rag: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        interrupted = True
        print("rag: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # the reader went away (`rag ask ... | head -1`): like other Unix tools, stop quietly with 128 + SIGPIPE
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:
        if os.environ.get("RAG_DEBUG"):
            raise
        print(f"rag: unexpected error: {describe(e)} (RAG_DEBUG=1 shows details)", file=sys.stderr)
        return 1
    finally:
        # a question embedding begun in the background (rag.api.join_background) ends before the process
        # does, but Ctrl-C waits for nothing; only a command that may have begun one imported rag.api
        if not interrupted and (api := sys.modules.get("rag.api")):
            api.join_background()


def _rag(args, existing: bool = False, first_run: bool = False, **overrides):
    """The RAG of the settings, with the store the command's --index-dir / --chroma-url name. `existing`: a
    command that only reads or removes, for which a missing index folder is a mistyped one, not one to make;
    `first_run`: one that asks, which makes the folder (and indexes the seeds into it) unless --index-dir named
    it: a folder named on the command line and missing is a mistyped one."""
    from .api import RAG

    rag = RAG(index_dir=args.index_dir, chroma_url=args.chroma_url, **overrides)
    folder = rag.settings.paths.index_dir
    if rag.settings.store.chroma_url or folder.is_dir():
        return rag
    if folder.exists():
        raise RagError(f"{folder} is a file, not an index folder")
    if existing or first_run and args.index_dir:
        raise RagError(f"no index at {folder}: `rag index PATH --index-dir {folder}` makes one")
    return rag


def cmd_index(args) -> int:
    rag = _rag(args)
    report = rag.index(args.paths, prune=args.prune, progress=not args.json and sys.stderr.isatty())
    if args.json:
        print(json.dumps(report.to_json()))
    else:
        print(summary(report, sum(os.path.isdir(p) for p in args.paths)))
    found = report.seen or report.folded  # a near-duplicate of an indexed article was found and kept as its copy
    if not found and not report.skipped:
        from .load import SUPPORTED

        print(f"rag: warning: no article found in {' '.join(map(str, args.paths))} (rag index reads "
              f"{', '.join(SUPPORTED)} files)", file=sys.stderr)
    return 0 if found else 1


def _count(n: int, noun: str) -> str:
    from .text import plural

    return f"{n} {plural(n, noun)}"


def summary(report, folders: int = 1) -> str:
    """The one line `rag index` ends with; `--json` gives the same as data."""
    line = (f"indexed {_count(report.seen, 'article')} in {report.seconds:.1f}s: {report.added} added, "
            f"{report.updated} updated, {report.unchanged} unchanged, {report.removed} removed, "
            f"{len(report.skipped)} skipped; {_count(report.chunks_written, 'chunk')} written; "
            f"{_count(report.folded, 'near-duplicate')} folded")
    if report.warnings:
        line += f"; {_count(len(report.warnings), 'warning')} (listed above)"
    if report.repaired:
        line += f"; {report.repaired} leftover chunks repaired"
    if report.missing:
        line += (f"; {_count(report.missing, 'indexed article')} from "
                 f"{'this folder' if folders <= 1 else 'these folders'} no longer exist"
                 f"{'s' * (report.missing == 1)}: rag remove {' '.join(map(shlex.quote, report.missing_ids[:5]))}"
                 f"{' …' * (report.missing > 5)} (--prune removes every article not among the paths indexed)")
    return line


def _filter_kwargs(args) -> dict:
    return {"since": args.since, "until": args.until, "source": args.source, "as_of": args.as_of}


def _indexed(rag, args):
    """The seeds indexed on a first run (`RAG.ensure_index`); RagError when there is still nothing to search.
    An empty index --index-dir names is the user's own, made by a `rag index` that found nothing: never seeded."""
    if rag.store.articles.count():
        return None
    seeded = None if args.index_dir else rag.ensure_index()  # counts again only on a first run
    if not (seeded and seeded.added):
        seeds = rag.settings.paths.seeds_dir
        named = f" --index-dir {args.index_dir}" if args.index_dir else ""
        raise RagError(f"nothing is indexed at {rag.store.location}: add articles with `rag index PATH{named}`"
                       + ("" if named or seeds.is_dir() else f" (no seeds folder {seeds} to start from)"))
    return seeded


def cmd_ask(args) -> int:
    rag = _rag(args, first_run=True)
    rag.prefetch(args.question)
    seeded = _indexed(rag, args)
    if seeded and not args.json:
        print(f"(first run: indexed {seeded.seen} seed articles from {rag.settings.paths.seeds_dir})", file=sys.stderr)
    if args.json:
        answer = rag.ask(args.question, history=args.after, answerer=args.answerer, k=args.k, **_filter_kwargs(args))
        print(json.dumps(answer.to_json(), ensure_ascii=False))
        return 0
    # the model's words are streamed to a reader at a terminal; piped, only the checked answer is written, never
    # a draft that did not stand
    live, answer, streamed = sys.stdout.isatty(), None, []
    for piece in rag.stream(args.question, history=args.after, answerer=args.answerer, k=args.k,
                            **_filter_kwargs(args)):
        if isinstance(piece, str):
            streamed.append(piece)
            if live:
                print(piece, end="", flush=True)
        else:
            answer = piece
    if not live:
        print(answer.text)
    elif "".join(streamed).strip() != answer.text.strip():
        print(f"\n\n— after checking every citation against its source —\n{answer.text}")
    else:
        print()
    if answer.notice:
        print(f"note: {answer.notice}", file=sys.stderr)
    _note_undated(rag, args)
    searched = answer.searched
    if searched and searched != args.question:
        print(f"(searched for: {searched})", file=sys.stderr)
    if answer.citations:
        print("\nSources:")
        print("\n".join(sources(answer)))
    took = f"{answer.timings.get('total_ms', 0):.0f} ms"
    if "llm_ms" in answer.timings and answer.answerer == "local":  # the extractive answer stood in for the model's
        took += f" in all, {answer.timings['llm_ms']:.0f} ms of them the model's, whose answer gave way"
    print(f"\n({answer.answerer}, {took})", file=sys.stderr)
    return 0


def sources(answer) -> list[str]:
    """One block per citation: its quote and what its relative dates mean, unless the answer's text already
    shows them (the extractive answer lists its quotes, dated; an LLM's answer is its sentences alone), then its
    article, date and place in it."""
    out = []
    for c in answer.citations:
        shown = c.quote in answer.text
        when = "" if shown else "".join(f"; {p} = {r}" for p, r in c.dates)
        where = f"{c.title} — {c.published_at or 'undated'}{when} — {c.source} (chars {c.start}-{c.end})"
        out.append(f"[{c.n}] {where}" if shown else f"[{c.n}] “{c.quote}”\n    {where}")
    return out


def _note_undated(rag, args) -> None:
    """On stderr, how many undated articles a date filter left out, as the chat says it under the answer."""
    if args.since or args.until or args.as_of:
        from .retrieve import undated_left_out, undated_note

        if left_out := undated_note(undated_left_out(_filter_kwargs(args), rag.articles())):
            print(f"note: {left_out}", file=sys.stderr)


def cmd_retrieve(args) -> int:
    rag = _rag(args, first_run=True)
    rag.prefetch(args.question)
    _indexed(rag, args)
    hits = rag.retrieve(args.question, k=args.k, **_filter_kwargs(args))
    _note_undated(rag, args)
    if args.json:
        print(json.dumps({"hits": [h.to_json() for h in hits]}, ensure_ascii=False))
        return 0
    for i, h in enumerate(hits, 1):
        snippet = " ".join(h.text.split())[:200]
        print(f"{i:2d}. {h.score:.4f}  {h.doc_id}  {h.published_at or 'undated'}  {h.title[:60]}\n    {snippet}")
    return 0


def cmd_serve(args) -> int:
    from .ui.app import serve

    return serve(_rag(args, first_run=True, answerer=args.answerer), host=args.host, port=args.port,
                 seed=not args.index_dir)


def cmd_eval(args) -> int:
    from .evaluate import run_cli

    return run_cli(args)


def cmd_articles(args) -> int:
    articles = _rag(args, existing=True).articles()
    for a in articles:
        print(f"{a['published_at'] or 'undated':10}  {a['doc_id']}  {a['title']}")
    if not articles:
        print("no articles are indexed; `rag index PATH` adds them", file=sys.stderr)
    return 0


def cmd_remove(args) -> int:
    """All the ids or none: an unknown id is an error before anything is removed."""
    rag = _rag(args, existing=True)
    ids = list(dict.fromkeys(args.doc_ids))
    known = rag.store.articles_by_id(ids)  # only these records, not every article's
    if unknown := [d for d in ids if d not in known]:
        raise RagError(f"no indexed article with id {unknown[0]!r}; `rag articles` lists them (nothing was removed)")
    for doc_id in ids:
        rag.remove(doc_id)
    print(f"removed {_count(len(ids), 'article')}: {', '.join(ids)}")
    return 0


COMMANDS = {"index": cmd_index, "ask": cmd_ask, "retrieve": cmd_retrieve, "serve": cmd_serve, "eval": cmd_eval,
            "articles": cmd_articles, "remove": cmd_remove}

if __name__ == "__main__":
    sys.exit(main())
