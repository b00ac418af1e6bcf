"""rag/indexer.py's bookkeeping without a store or model: the text a chunk is embedded with, which indexed files
are gone, the ids files get (`Ids`: unique, stable across runs) and near-duplicate folding (`Folds`: a copy
becomes an alternate, a copy that changes a value a linked version, kept in the article records across runs)."""
from __future__ import annotations

import json
from dataclasses import replace

import pytest

from rag.errors import RagError
from rag.indexer import Folds, Ids, embedding_text, missing_files
from rag.load import make_document
from rag.types import Chunk

STORY = ("Officials in Lakeport said on Tuesday that the new desalination plant will begin supplying drinking water to "
         "40,000 homes by the end of the summer, easing a shortage that has forced rationing since last year. The "
         "plant, built on reclaimed land north of the harbour, cost 310 million dollars and was funded jointly by the "
         "regional government and three engineering firms. Engineers expect the plant to run at half capacity for the "
         "first six weeks while its membranes are tested.")
COPY = STORY.replace("said on Tuesday", "announced on Tuesday")
VERSION = STORY.replace("40,000 homes", "55,000 homes")
OTHER = "A ferry strike in Eastbay entered its third day on Wednesday as crews and operators failed to agree on pay."
TEXTS = {"story.txt": STORY, "copy.txt": COPY, "version.txt": VERSION, "other.txt": OTHER}


def doc(doc_id: str, text: str = "Some text.", key: str | None = None, ids: tuple[str, ...] = (), source=None):
    return replace(make_document(doc_id, text, source or key or doc_id), key=key, ids=ids)


def test_embedding_text_heads_a_chunk_with_its_title_once():
    d = doc("a.txt", "Truce talks\nThe truce ends on August 12.")
    body, lead = Chunk("a-1", "a.txt", "The truce ends on August 12.", 12, 40), Chunk("a-0", "a.txt", d.text, 0, 40)
    assert d.title == "Truce talks"
    assert embedding_text(d, body, with_title=True) == "Truce talks\nThe truce ends on August 12."
    assert embedding_text(d, lead, with_title=True) == d.text  # it starts with the title already
    assert embedding_text(d, body, with_title=False) == body.text


def test_missing_files_are_indexed_files_gone_from_a_folder_named_in_this_run(tmp_path):
    news, other = tmp_path / "news", tmp_path / "other"
    news.mkdir(), other.mkdir()
    (news / "kept.txt").write_text("x")
    articles = {"kept.txt": {"path": str(news / "kept.txt")}, "gone.txt": {"path": str(news / "gone.txt")},
                "seen.txt": {"path": str(news / "seen.txt")}, "elsewhere.txt": {"path": str(other / "gone.txt")},
                "jsonl-id": {}}
    assert missing_files(articles, {"seen.txt"}, [news]) == ["gone.txt"]
    assert missing_files(articles, set(), [news, other]) == ["gone.txt", "seen.txt", "elsewhere.txt"]
    assert missing_files(articles, set(), [news / "kept.txt"]) == []  # a file named, not a folder


def test_ids_give_a_same_named_file_the_next_longer_id():
    ids = Ids({})
    north = doc("report.txt", key="/n/report.txt", ids=("report.txt", "n/report.txt", "/n/report.txt"))
    south = doc("report.txt", key="/s/report.txt", ids=("report.txt", "s/report.txt", "/s/report.txt"))
    assert ids.assign(north).doc_id == "report.txt"
    assert ids.assign(south).doc_id == "s/report.txt"


def test_ids_give_a_file_read_twice_in_one_run_the_same_id():
    ids = Ids({})
    north = doc("report.txt", key="/n/report.txt", ids=("report.txt", "n/report.txt", "/n/report.txt"))
    assert ids.assign(north).doc_id == "report.txt"
    assert ids.assign(north).doc_id == "report.txt"


def test_ids_keep_an_indexed_files_id_by_its_key():
    ids = Ids({"report.txt": {"key": "/s/report.txt"}, "wire.txt": {"key": "/w/wire.txt", "alternates": json.dumps(
        [{"doc_id": "copy.txt", "key": "/c/copy.txt"}])}})
    assert ids.assign(doc("report.txt", key="/s/report.txt", ids=("report.txt",))).doc_id == "report.txt"
    assert ids.assign(doc("report.txt", key="/n/report.txt", ids=("report.txt", "n/report.txt"))).doc_id == (
        "n/report.txt")
    assert ids.assign(doc("x", key="/c/copy.txt", ids=("elsewhere/copy.txt",))).doc_id == "copy.txt"  # an alternate's
    assert ids.assign(doc("n1", "JSONL row with its own id")).doc_id == "n1"  # no key: its id is its own


def test_ids_an_older_record_without_key_is_the_file_whose_source_it_names():
    ids = Ids({"old.txt": {"source": "/o/old.txt"}})
    assert ids.assign(doc("old.txt", key="/p/old.txt", ids=("old.txt", "p/old.txt"), source="/p/old.txt")).doc_id == (
        "p/old.txt")
    assert ids.assign(doc("old.txt", key="/o/old.txt", ids=("old.txt",), source="/o/old.txt")).doc_id == "old.txt"


@pytest.fixture(scope="module")
def folded():
    """One run over the story, a copy, a version with another number and an unrelated article."""
    folds = Folds({}, 0.8, TEXTS.get)
    return folds, {d: folds.fold(doc(d, TEXTS[d])) for d in TEXTS}


def test_a_copy_is_folded_and_a_changed_value_is_another_report(folded):
    _, result = folded
    assert result == {"story.txt": False, "copy.txt": True, "version.txt": False, "other.txt": False}


def test_records_list_the_alternates_and_link_the_versions_both_ways(folded):
    folds, _ = folded
    story, version, other = (folds.record(d) for d in ("story.txt", "version.txt", "other.txt"))
    [alternate] = json.loads(story["alternates"])
    assert alternate["doc_id"] == "copy.txt" and alternate["similarity"] >= 0.8 and alternate["same_values"] is True
    assert [v["doc_id"] for v in json.loads(story["versions"])] == ["version.txt"]
    assert [v["doc_id"] for v in json.loads(version["versions"])] == ["story.txt"]
    assert json.loads(version["alternates"]) == [] and json.loads(other["versions"]) == []
    assert all("minhash" in m for m in (story, version, other))


def test_the_next_run_refolds_an_unchanged_copy_from_the_records_and_unlists_an_edited_one(folded):
    first, _ = folded
    again = Folds({d: first.record(d) for d in ("story.txt", "version.txt")}, 0.8, TEXTS.get)
    assert again.fold(doc("copy.txt", COPY))
    assert again.changed() == {}
    assert not again.fold(doc("copy.txt", OTHER))  # rewritten as another story
    assert json.loads(again.changed()["story.txt"]["alternates"]) == []


def test_pruning_drops_gone_alternates_and_unlinks_gone_versions(folded):
    first, _ = folded
    pruned = Folds({d: first.record(d) for d in ("story.txt", "version.txt")}, 0.8, TEXTS.get)
    pruned.keep_only({"story.txt"}, ["version.txt"])
    assert pruned.changed() == {"story.txt": {"alternates": "[]", "versions": "[]"}}


def test_folding_off_and_a_threshold_outside_zero_to_one():
    off = Folds({}, 0, TEXTS.get)
    assert not off.fold(doc("story.txt", STORY)) and not off.fold(doc("copy.txt", COPY))
    with pytest.raises(RagError, match="near_duplicate_threshold must be between 0 \\(off\\) and 1, not 1.5"):
        Folds({}, 1.5, TEXTS.get)
