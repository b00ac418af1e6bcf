"""RAG.remove and RAG.reindex: an article taken out of the index, or read again from its changed file, with
the BM25 state, the dense index, the folded copies and the version links kept consistent."""
from __future__ import annotations

import json

import pytest

from conftest import indexed_rag
from rag.errors import RagError

pytestmark = pytest.mark.slow

FERRY = ("date {day}\nNordlys ferry service\nThe ferry Nordlys will start service on {when}, the operator said. "
         "The 84-metre vessel was built at the Sorvik yard and can carry 300 passengers and 60 cars. "
         "It will sail twice daily between Hammerby harbour and the island of Vest Lind. "
         "The crossing will take about 40 minutes, half the time of the old route.")
BRIDGE = ("date 2025-06-04\nHammerby bridge repairs\nRepairs to the Hammerby bridge will close it to lorries for "
          "three weeks from Monday, the roads agency said. Cars and buses may still cross at 30 km/h. The agency "
          "said cracks were found in two of the bridge's steel bearings during an inspection in May. Lorries will "
          "be sent along the coast road, which adds about 20 minutes to the trip to the harbour. Hauliers said the "
          "detour would raise their costs but that they supported the repairs.")
# files load in name order: the first of a story is the one kept, its byline copy folded into it
ARTICLES = {"ferry-june.txt": FERRY.format(day="2025-06-02", when="June 20"),
            "ferry-july.txt": FERRY.format(day="2025-06-05", when="July 4"),
            "bridge-0.txt": BRIDGE, "bridge-1-copy.txt": BRIDGE + " Reporting by Ana Silva."}
FERRY_Q = "When will the ferry Nordlys start service?"


@pytest.fixture(scope="module")
def rag(tmp_path_factory):
    return indexed_rag(tmp_path_factory, ARTICLES, "remove")


def test_the_corpus_has_two_versions_and_a_folded_copy(rag):
    rows = {r["doc_id"]: r for r in rag.articles()}
    assert set(rows) == {"ferry-june.txt", "ferry-july.txt", "bridge-0.txt"}
    assert [a["doc_id"] for a in rows["bridge-0.txt"]["alternates"]] == ["bridge-1-copy.txt"]
    assert rows["bridge-0.txt"]["path"].endswith("bridge-0.txt")
    assert rag.ask(FERRY_Q).text.startswith("Reports differ")


def test_removing_a_version_unlinks_it_and_no_search_finds_it(rag):
    chunks = rag.store.chunk_ids_of(["ferry-july.txt"])
    assert chunks and rag.retriever.lexical.metas_of(chunks).keys() == set(chunks)
    rag.remove("ferry-july.txt")
    assert {r["doc_id"] for r in rag.articles()} == {"ferry-june.txt", "bridge-0.txt"}
    assert rag.store.chunk_ids_of(["ferry-july.txt"]) == []
    assert json.loads(rag.store.article_state()["ferry-june.txt"]["versions"]) == []
    assert not rag.retriever.lexical.metas_of(chunks)  # BM25 synced: the article's chunks are dead
    answer = rag.ask(FERRY_Q)
    assert answer.text.startswith("June 20") and "July 4" not in answer.text, answer.text
    assert all(h.doc_id != "ferry-july.txt" for h in rag.retrieve("ferry Nordlys July 4", k=10))
    with pytest.raises(RagError, match="no indexed article with id 'ferry-july.txt'"):
        rag.remove("ferry-july.txt")


def test_removing_an_article_removes_the_copies_folded_into_it(rag):
    rag.remove("bridge-0.txt")
    assert {r["doc_id"] for r in rag.articles()} == {"ferry-june.txt"}
    assert rag.retrieve("Hammerby bridge repairs lorries", k=5)[0].doc_id == "ferry-june.txt"


def test_reindex_reads_the_changed_file_again(rag):
    corpus = rag.settings.paths.seeds_dir
    assert rag.reindex("ferry-june.txt").unchanged == 1
    (corpus / "ferry-june.txt").write_text(FERRY.format(day="2025-06-02", when="June 27"), encoding="utf-8")
    report = rag.reindex("ferry-june.txt")
    assert (report.updated, report.added) == (1, 0)
    assert rag.ask(FERRY_Q).text.startswith("June 27")
    (corpus / "ferry-june.txt").unlink()
    with pytest.raises(RagError, match="the file of 'ferry-june.txt' is gone"):
        rag.reindex("ferry-june.txt")


def test_cli_remove_takes_all_the_ids_or_none(tmp_path_factory):
    from conftest import run_rag

    small = indexed_rag(tmp_path_factory, {k: ARTICLES[k] for k in ("ferry-june.txt", "bridge-0.txt")}, "remove-cli")
    env = {"RAG_INDEX_DIR": str(small.settings.paths.index_dir), "RAG_SEEDS_DIR": str(small.settings.paths.seeds_dir)}
    out = run_rag("remove", "bridge-0.txt", "no-such.txt", env=env)
    assert out.returncode == 2 and out.stderr.strip() == (
        "rag: error: no indexed article with id 'no-such.txt'; `rag articles` lists them (nothing was removed)")
    assert "bridge-0.txt" in run_rag("articles", env=env).stdout
    out = run_rag("remove", "bridge-0.txt", env=env)
    assert out.returncode == 0 and out.stdout.strip() == "removed 1 article: bridge-0.txt", out.stderr
    listed = run_rag("articles", env=env).stdout
    assert "bridge-0.txt" not in listed and "ferry-june.txt" in listed
    assert (small.settings.paths.seeds_dir / "bridge-0.txt").exists()  # the file is left alone
