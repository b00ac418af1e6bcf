"""Multi-turn: an elliptical follow-up is answered in the context of the previous question."""
import pytest

from rag.followup import focus, standalone


@pytest.mark.slow
def test_follow_up_rewritten_and_answered(seeded_rag):
    previous = "Who led the US officials at the Stockholm talks?"
    assert seeded_rag.ask(previous).text.startswith("Scott Bessent")
    answer = seeded_rag.ask("And who led the Chinese side?", history=[previous])
    assert answer.text.splitlines()[0].startswith("He Lifeng")
    assert answer.diagnostics["standalone_question"].startswith("Who led the Chinese side?")


def test_standalone_question_is_left_alone():
    q = "What tariff rate did Trump threaten on Chinese goods over magnets?"
    assert standalone(q, ["When does the truce expire?"]) == q
    assert focus(q) == (q, set())
