"""Multi-turn: an elliptical follow-up is answered in the context of the previous question."""
import pytest

from conftest import SEEDS, indexed_rag, run_rag
from rag.errors import RagError
from rag.followup import FollowUp, named_person, standalone, turns
from rag.types import Turn

# two people per article: a follow-up about the one the answer named must find the other fact
PEOPLE = {
    "elmstad.txt": "date 2025-09-03\nJonas Berg wins Elmstad mayoral election\nJonas Berg won the mayoral election "
                   "in Elmstad on Sunday with 54 percent of the vote. His rival, Clara Holm of the Green List, took 46 "
                   "percent and conceded on Sunday night.\n",
    "orbis.txt": "date 2025-09-04\nOrbis names Maria Lind chief executive\nOrbis said on Thursday that Maria Lind is "
                 "its new chief executive, appointed in March 2025. Lind joined the company in 2019 as head of "
                 "logistics.\n",
}


@pytest.fixture(scope="module")
def people_rag(tmp_path_factory):
    """The seeds and the two articles above, embedded."""
    seeds = {p.name: p.read_text(encoding="utf-8") for p in SEEDS.iterdir() if p.is_file()}
    return indexed_rag(tmp_path_factory, {**seeds, **PEOPLE}, "people")


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
    assert named == FollowUp("When did Clara Holm join?", referent="Clara Holm")


@pytest.mark.parametrize("question, resolved", [
    ("And who was his rival?", "Who was Jonas Berg’s rival?"),
    ("What did her campaign promise?", "What did Jonas Berg’s campaign promise?"),
    ("Who beat her?", "Who beat Jonas Berg?"),
    ("When did you last see him?", "When did you last see Jonas Berg?"),
])
def test_the_person_pronoun_becomes_the_name_possessive_or_not(question, resolved):
    previous = turns([("Who won?", "Jonas Berg [1] (reported 2025-09-03)")])
    assert standalone(question, previous) == FollowUp(resolved, referent="Jonas Berg")


def test_a_name_that_starts_like_a_pronoun_is_no_pronoun():
    previous = turns([("Who led the US side?", "Scott Bessent [1]")])
    assert standalone("And what did He Lifeng say?", previous) == FollowUp("What did He Lifeng say?",
                                                                           "Who led the US side?")


def test_only_a_person_is_a_referent():
    assert named_person("Maria Lind [1] (reported 2025-09-04)") == "Maria Lind"
    assert named_person("Stockholm [1] (reported 2025-07-23)") is None  # a place: "she" cannot be it
    assert named_person("August 12 [1]") is None


@pytest.mark.slow
@pytest.mark.parametrize("first, follow_up, expected", [
    ("Who won the mayoral election in Elmstad?", "And who was his rival?", "Clara Holm"),
    ("Who is the chief executive of Orbis?", "When did she join the company?", "2019"),
])
def test_resolved_follow_up_is_answered_with_the_other_fact(people_rag, first, follow_up, expected):
    """The person the previous answer named is what the follow-up is about, not its answer: "his rival" is
    not Jonas Berg, and "when did she join" is not when she was appointed."""
    before = people_rag.ask(first)
    answer = people_rag.ask(follow_up, history=[{"question": first, "answer": before.answer}])
    assert answer.text.splitlines()[0].startswith(expected), answer.text
    assert before.answer.split(" [")[0] not in answer.answer


def test_only_a_question_that_points_back_is_condensed():
    asked = []

    def condense(question, history):
        asked.append(question)
        return "Who was Jonas Berg’s rival in Elmstad?"

    history = turns([("Who won in Elmstad?", "Jonas Berg [1]")])
    assert standalone("Who won the Orbis prize?", history, condense) == FollowUp("Who won the Orbis prize?")
    assert standalone("And his rival?", history, condense) == FollowUp(
        "Who was Jonas Berg’s rival in Elmstad?", referent="Jonas Berg", condensed=True)
    assert asked == ["And his rival?"]


@pytest.mark.slow
def test_the_cli_asks_a_follow_up_after_the_question_it_follows(tmp_path):
    """`rag ask --after QUESTION`: alone, "And who led the Chinese side?" finds the US side's leader."""
    env = {"RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_SEEDS_DIR": str(SEEDS)}
    alone = run_rag("ask", "And who led the Chinese side?", "--answerer", "local", env=env)
    after = run_rag("ask", "And who led the Chinese side?", "--after", "Who led the US officials at the Stockholm talks?",
                    "--answerer", "local", env=env)
    assert alone.returncode == after.returncode == 0
    assert not alone.stdout.startswith("He Lifeng")  # what --after changes
    assert after.stdout.startswith("He Lifeng [1]"), after.stdout
    assert "(searched for: " in after.stderr and "Stockholm" in after.stderr


def test_history_turns_are_questions_dicts_or_pairs_and_nothing_else():
    """A lone question string is one turn (it had been read letter by letter); a number is no turn: a one-line
    RagError, as other bad input to RAG.ask, where `history=[42]` had been taken as the question "42"."""
    assert turns("Who won?") == (Turn("Who won?"),)
    assert turns([{"question": "a"}, ("b", "c"), "d", None]) == (Turn("a"), Turn("b", "c"), Turn("d"), Turn(""))
    with pytest.raises(RagError, match=r"^a history turn is a question, .* not int 42$"):
        turns([42])
