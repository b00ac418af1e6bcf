"""The engine end to end over the seeds: real model, real embedded Chroma."""
from __future__ import annotations

import json
import shutil
import time

import pytest
from conftest import SEEDS, TRUCE, run_rag

from rag import RAG
from rag.errors import RagError

pytestmark = pytest.mark.slow


def test_truce_question_answers_august_12_with_verified_quote(seeded_rag):
    answer = seeded_rag.ask("When does the tariff truce expire?")
    assert not answer.abstained
    assert answer.text.startswith("August 12 [1]")
    c = answer.citations[0]
    assert c.n == 1 and c.doc_id == "000_d87944a161c7f26e.txt"
    assert c.quote == TRUCE
    article = (SEEDS / c.doc_id).read_text(encoding="utf-8")
    assert article[c.start:c.end] == c.quote
    assert set(answer.timings) >= {"retrieve_ms", "answer_ms", "total_ms"}


def test_every_marker_has_a_verified_citation(seeded_rag):
    for q in ["In which cities have US and Chinese officials met?", "What tariff rate did Trump threaten over magnets?",
              "Who is China's foreign ministry spokesperson?"]:
        answer = seeded_rag.ask(q)
        numbers = {int(n) for n in __import__("re").findall(r"\[(\d+)\]", answer.text)}
        assert numbers == {c.n for c in answer.citations}, (q, answer.text)
        for c in answer.citations:
            assert seeded_rag.article(c.doc_id)["text"][c.start:c.end] == c.quote


def test_off_topic_question_abstains(seeded_rag):
    answer = seeded_rag.ask("Who won the 2022 World Cup?")
    assert answer.abstained and answer.citations == []
    assert "could not find" in answer.text


def test_dated_answer_names_its_article_date(seeded_rag):
    answer = seeded_rag.ask("When is the 10 per cent blanket tariff rate expected to increase?")
    assert "Aug 1" in answer.text and "reported 2025-07-23" in answer.text
    assert answer.citations[0].published_at == "2025-07-23"


def test_retrieve_hits_carry_offsets_and_filters_apply(seeded_rag):
    hits = seeded_rag.retrieve("Stockholm trade talks", k=5)
    assert hits and all(seeded_rag.article(h.doc_id)["text"][h.start:h.end] == h.text for h in hits)
    dated = seeded_rag.retrieve("Stockholm trade talks", k=5, since="2025-07-01", until="2025-07-31")
    assert dated and {h.doc_id for h in dated} == {"001_7d42abc8abeb86ca.txt"}
    only = seeded_rag.retrieve("tariffs", k=5, source="004_")
    assert only and {h.doc_id for h in only} == {"004_d06dc6481aa78526.txt"}


def test_score_fusion_finds_the_same_articles_with_offsets_and_filters(seeded_rag):
    dbsf = RAG(seeded_rag.settings, fusion="dbsf", bm25_weight=0.0, article_weight=1.6)
    dbsf.__dict__.update(store=seeded_rag.store, embedder=seeded_rag.embedder)
    hits = dbsf.retrieve("When does the tariff truce expire?", k=5)
    assert hits[0].doc_id == "000_d87944a161c7f26e.txt"
    assert all(dbsf.article(h.doc_id)["text"][h.start:h.end] == h.text for h in hits)
    dated = dbsf.retrieve("Stockholm trade talks", k=5, since="2025-07-01", until="2025-07-31")
    assert dated and {h.doc_id for h in dated} == {"001_7d42abc8abeb86ca.txt"}


def test_stream_yields_pieces_then_answer(seeded_rag):
    items = list(seeded_rag.stream("When does the tariff truce expire?"))
    assert all(isinstance(p, str) for p in items[:-1]) and len(items) > 2
    assert "".join(items[:-1]).strip() == items[-1].text.strip()


def test_reindex_writes_nothing_change_replaces_prune_removes(tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    rag = RAG(index_dir=tmp_path / "index")
    first = rag.index([corpus])
    assert (first.added, first.chunks_written > 0) == (5, True)
    chunks_before = rag.store.chunks.count()
    again = rag.index([corpus])
    assert (again.unchanged, again.chunks_written, again.added) == (5, 0, 0)
    assert rag.store.chunks.count() == chunks_before

    target = corpus / "002_ebedd4a92f329c8a.txt"
    target.write_text(target.read_text(encoding="utf-8") + "\nThe talks will resume in Zurich on March 3.\n", encoding="utf-8")
    changed = rag.index([corpus])
    assert (changed.updated, changed.unchanged) == (1, 4)
    new_hash = rag.store.article_state()["002_ebedd4a92f329c8a.txt"]["doc_hash"]
    metas = [m for m in rag.store.chunk_state().values() if m["doc_id"] == "002_ebedd4a92f329c8a.txt"]
    assert metas and {m["doc_hash"] for m in metas} == {new_hash}
    assert "Zurich" in rag.ask("Where will the talks resume?").text

    (corpus / "004_d06dc6481aa78526.txt").unlink()
    pruned = rag.index([corpus], prune=True)
    assert pruned.removed == 1
    assert "004_d06dc6481aa78526.txt" not in rag.store.article_state()
    assert all(m["doc_id"] != "004_d06dc6481aa78526.txt" for m in rag.store.chunk_state().values())


def test_cli_ask_and_retrieve_json(tmp_path):
    env = {"RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_SEEDS_DIR": str(SEEDS)}
    ask = run_rag("ask", "When does the tariff truce expire?", "--json", env=env)
    assert ask.returncode == 0, ask.stderr
    data = json.loads(ask.stdout)
    assert set(data) >= {"answer", "abstained", "citations", "timings"}
    assert "August 12" in data["answer"] and data["abstained"] is False
    assert set(data["citations"][0]) >= {"n", "doc_id", "title", "source", "published_at", "quote", "start", "end"}
    ret = run_rag("retrieve", "tariff truce", "--k", "3", "--json", env=env)
    assert ret.returncode == 0, ret.stderr
    hits = json.loads(ret.stdout)["hits"]
    assert len(hits) == 3
    assert set(hits[0]) == {"doc_id", "title", "source", "published_at", "score", "text", "start", "end", "alternates",
                            "similarity"}
    # the chunk's stored vector against the question's: real cosines, the truce passage well above zero
    assert all(-1.0 <= h["similarity"] <= 1.0 for h in hits) and hits[0]["similarity"] > 0.3


def test_the_store_flags_name_the_index_over_the_settings(tmp_path):
    """`--index-dir` on index, articles, ask, retrieve and remove outranks RAG_INDEX_DIR, as a flag does."""
    folder, other = tmp_path / "flagged", tmp_path / "from-env"
    env = {"RAG_INDEX_DIR": str(other), "RAG_SEEDS_DIR": str(tmp_path / "no-seeds")}
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "ferry.txt").write_text("New ferry\nThe new ferry cost 12 million euros.\n")
    assert run_rag("index", str(corpus), "--index-dir", str(folder), env=env).returncode == 0
    listed = run_rag("articles", "--index-dir", str(folder), env=env)
    assert "ferry.txt" in listed.stdout and "ferry.txt" not in run_rag("articles", env=env).stdout
    ask = run_rag("ask", "How much did the new ferry cost?", "--answerer", "local", "--index-dir", str(folder), env=env)
    assert ask.returncode == 0 and "12 million euros" in ask.stdout, ask.stdout + ask.stderr
    assert "ferry.txt" in run_rag("retrieve", "ferry", "--index-dir", str(folder), env=env).stdout
    assert run_rag("remove", "ferry.txt", "--index-dir", str(folder), env=env).returncode == 0
    assert "ferry.txt" not in run_rag("articles", "--index-dir", str(folder), env=env).stdout


def test_date_filter_gives_the_same_hits_outside_and_inside_chroma(tmp_path):
    """A filter most chunks pass is applied after a deeper unfiltered search; a narrow one inside Chroma.
    Both must return exactly the chunks Chroma's own filtered search returns."""
    from rag import RAG
    from rag.retrieve import Filters

    corpus = tmp_path / "dated"
    corpus.mkdir()
    topics = ["harbour dredging", "school lunches", "bus fares", "river flooding", "library hours", "bridge repairs"]
    for i, topic in enumerate(topics):
        day = f"2024-03-{i + 1:02d}"
        (corpus / f"{i}.txt").write_text(f"date {day}\nCouncil notes on {topic}, {day}\n" + " ".join(
            f"The council discussed {topic} at meeting {j} and agreed a budget of {j * 7 + i} thousand." for j in range(8)))
    rag = RAG(index_dir=tmp_path / "index", seeds_dir=SEEDS, chroma_url=None)
    rag.index([corpus])
    lex = rag.retriever.lexical
    vector = rag.embedder.embed_query("How much was agreed for river flooding?")
    wide, narrow = Filters(until="2024-03-05"), Filters(since="2024-03-06")
    assert lex.share(wide) > 0.5 > lex.share(narrow) > 0
    for f in (wide, narrow):
        ours = rag.retriever._dense(lex, vector, 5, f, f.where())
        chroma = rag.store.dense(vector, 5, f.where())
        assert [c for c, _ in ours] == [c for c, _ in chroma]
        assert all(f.accepts(lex.metas_of([c])[c]) for c, _ in ours)


def test_answer_embeds_only_the_leading_sentences(seeded_rag, monkeypatch):
    """Every candidate sentence is scored with its chunk's similarity; only `answer_rescore` are encoded."""
    encoded = []
    real = seeded_rag.embedder.embed
    monkeypatch.setattr(seeded_rag.embedder, "embed", lambda texts: encoded.append(len(texts)) or real(texts))
    answer = seeded_rag.ask("When does the tariff truce expire?")
    assert "August 12" in answer.text
    assert encoded and encoded[-1] == seeded_rag.settings.answer.answer_rescore


def test_the_cli_waits_for_a_background_question_embedding_before_it_exits(tmp_path):
    """`rag ask` embeds the question on a thread while it opens the store; failing at once (no Chroma server)
    it had exited under that thread and aborted in native code now and then (exit -6 in CI). The wait is what
    `rag.cli` calls before every exit but Ctrl-C."""
    from rag import api
    rag = RAG(index_dir=tmp_path / "index", seeds_dir=SEEDS, answerer="local")
    rag.prefetch("When does the tariff truce expire?")
    begun = list(api._AHEAD)
    assert [t.name for t in begun] == ["rag-prefetch"]
    api.join_background()
    assert not api._AHEAD and not any(t.is_alive() for t in begun)
    assert rag.embedder.embed_query("When does the tariff truce expire?").shape == (384,)


def test_a_question_refused_before_its_vector_is_used_leaves_no_embedding_running(seeded_rag, monkeypatch):
    """`RAG.ask` embeds the question on a thread while it reads the question; refused at once (a bad date) it
    had returned while that thread ran, and a script exiting then aborted in native code ("terminate called
    without an active exception", 4 runs in 10 of a new user's script)."""
    from rag import api
    real = seeded_rag.embedder.embed_query
    monkeypatch.setattr(seeded_rag.embedder, "embed_query", lambda text: time.sleep(1.0) or real(text))
    with pytest.raises(RagError, match="not a date: 'yesterday'"):
        seeded_rag.ask("Who leads the talks?", since="yesterday")
    assert not api._AHEAD


@pytest.mark.parametrize("raised,code,waits", [(None, 0, True), ("error", 2, True), ("bug", 1, True),
                                               ("ctrl-c", 130, False)])
def test_the_cli_waits_on_every_exit_but_ctrl_c(monkeypatch, raised, code, waits):
    from rag import api, cli
    from rag.errors import RagError
    waited = []
    monkeypatch.setattr(api, "join_background", lambda: waited.append(True))

    def command(args):
        if raised:
            raise {"error": RagError("no Chroma server"), "bug": ValueError("x"), "ctrl-c": KeyboardInterrupt()}[raised]

    monkeypatch.setitem(cli.COMMANDS, "ask", command)
    monkeypatch.delenv("RAG_DEBUG", raising=False)
    assert cli.main(["ask", "When does the tariff truce expire?"]) == code
    assert bool(waited) == waits


def test_asking_an_empty_index_says_nothing_is_indexed(tmp_path):
    """Not "I could not find this": with no seeds folder to start from, there is nothing to search."""
    env = {"RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_SEEDS_DIR": str(tmp_path / "no-seeds")}
    for args in (("ask", "When does the tariff truce expire?", "--answerer", "local"), ("retrieve", "tariff truce")):
        got = run_rag(*args, env=env)
        assert got.returncode == 2 and got.stderr.startswith("rag: error: nothing is indexed at "), got.stderr
        assert "rag index PATH" in got.stderr and "no seeds folder" in got.stderr and len(got.stderr.splitlines()) == 1


def test_an_index_run_that_finds_no_article_says_so_and_its_folder_is_never_seeded(tmp_path):
    """`rag index EMPTY --index-dir X` said "indexed 0 articles" and exited 0; asking X then indexed the seed
    articles into the user's folder and answered from them. Now the run warns and exits 1, and asking says the
    folder holds nothing, naming the command that fills it."""
    (tmp_path / "empty").mkdir()
    folder = tmp_path / "mine"
    got = run_rag("index", str(tmp_path / "empty"), "--index-dir", str(folder))
    assert got.returncode == 1 and "rag: warning: no article found in " in got.stderr, got.stdout + got.stderr
    ask = run_rag("ask", "When does the tariff truce expire?", "--answerer", "local", "--index-dir", str(folder))
    assert ask.returncode == 2 and ask.stderr.startswith("rag: error: nothing is indexed at "), ask.stderr
    assert f"rag index PATH --index-dir {folder}" in ask.stderr and "first run" not in ask.stderr, ask.stderr
    articles = run_rag("articles", "--index-dir", str(folder))
    assert "seed" not in articles.stdout.lower() and "truce" not in articles.stdout.lower(), articles.stdout


def test_a_mistyped_index_folder_is_an_error_that_makes_nothing(tmp_path):
    """Listing, removing, asking, retrieving or serving from a folder --index-dir names and that is missing: asking had
    made it, indexed the seeds into it and answered from them (exit 0). A file named as the folder is said to
    be one, not shown as Python's FileExistsError."""
    typo, a_file = tmp_path / "idnex", tmp_path / "notes.txt"
    a_file.write_text("x")
    for args in (("articles",), ("remove", "a.txt"), ("ask", "Who is the CEO?", "--answerer", "local"), ("retrieve", "CEO"),
                 ("serve", "--port", "1")):
        got = run_rag(*args, "--index-dir", str(typo), env={"RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_SEEDS_DIR": str(SEEDS)})
        assert got.returncode == 2 and got.stderr.strip() == (
            f"rag: error: no index at {typo}: `rag index PATH --index-dir {typo}` makes one"), got.stderr
        got = run_rag(*args, "--index-dir", str(a_file), env={"RAG_INDEX_DIR": str(tmp_path / "index")})
        assert got.returncode == 2 and got.stderr.strip() == f"rag: error: {a_file} is a file, not an index folder"
    assert not typo.exists()
