"""Conflicting reports through the real pipeline: articles that disagree are cited together, newest first."""
from __future__ import annotations

import re

import pytest
from conftest import indexed_rag

from rag.cite import quote_ok
from rag.dates import month_mentions
from rag.answer.question import question_kind
from rag.answer.conflicts import _changed, _moved, _terms, denied, excludes
from rag.answer.countries import mentions

ARTICLES = {
    "chess-first.txt": "date 2025-03-02\nChess final report\n\nMagda Orr, a student from the northern coast, won "
                       "the regional chess final on Sunday.\n",
    "chess-second.txt": "date 2025-03-03\nChess final result corrected\n\nTomas Ek, a club player from the valley, "
                        "won the regional chess final on Sunday.\n",
    "port-march.txt": "date 2025-03-02\nNorthwind harbour gets a new chief.\n"
                      "Maria Lopez was appointed harbour master of the Northwind port on Monday. "
                      "Lopez previously ran the ferry terminal in Eastbay. "
                      "The authority expects cargo volumes at the Northwind port to reach 4 million tonnes this year.\n",
    "port-september.txt": "date 2025-09-14\nNorthwind port reshuffle.\n"
                          "Daniel Reyes, the harbour master of the Northwind port, said dredging would start next month. "
                          "Reyes said the Northwind port expects cargo volumes to reach 6 million tonnes this year. "
                          "The Northwind pilots' union is not on strike, Reyes said.\n",
    "pilots-june.txt": "date 2025-06-20\nNorthwind pilots walk out.\n"
                       "The Northwind pilots' union is on strike over pay, halting traffic at the port. "
                       "Union leaders said talks with the authority had broken down.\n",
    "pilots-july.txt": "date 2025-07-15\nNorthwind pilots dig in.\n"
                       "The Northwind pilots' union strike entered its fourth week, union leaders said.\n",
    "bridge-october.txt": "date 2025-10-03\nRiverside bridge works.\n"
                          "The mayor said the Riverside bridge will reopen to traffic this week. "
                          "But the transport ministry said reports that the Riverside bridge would reopen this week "
                          "were false.\n",
    "mill-april.txt": "date 2025-04-01\nGreyfield mill jobs at risk.\n"
                      "Governor Alma Ruiz said the Greyfield mill economy is not sustainable without new orders.\n",
    "mill-august.txt": "date 2025-08-10\nGreyfield mill hires again.\n"
                       "Governor Alma Ruiz said the Greyfield mill economy is in a good place now, after the new orders.\n",
    "ferry-may.txt": "date 2025-05-02\nEastbay ferry operator visits.\n"
                     "The Eastbay mayor said the ferry operator's visit marks the first round of contract negotiations.\n",
    "ferry-june.txt": "date 2025-06-11\nEastbay ferry contract.\n"
                      "The ferry operator's visit would become a formal negotiation round only if the council "
                      "approves the budget. "
                      "A council spokesperson said the ferry operator's visit was not part of a formal negotiation "
                      "session.\n",
    "mill-june.txt": "date 2025-06-15\nGreyfield mill visit.\n"
                     "The Greyfield mill economy is not sustainable, a union leader told Governor Alma Ruiz.\n",
    "ceasefire-march.txt": "date 2025-03-03\nLakeside ceasefire holds.\n"
                           "The Lakeside ceasefire between the two militias is set to expire on April 30. "
                           "The April 2 deadline for the Lakeside harbour fees was postponed.\n",
    "ceasefire-april.txt": "date 2025-04-10\nLakeside talks stall.\n"
                           "Mediators expect a delay of the late-April deadline for the militias to disarm, "
                           "the envoy told reporters.\n",
    "permit-may.txt": "date 2025-05-20\nRiverside permits.\n"
                      "The Riverside fishing permit scheme is set to lapse next month.\n",
    "permit-june.txt": "date 2025-06-02\nRiverside permit talks.\n"
                       "Officials announced an extension of the June deadline for anglers, the council said.\n",
    "steel-march.txt": "date 2025-03-10\nCanada steel duty.\n"
                       "Canada's import duty on Mexican steel is 25 per cent, the finance ministry said on Monday.\n",
    "steel-may.txt": "date 2025-05-18\nCanada and Mexico reach a steel deal.\n"
                     "Under the deal, Canada agreed to lower the import duty on Mexican steel in exchange for export "
                     "quotas.\n",
    "lumber-june.txt": "date 2025-06-01\nLumber duties rise.\n"
                       "The 10 per cent duty on imported lumber rises for most countries next month, although not "
                       "Mexico.\n",
    "lumber-april.txt": "date 2025-04-22\nMexican lumber.\n"
                        "Lumber from Mexico pays a 6 per cent duty under the 2023 forestry pact.\n",
    "cheese-february.txt": "date 2025-02-03\nOttawa hits back.\n"
                           "Ottawa slapped tariffs on France of 40 per cent last week, after the dairy dispute.\n",
    "cheese-march.txt": "date 2025-03-12\nDairy dispute.\n"
                        "Canada's tariff on French goods is 30 per cent, the trade ministry said.\n",
    "cheese-june.txt": "date 2025-06-09\nDairy pact signed.\n"
                       "Canada agreed to lower tariffs on French goods under the new dairy pact.\n",
    "quillon-wrong.txt": "date 2025-03-30\nQuillon Labs.\nQuillon Labs was founded in December 2005.\n",
    "quillon-year.txt": "date 2025-02-11\nQuillon Labs profile.\n"
                        "According to its website, the start-up Quillon Labs was founded in 2015 by three engineers.\n",
    "quillon-month.txt": "date 2025-01-20\nRobotics in the harbour district.\n"
                         "Quillon Labs, a robotics start-up in the old harbour district, was founded in December 2015 "
                         "by three engineers who had left the university's marine laboratory.\n",
    "bakery.txt": "date 2025-05-05\nA bakery opens in Eastbay.\n"
                  "Rosa Bianchi opened a sourdough bakery in Eastbay on Saturday, selling rye loaves and croissants. "
                  "The bakery employs six people.\n",
}


@pytest.fixture(scope="module")
def rag(tmp_path_factory):
    return indexed_rag(tmp_path_factory, ARTICLES, "conflict")


def _checked(rag, answer):
    """Every citation's quote sits verbatim at its offsets in its article."""
    for c in answer.citations:
        assert quote_ok(c, rag.article(c.doc_id)["text"])
    return answer


@pytest.mark.slow
def test_different_names_are_both_cited_newest_first(rag):
    a = _checked(rag, rag.ask("Who is the harbour master of the Northwind port?"))
    head = a.text.splitlines()[0]
    assert head.startswith("Reports differ:"), a.text
    assert head.index("Daniel Reyes") < head.index("Maria Lopez"), head
    assert [c.doc_id for c in a.citations] == ["port-september.txt", "port-march.txt"]
    assert "(reported 2025-09-14)" in head and "(reported 2025-03-02)" in head
    assert a.diagnostics["conflict"] == 2
    assert sorted(a.diagnostics["typed_sides"]) == ["Daniel Reyes", "Maria Lopez"]  # two people, read closely


@pytest.mark.slow
def test_two_winners_worded_apart_are_two_reports(rag):
    """Each report names its winner seven words before "won": what a value is a value of is read up to 8
    words from it (4 missed it, and half of RGB's conflicting reports with it)."""
    answer = rag.ask("Who won the regional chess final?")
    head = answer.text.splitlines()[0]
    assert head.startswith("Reports differ: Tomas Ek [1]") and "Magda Orr [2]" in head, head
    # two names, however far from the question's words, are what a verified LLM answer is checked against
    # (llm.py); a date or an amount that far would not be (`close_sides`)
    assert answer.diagnostics["typed_sides"] == ["Tomas Ek", "Magda Orr"]


@pytest.mark.slow
def test_different_numbers_are_both_cited(rag):
    a = _checked(rag, rag.ask("How much cargo does the Northwind port expect to handle this year?"))
    head = a.text.splitlines()[0]
    assert head.startswith("Reports differ:"), a.text
    assert re.search(r"6 million tonnes \[1\].*4 million tonnes \[2\]", head), head


@pytest.mark.slow
def test_opposite_stances_on_a_yes_no_question(rag):
    """Each article's report is cited, newest first: the denial and both reports of the strike."""
    a = _checked(rag, rag.ask("Is the Northwind pilots' union on strike?"))
    assert a.text.startswith("Reports differ:"), a.text
    docs = [c.doc_id for c in a.citations]
    assert docs == ["port-september.txt", "pilots-july.txt", "pilots-june.txt"], a.text
    assert [bool(denied(c.quote, "Is the Northwind pilots' union on strike?")) for c in a.citations] == [
        True, False, False]


@pytest.mark.slow
def test_two_speakers_in_one_article_who_disagree(rag):
    a = _checked(rag, rag.ask("Will the Riverside bridge reopen this week?"))
    assert a.text.startswith("Reports differ:"), a.text
    assert [c.doc_id for c in a.citations] == ["bridge-october.txt", "bridge-october.txt"]
    assert sorted(bool(denied(c.quote, "Will the Riverside bridge reopen this week?")) for c in a.citations) == [False, True]


@pytest.mark.slow
def test_how_someone_describes_a_thing_that_changed(rag):
    """Asked with one passage, the other side comes from the passages retrieved beyond it; what a union
    leader told the governor is not how the governor describes it."""
    question = "How does Governor Ruiz describe the Greyfield mill economy?"
    for k in (1, 5):
        a = _checked(rag, rag.ask(question, k=k))
        assert a.text.startswith("Reports differ:"), a.text
        assert [c.doc_id for c in a.citations] == ["mill-august.txt", "mill-april.txt"], a.text
        assert "good place" in a.citations[0].quote and "not sustainable" in a.citations[1].quote


@pytest.mark.slow
def test_a_denial_across_filler_words_against_an_affirmation(rag):
    """"not part of a formal negotiation session" denies the negotiations too, so "the first round of contract
    negotiations" is its other side; the conditional sentence ("only if ...") takes no stance at all."""
    question = "Is the ferry operator's visit a formal negotiation round?"
    assert denied("A council spokesperson said the visit was not part of a formal negotiation session.",
                  question) == {"forma", "negot"}
    a = _checked(rag, rag.ask(question))
    assert a.text.startswith("Reports differ:"), a.text
    assert [c.doc_id for c in a.citations] == ["ferry-june.txt", "ferry-may.txt"], a.text
    assert "not part of a formal" in a.citations[0].quote and "first round" in a.citations[1].quote
    assert not any(" if " in c.quote for c in a.citations), a.text


@pytest.mark.slow
@pytest.mark.parametrize("question", ["Will the Lakeside ceasefire end on April 30?",
                                      "When does the Lakeside ceasefire expire?"])
def test_a_later_report_that_the_date_will_move(rag, question):
    """The later report shares few of the question's words; its month next to "delay" makes it the other
    side. A move of another day of that month (the April 2 fees deadline) is another fact."""
    a = _checked(rag, rag.ask(question))
    assert a.text.startswith("Reports differ:"), a.text
    assert [c.doc_id for c in a.citations] == ["ceasefire-april.txt", "ceasefire-march.txt"], a.text
    assert "delay of the late-April deadline" in a.citations[0].quote and "April 30" in a.citations[1].quote
    assert "(reported 2025-04-10)" in a.text and "(reported 2025-03-03)" in a.text
    assert not any("postponed" in c.quote for c in a.citations), a.text


@pytest.mark.slow
def test_a_move_of_the_month_a_relative_date_means(rag):
    """"next month" in an article of May 2025 is June, which the later report extends."""
    a = _checked(rag, rag.ask("When does the Riverside fishing permit scheme lapse?"))
    assert a.text.startswith("Reports differ: extension of the June deadline [1] (reported 2025-06-02); "
                             "next month (June 2025) [2] (reported 2025-05-20)"), a.text
    assert [c.doc_id for c in a.citations] == ["permit-june.txt", "permit-may.txt"]


def _moves(sentence: str, months: set[str]) -> str | None:
    return _moved(sentence, [m for m in month_mentions(sentence) if m[0] in months])


def test_the_words_that_move_a_date():
    assert _moves("a likely postponement of a mid-August deadline for levies", {"aug"}) == (
        "postponement of a mid-August deadline")
    assert _moves("The April 30 deadline was extended by a month.", {"apr"}) == "April 30 deadline was extended"
    assert _moves("The vote was postponed, officials said on Aug 3.", {"aug"}) is None  # dates the report
    assert _moves("The August 12 deadline was extended.", {"apr"}) is None


@pytest.mark.slow
def test_a_later_report_that_the_amount_changed(rag):
    """The later deal gives no new figure, so it is no value conflict; it lowers the very duty the answer's
    figure is a figure of, so it is the other side."""
    a = _checked(rag, rag.ask("What is Canada’s duty rate on Mexican steel?"))
    assert a.text.startswith("Reports differ: lower the import duty on Mexican steel [1] (reported 2025-05-18); "
                             "25 per cent [2] (reported 2025-03-10)"), a.text
    assert [c.doc_id for c in a.citations] == ["steel-may.txt", "steel-march.txt"]


def test_the_words_that_change_an_amount():
    slot = _terms("duty on Mexican steel")
    assert _changed("Canada agreed to lower the import duty on Mexican steel in exchange", slot) == (
        "lower the import duty on Mexican steel")
    assert _changed("Canada cut fees, and its duty on Mexican steel stays", slot) is None  # another clause
    assert _changed("Canada cut the duty on Mexican steel to 15.5 per cent.", slot) == (
        "cut the duty on Mexican steel to 15.5 per cent")
    assert _changed("Canada raised rail fares for steel workers", slot) is None  # one of the words


@pytest.mark.slow
def test_a_country_however_named_and_a_later_change_of_its_rate(rag):
    """"Ottawa ... tariffs on France" and "Canada's tariff on French goods" give two rates for one thing, and the
    later pact that lowers it is the third side, newest first."""
    a = _checked(rag, rag.ask("What is Canada's tariff rate on French goods?"))
    assert a.text.startswith("Reports differ: lower tariffs on French goods [1] (reported 2025-06-09); "
                             "30 per cent [2] (reported 2025-03-12); 40 per cent [3] (reported 2025-02-03)"), a.text
    assert [c.doc_id for c in a.citations] == ["cheese-june.txt", "cheese-march.txt", "cheese-february.txt"]


def test_a_country_is_one_term_however_named():
    assert _terms("tariffs on Chinese goods") == _terms("tariffs on China") == {"tarif", "@china"}
    assert _terms("Washington and the U.S.") == _terms("US") == {"@united states"}
    assert _terms("French wine") == {"@france", "wine"}  # only what a country trades is the country itself


@pytest.mark.slow
def test_a_value_for_everyone_but_the_country_asked_about(rag):
    """"rises for most countries, although not Mexico" gives no duty for Mexican lumber."""
    question = "What is the duty rate on Mexican lumber?"
    assert excludes("The 10 per cent duty rises for most countries, although not Mexico.", question)
    assert not excludes("The 10 per cent duty rises, but not before July.", question)
    assert excludes("The 10 per cent blanket rate is expected to increase for dozens of economies - although not "
                    "China - come Aug 1.", "What is the US tariff rate on Chinese goods?")  # a demonym
    a = _checked(rag, rag.ask(question))
    assert a.text.startswith("6 per cent [1]"), a.text


def test_a_country_by_its_name_demonym_or_capital():
    text = "Trump slapped tariffs on China of 145 per cent and Beijing responded; Chinese-made and American goods."
    assert [(c, text[a:b]) for c, a, b in mentions(text)] == [
        ("china", "China"), ("china", "Beijing"), ("china", "Chinese"), ("united states", "American")]
    assert mentions("no capitalised word here") == []


def test_a_possessive_rate_question_asks_for_a_number():
    assert question_kind("What is China's tariff rate on US goods?") == "number"


@pytest.mark.slow
def test_a_question_one_article_answers_is_not_a_conflict(rag):
    a = _checked(rag, rag.ask("Who opened a sourdough bakery in Eastbay?"))
    assert not a.text.startswith("Reports differ"), a.text
    assert a.text.startswith("Rosa Bianchi [1]"), a.text
    assert "conflict" not in a.diagnostics


@pytest.mark.slow
def test_relative_date_in_the_answer_is_resolved(rag):
    a = _checked(rag, rag.ask("In which month will dredging start at the Northwind port?"))
    assert a.text.startswith("next month (October 2025) [1]"), a.text
    assert a.citations[0].dates == [("next month", "October 2025")]
    assert "(reported 2025-09-14; next month = October 2025)" in a.text.splitlines()[-1], a.text


@pytest.mark.slow
def test_seed_articles_naming_two_trade_representatives(seeded_rag):
    a = _checked(seeded_rag, seeded_rag.ask("Who is the US Trade Representative?"))
    head = a.text.splitlines()[0]
    assert head.startswith("Reports differ:") and "Jamieson Greer" in head and "Jacquelyn Gilliam" in head, a.text
    assert len({c.doc_id for c in a.citations}) == 2


@pytest.mark.slow
def test_seed_reports_of_the_us_tariff_rate_on_chinese_goods(seeded_rag):
    """April's 145% "on China", the threatened 200% "on Chinese goods", and December's deal to lower them.
    The 145% chunk ranks beyond the passages read for other questions: a number question reads deeper."""
    question = "What is the US tariff rate on Chinese goods?"
    s = seeded_rag.settings
    reach = s.retrieval.top_k + s.retrieval.other_passages
    rank = next(i for i, h in enumerate(seeded_rag.retrieve(question, k=40), 1) if "145 per cent" in h.text)
    assert reach < rank <= reach + s.retrieval.number_depth
    a = _checked(seeded_rag, seeded_rag.ask(question))
    head = a.text.splitlines()[0]
    assert head.startswith("Reports differ:"), a.text
    assert {"145 per cent", "200%", "lower tariffs on Chinese goods"} <= set(
        re.findall(r"(?:: |; )(.+?) \[\d\]", head)), head
    assert len({c.doc_id for c in a.citations}) == 3


@pytest.mark.slow
def test_a_side_gives_the_most_precise_report_of_its_date(rag):
    """"2015" and "December 2015" are one date; the side is the report that tells it more precisely."""
    a = _checked(rag, rag.ask("When was Quillon Labs founded?", answerer="local"))
    head = a.text.splitlines()[0]
    assert head.startswith("Reports differ:") and "December 2005" in head, head
    assert "December 2015 [" in head, head


# two small corpora in one index: a vice premier's reports, a regatta's
FEW = {
    "talks-july.txt": "date 2025-07-20\nOslo talks set.\n"
                      "Vice Premier Lin Wei will lead China's delegation at the Oslo trade talks next week, the "
                      "commerce ministry said.\n",
    "talks-host.txt": "date 2025-07-23\nOslo hosts the talks.\n"
                      "The Norwegian vice premier will host China's delegation at the Oslo trade talks.\n",
    "regatta.txt": "date 2021-07-30\nRegatta day.\nThe 2021 Harbor Regatta was held on July 29, 2021, off Brooklyn.\n",
    "regatta-history.txt": "date 2021-06-01\nRegatta history.\nThe 2019 Harbor Regatta drew 300 boats; the 2021 "
                           "Harbor Regatta is expected to draw fewer.\n",
}


@pytest.fixture(scope="module")
def few_rag(tmp_path_factory):
    return indexed_rag(tmp_path_factory, FEW, "few")


@pytest.mark.slow
def test_a_nationality_is_no_other_report_of_a_person(few_rag):
    """"Who ...?" over a sentence naming the person and another naming only a nationality ("Norwegian",
    spaCy's NORP): one answer, not "Reports differ"; a person is always another report."""
    a = few_rag.ask("Who is China's vice premier?")
    assert a.answer.startswith("Lin Wei [1]") and "differ" not in a.answer, a.text


@pytest.mark.slow
def test_a_date_of_another_year_than_the_question_names_is_no_other_report(few_rag):
    """"2019" of "the 2019 Harbor Regatta" is another event's date, not another report of the 2021 one's (RGB
    dev: "What is the date of the 2021 NBA Draft?" had been answered "Reports differ: July 29, 2021; 2019")."""
    a = _checked(few_rag, few_rag.ask("What is the date of the Harbor Regatta in 2021?", answerer="local"))
    assert a.answer.startswith("July 29, 2021 ["), a.answer
