"""Multi-turn: an elliptical follow-up is answered in the context of the previous question."""
import pytest

from rag.followup import FollowUp, standalone, turns


@pytest.mark.slow
def test_follow_up_rewritten_and_answered(seeded_rag):
    previous = "Who led the US officials at the Stockholm talks?"
    assert seeded_rag.ask(previous).text.startswith("Scott Bessent")
    answer = seeded_rag.ask("And who led the Chinese side?", history=[previous])
    assert answer.text.splitlines()[0].startswith("He Lifeng")
    assert answer.diagnostics["standalone_question"].startswith("Who led the Chinese side?")


def test_standalone_question_is_left_alone():
    q = "What tariff rate did Trump threaten on Chinese goods over magnets?"
    assert standalone(q, turns(["When does the truce expire?"])) == FollowUp(q)


def test_follow_up_keeps_the_earlier_question_apart():
    """The earlier question is searched with a follow-up but passed to the answerer on its own, never
    inside the question's text."""
    follow = standalone("And who led the Chinese side?", turns([{"question": "Who led the US side?", "answer": ""}]))
    assert follow == FollowUp("Who led the Chinese side?", "Who led the US side?")
    assert follow.search == "Who led the Chinese side? (following: Who led the US side?)"
    named = standalone("When did she join?", turns([("Who runs Orbis?", "Clara Holm [1] (reported 2025-01-02)")]))
    assert named == FollowUp("When did Clara Holm join?")
