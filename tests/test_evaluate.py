"""rag/evaluate.py's scoring, on hand-made questions and answers: normalisation, answer matching and token F1,
the answer phrase, reading a question file, one question's row (retrieval ranks, accuracy over the answer's
components, citation precision and recall, abstention) and the summary over rows."""
from __future__ import annotations

import json

import pytest

from rag.errors import RagError
from rag.evaluate import answer_f1, answer_phrase, contains, load_questions, normalize, score_question, summarize, token_f1
from rag.types import Answer, Citation

QUOTE = "The 90-day truce is set to expire on August 12."


def cite(doc_id: str, quote: str = QUOTE) -> Citation:
    return Citation(n=1, doc_id=doc_id, title="t", source="s", published_at=None, quote=quote, start=0, end=len(quote))


def question(**kw) -> dict:
    return {"id": "q1", "type": "single-article", "question": "When does the truce expire?", "answers": ["August 12"],
            "gold_docs": ["truce.txt"]} | kw


def test_normalize_drops_case_markers_punctuation_and_articles_keeping_percent_and_dollar():
    assert normalize("The “Truce” ends on Aug. 12 [1], at 5% — an $8 fee!") == "truce ends on aug 12 at 5% — $8 fee"
    assert normalize("  A   B’s  ") == "b s"


def test_contains_matches_whole_normalised_words_only():
    assert contains("It ends on August 12 [1].", ["august 12"])
    assert not contains("It ends on August 123.", ["August 12"])
    assert contains("It ends on August 12.", ["July 1", "the August 12"])
    assert not contains("anything", ["", "the"])  # a form that normalises to nothing matches nothing


def test_token_f1():
    assert token_f1("the truce ends August 12", "August 12") == pytest.approx(2 / 3)
    assert token_f1("August 12", "August 12") == 1.0
    assert token_f1("July", "August 12") == 0.0


def test_answer_f1_scores_a_compound_answer_against_all_its_parts():
    """Naming both parts scores above naming one, which the best-single-form F1 had rated the other way."""
    parts = [["soybeans", "soybean"], ["12 million tons", "12 million"]]
    both, one = answer_f1("soybeans 12 million tons", parts), answer_f1("12 million tons", parts)
    assert both == 1.0 and one == pytest.approx(2 * 0.75 / 1.75) and both > one
    assert answer_f1("the truce ends August 12", [["August 12", "Aug 12"]]) == token_f1("the truce ends August 12",
                                                                                        "August 12")


def test_answer_phrase_drops_markers_and_bracketed_notes():
    assert answer_phrase("August 12 [1] (reported 2025-07-23)") == "august 12"
    assert answer_phrase("200% (threatened) [2]; 145 per cent [1]") == "200% 145 per cent"


def test_load_questions_fills_ids_gold_docs_answers_and_types(tmp_path):
    rows = [{"question_id": "w_0", "question": "Q?", "answer": "“Tern Bridge”", "gold_ids": ["a1"]},
            {"id": "x", "question": "Unanswerable?", "answers": []},
            {"question": "Typed?", "answers": ["5"], "type": "number"}]
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(rows[0]) + "\n\n" + "\n".join(json.dumps(r) for r in rows[1:]) + "\n")
    got = load_questions(path)
    assert [(q["id"], q["answers"], q["gold_docs"], q["type"]) for q in got] == [
        ("w_0", ["Tern Bridge"], ["a1"], "single-article"), ("x", [], [], "unanswerable"),
        ("line4", ["5"], [], "number")]


def test_load_questions_names_the_malformed_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "fine?"}\n{not json\n')
    with pytest.raises(RagError, match=r"bad\.jsonl:2: malformed JSON line"):
        load_questions(path)



@pytest.mark.parametrize("line", ['{"id": "a", "answers": ["x"]}', '["When?"]', '{"question": "  "}', '{"question": 7}'])
def test_load_questions_names_a_line_without_a_question(tmp_path, line):
    """A line that parses but asks nothing is a one-line error naming it, not a KeyError from the eval loop."""
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "fine?"}\n' + line + "\n")
    with pytest.raises(RagError, match=r'bad\.jsonl:2: no "question"'):
        load_questions(path)


def test_score_question_retrieval_answer_and_citations():
    answer = Answer(text=f"August 12 [1]\n\n[1] “{QUOTE}”", abstained=False, timings={"total_ms": 120.0},
                    citations=[cite("truce.txt"), cite("other.txt", "Nothing.")])
    row = score_question(question(), ["other.txt", "noise.txt", "truce.txt"], answer)
    assert {k: row[k] for k in ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10")} == {
        "hit@1": 0.0, "hit@3": 1.0, "hit@5": 1.0, "hit@10": 1.0, "mrr@10": pytest.approx(1 / 3)}
    assert (row["accuracy"], row["partial"], row["f1"]) == (1.0, 1.0, 1.0)
    assert (row["citation_precision"], row["citation_recall"]) == (0.5, 1.0)
    assert (row["answer"], row["latency_ms"], row["cited"]) == ("August 12 [1]", 120.0, ["truce.txt", "other.txt"])


def test_score_question_a_gold_document_past_rank_ten_is_a_miss():
    answer = Answer(text="August 12 [1]", citations=[], abstained=False)
    row = score_question(question(), [f"d{i}" for i in range(10)] + ["truce.txt"], answer)
    assert row["hit@10"] == 0.0 and row["mrr@10"] == 0.0 and "citation_precision" not in row
    assert row["citation_recall"] == 0.0


def test_score_question_needs_every_component_of_a_compound_answer():
    q = question(answers=["wheat", "40,000 tonnes"], all_answers=[["wheat"], ["40,000 tonnes", "40000 tonnes"]])
    half = score_question(q, [], Answer(text="wheat [1]", citations=[], abstained=False))
    assert (half["accuracy"], half["partial"]) == (0.0, 0.5)
    both = score_question(q, [], Answer(text="wheat [1]; 40000 tonnes [2]", citations=[], abstained=False))
    assert (both["accuracy"], both["partial"]) == (1.0, 1.0)


def test_score_question_an_abstention_scores_nothing_and_an_unanswerable_question_no_accuracy():
    abstained = score_question(question(), ["truce.txt"], Answer(text="I could not find it; August 12",
                                                                 citations=[], abstained=True))
    assert (abstained["accuracy"], abstained["partial"], abstained["f1"]) == (0.0, 0.0, 0.0)
    assert abstained["hit@1"] == 1.0
    nothing = Answer(text="-", citations=[], abstained=True)
    unanswerable = score_question(question(answers=[], gold_docs=[]), [], nothing)
    assert unanswerable["answerable"] is False and "accuracy" not in unanswerable and "hit@1" not in unanswerable


def test_summarize_means_by_type_abstention_and_latency():
    rows = [{"type": "a", "answerable": True, "abstained": False, "latency_ms": 100.0, "accuracy": 1.0, "hit@1": 1.0},
            {"type": "a", "answerable": True, "abstained": True, "latency_ms": 300.0, "accuracy": 0.0, "hit@1": 0.0},
            {"type": "u", "answerable": False, "abstained": True, "latency_ms": 200.0},
            {"type": "u", "answerable": False, "abstained": False, "latency_ms": 400.0}]
    out = summarize(rows)["overall"]
    assert (out["accuracy"], out["hit@1"], out["f1"], out["n"]) == (0.5, 0.5, None, 4)
    assert (out["abstention_precision"], out["abstention_recall"]) == (0.5, 0.5)
    assert (out["latency_p50_ms"], out["latency_p95_ms"]) == (250.0, 400.0)
    by_type = summarize(rows)["by_type"]
    assert sorted(by_type) == ["a", "u"] and by_type["a"]["n"] == 2 and by_type["u"]["accuracy"] is None
    no_unanswerable = summarize(rows[:2])["overall"]
    assert no_unanswerable["abstention_precision"] is None and no_unanswerable["abstention_recall"] is None
