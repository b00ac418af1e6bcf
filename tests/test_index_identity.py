"""Issue #22: every file keeps its identity, offsets point into the file, nothing is skipped or dropped silently.

Each test drives the real `rag` CLI (`rag index`, `rag ask --json`, `rag articles`) on small files written
here, with a real embedded Chroma index and the real embedding model.
"""
from __future__ import annotations

import json
import shutil

import pytest
from conftest import SEEDS, run_rag

pytestmark = pytest.mark.slow


def _env(tmp_path) -> dict:
    return {"RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_SEEDS_DIR": str(tmp_path / "no-seeds"),
            "RAG_CHROMA_URL": "", "RAG_ANSWERER": "local"}


def index(tmp_path, *args: str) -> dict:
    """`rag index ... --json`: the report as data (exit code checked)."""
    got = run_rag("index", *args, "--json", env=_env(tmp_path))
    assert got.returncode == 0, got.stderr
    return json.loads(got.stdout)


def ask(tmp_path, question: str, *args: str) -> dict:
    got = run_rag("ask", question, "--json", *args, env=_env(tmp_path))
    assert got.returncode == 0, got.stderr
    return json.loads(got.stdout)


def articles(tmp_path) -> list[str]:
    got = run_rag("articles", env=_env(tmp_path))
    assert got.returncode == 0, got.stderr
    return [line.split()[1] for line in got.stdout.splitlines() if line.strip()]


def cited(answer: dict, doc_id: str) -> dict:
    found = [c for c in answer["citations"] if c["doc_id"] == doc_id]
    assert found, f"{doc_id} not cited: {answer['answer']!r} {[c['doc_id'] for c in answer['citations']]}"
    return found[0]


# --- item 6: a citation's start/end index the file's own text -------------------------------------------


def test_quote_offsets_index_the_file_text_for_every_format(tmp_path):
    corpus = tmp_path / "news"
    corpus.mkdir()
    seed = corpus / "001_7d42abc8abeb86ca.txt"
    shutil.copy(SEEDS / seed.name, seed)  # starts with " date 2025-07-23 BEIJING: ..."
    (corpus / "ferry.md").write_text("date: 2025-05-02\r\n\r\n# Ferry news\r\n\r\nThe Holm ferry will stop sailing"
                                     " on 14 September because the pier is being rebuilt.\r\n", encoding="utf-8")
    rows = [{"id": "feed-1", "title": "Bridge", "published_at": "2025-04-01",
             "text": "\r\n  date 2025-04-01\r\nThe Vika bridge reopens on 3 June after repairs costing 12 million.\r\n"}]
    (corpus / "feed.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    (corpus / "page.html").write_text("<html><head><title>Museum</title></head><body><nav>Home | News</nav>"
                                      "<article><h1>Museum</h1><p>The Holm museum will charge 90 kronor for"
                                      " entry from July.</p></article></body></html>", encoding="utf-8")
    report = index(tmp_path, str(corpus))
    assert report["added"] == 4 and not report["skipped"]

    c = cited(ask(tmp_path, "In which city did US and Chinese officials meet in June?"), seed.name)
    assert c["quote"] == "Officials from the two countries also met in London in June."
    assert open(seed, encoding="utf-8").read()[c["start"]:c["end"]] == c["quote"]  # was 1349-1409, 16 chars off

    c = cited(ask(tmp_path, "When will the Holm ferry stop sailing?"), "ferry.md")
    assert "14 September" in c["quote"]
    assert open(corpus / "ferry.md", encoding="utf-8").read()[c["start"]:c["end"]] == c["quote"]

    c = cited(ask(tmp_path, "When does the Vika bridge reopen?"), "feed-1")
    assert "3 June" in c["quote"] and rows[0]["text"][c["start"]:c["end"]] == c["quote"]

    c = cited(ask(tmp_path, "How much will the Holm museum charge for entry?"), "page.html")
    assert "90 kronor" in c["quote"]
    from rag import RAG

    shown = RAG(index_dir=tmp_path / "index", chroma_url=None).article("page.html")["text"]  # the article view
    assert shown[c["start"]:c["end"]] == c["quote"] and "The Holm museum will charge" in shown


# --- item 2: a doc id identifies its file --------------------------------------------------------------


def _two_reports(tmp_path):
    for folder, town, fare in (("north", "Holm", "45 kronor"), ("south", "Vika", "60 kronor")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "report.txt").write_text(
            f"date 2025-03-0{len(town)}\nThe {town} bus fare rises to {fare} in April, the council said.\n", encoding="utf-8")


def test_same_named_files_in_two_folders_keep_their_own_ids(tmp_path):
    _two_reports(tmp_path)
    north, south = str(tmp_path / "north" / "report.txt"), str(tmp_path / "south" / "report.txt")
    assert index(tmp_path, north)["added"] == 1
    second = index(tmp_path, south)
    assert (second["added"], second["updated"]) == (1, 0)  # was "1 updated": the north article was gone
    assert sorted(articles(tmp_path)) == ["report.txt", "south/report.txt"]
    again = index(tmp_path, north)  # the same file from the same place keeps its id
    assert (again["unchanged"], again["added"], again["updated"]) == (1, 0, 0)
    folder = index(tmp_path, str(tmp_path / "north"), str(tmp_path / "south"))  # named as folders now
    assert (folder["unchanged"], folder["added"], folder["skipped"]) == (2, 0, [])
    assert sorted(articles(tmp_path)) == ["report.txt", "south/report.txt"]
    assert "45 kronor" in cited(ask(tmp_path, "What will the Holm bus fare be?"), "report.txt")["quote"]
    assert "60 kronor" in cited(ask(tmp_path, "What will the Vika bus fare be?"), "south/report.txt")["quote"]


def test_two_folders_with_same_named_files_in_one_run_are_both_indexed(tmp_path):
    _two_reports(tmp_path)
    report = index(tmp_path, str(tmp_path / "north"), str(tmp_path / "south"))
    assert (report["added"], report["skipped"]) == (2, [])  # was: one skipped as "duplicate id 'report.txt'"
    assert sorted(articles(tmp_path)) == ["report.txt", "south/report.txt"]


def test_seed_ids_stay_their_file_names(tmp_path):
    index(tmp_path, str(SEEDS))
    assert sorted(articles(tmp_path)) == sorted(p.name for p in SEEDS.glob("*.txt"))


# --- item 4: feed dates are read, or counted as a warning ----------------------------------------------


def test_feed_dates_in_common_formats_are_read_and_an_unreadable_one_is_a_warning(tmp_path):
    rows = [
        {"id": "rss", "published_at": "Mon, 31 Mar 2025 23:30:00 GMT",
         "text": "The Holm council approved a new harbour crane costing 4 million kronor."},
        {"id": "iso", "published_at": "2025-02-14T08:15:00+01:00",
         "text": "The Vika library extends its opening hours to 21:00 on weekdays."},
        {"id": "words", "published_at": "January 5, 2025",
         "text": "The Lund ferry timetable adds a 06:10 departure on Mondays."},
        {"id": "junk", "published_at": "sometime last spring",
         "text": "The Eke school choir won the regional contest with a folk song."},
    ]
    feed = tmp_path / "feed.jsonl"
    feed.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    got = run_rag("index", str(feed), env=_env(tmp_path))
    assert got.returncode == 0, got.stderr
    assert got.stdout.count("\n") == 1 and "4 added" in got.stdout and "1 warning" in got.stdout  # one summary line
    assert f"{feed}:4" in got.stderr and "sometime last spring" in got.stderr
    listed = {line.split()[1]: line.split()[0] for line in run_rag("articles", env=_env(tmp_path)).stdout.splitlines()}
    assert listed == {"rss": "2025-03-31", "iso": "2025-02-14", "words": "2025-01-05", "junk": "undated"}
    report = index(tmp_path, str(feed))  # --json: the same warning as data
    assert report["warnings"] == [{"input": f"{feed}:4", "warning": report["warnings"][0]["warning"]}]
    assert "sometime last spring" in report["warnings"][0]["warning"]
    answer = ask(tmp_path, "What did the Holm council approve?", "--since", "2025-03-31", "--as-of", "2025-04-02")
    assert "4 million" in cited(answer, "rss")["quote"]
    assert all(c["doc_id"] == "rss" for c in answer["citations"])


# --- item 7: deleted files are reported -----------------------------------------------------------------


def test_deleted_files_are_reported_until_pruned(tmp_path):
    news = tmp_path / "news"
    news.mkdir()
    for name, town, what in (("a.txt", "Holm", "a new library"), ("b.txt", "Vika", "a new stadium"),
                             ("c.txt", "Lund", "a new bridge")):
        (news / name).write_text(f"The {town} council voted to build {what} next year.\n", encoding="utf-8")
    assert index(tmp_path, str(news))["added"] == 3
    (news / "b.txt").unlink()
    (news / "c.txt").unlink()
    got = run_rag("index", str(news), env=_env(tmp_path))
    assert got.returncode == 0, got.stderr
    assert ("2 indexed articles from this folder no longer exist: rag remove b.txt c.txt (--prune removes every "
            "article not among the paths indexed)") in got.stdout
    assert index(tmp_path, str(news))["missing"] == 2
    assert sorted(articles(tmp_path)) == ["a.txt", "b.txt", "c.txt"]  # still answerable, but now said so
    pruned = index(tmp_path, str(news), "--prune")
    assert (pruned["removed"], pruned["missing"]) == (2, 0)
    assert articles(tmp_path) == ["a.txt"]
    got = run_rag("index", str(news), env=_env(tmp_path))
    assert "no longer exist" not in got.stdout and "1 unchanged" in got.stdout


# --- item 3: linked folders are followed; loops and broken links are listed -------------------------------


def test_symlinked_folder_is_followed_and_loops_and_broken_links_are_listed(tmp_path):
    archive, news = tmp_path / "archive" / "2024", tmp_path / "news"
    archive.mkdir(parents=True)
    news.mkdir()
    (archive / "old.txt").write_text("date 2024-11-02\nThe Holm tram line opened on 2 November 2024 after "
                                     "three years of work.\n", encoding="utf-8")
    (news / "today.txt").write_text("The Vika market moves to the harbour square in May.\n", encoding="utf-8")
    (news / "2024").symlink_to("../archive/2024", target_is_directory=True)  # news/2024 -> ../archive/2024
    (archive / "again").symlink_to("..", target_is_directory=True)  # a loop: archive/2024/again -> archive
    (news / "gone").symlink_to("../nowhere", target_is_directory=True)  # a broken link
    report = index(tmp_path, str(news))
    assert report["added"] == 2  # was "1 added, skipped: []"
    assert sorted(articles(tmp_path)) == ["2024/old.txt", "today.txt"]
    reasons = {s["input"]: s["reason"] for s in report["skipped"]}
    assert "broken link to ../nowhere" in reasons.pop(str(news / "gone"))
    assert "a loop" in reasons.pop(str(news / "2024" / "again" / "2024")) and not reasons
    answer = ask(tmp_path, "When did the Holm tram line open?")
    assert "2 November 2024" in cited(answer, "2024/old.txt")["quote"]
