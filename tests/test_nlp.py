"""rag/nlp.py with the packaged spaCy model: the value-bearing entities of a text (`values`), one spelling per
amount, names lower-cased, a capitalised common word not taken for a name; entity spans (`entities`) at exact
offsets; `normalise`; where a name the NER ran into a headline's verb ends (`name_end`)."""
from __future__ import annotations

import rag.nlp
from rag.nlp import (NAME_LABELS, NUMBER_LABELS, VALUE_LABELS, entities, label_at, model_path, name_end, normalise,
                     parse, read, values)


def test_the_model_is_loaded_from_its_installed_package_folder():
    assert (model_path() / "config.cfg").is_file()


def test_values_are_names_dates_and_amounts_in_one_spelling():
    assert values("The plant, in Lakeport, cost $310 million, Mayor Helen Okafor said on Tuesday.") == {
        "lakeport", "310000000 usd", "helen okafor", "tuesday"}
    assert values("It cost 310 million dollars.") == {"310000000 usd"}
    assert values("Rates rose to 40 per cent for about 40,000 people.") == {"40 %", "40000"}


def test_values_of_the_labels_asked_for():
    text = "Helen Okafor met Rafael Duarte in Paris on June 20."
    assert values(text, NAME_LABELS) == {"helen okafor", "rafael duarte", "paris"}
    assert values(text, NUMBER_LABELS) == {"june 20"}


def test_a_capitalised_common_word_is_no_name():
    assert values("Households will see a modest increase.") == set()


def test_entities_are_exact_spans_in_text_order_of_the_labels_asked_for():
    text = "Scott Bessent met He Lifeng in Stockholm on July 28, 2025."
    got = entities(text, ("PERSON", "GPE", "DATE"))
    assert [(text[s:e], label) for s, e, label in got] == [("Scott Bessent", "PERSON"), ("He Lifeng", "PERSON"),
                                                           ("Stockholm", "GPE"), ("July 28, 2025", "DATE")]
    assert [text[s:e] for s, e, _ in entities(text, ("DATE",))] == ["July 28, 2025"]
    assert entities(text, ("MONEY",)) == []


def test_sentences_read_in_a_batch_give_what_each_read_alone_gives():
    """`read` runs the NER over a batch and keeps the entities; those read back are a sentence's read alone, and
    a parse's are the same, so neither a read-ahead nor an earlier parse changes an answer."""
    texts = ["Maya Lindqvist of Nordhavn Shipping signed the deal in Oslo on Friday for $40 million.",
             "The Riverlight festival returns in May; tickets cost 35 dollars.",
             "Turnout was 61 percent, the highest since 1998, officials in Elmstad said."]
    alone = [entities(t, tuple(VALUE_LABELS)) for t in texts]
    assert all(alone)
    batch = [t + " " for t in texts]  # other strings, so nothing comes from what was kept above
    read(batch)
    assert all(rag.nlp._SPANS.get(t) is not None for t in batch)  # kept: read again at a lookup's cost
    assert [entities(t, tuple(VALUE_LABELS)) for t in batch] == alone
    parsed = [t + "  " for t in texts]
    assert [[(e.start_char, e.end_char, e.label_) for e in parse(t).ents] for t in parsed] == \
        [[(s, e, label) for s, e, label in spans] for spans in alone]
    assert [entities(t, tuple(VALUE_LABELS)) for t in parsed] == alone


def test_normalise_lowercases_squashes_spaces_and_drops_a_leading_the():
    assert normalise("The  Marren   Reservoir") == "marren reservoir"
    assert normalise("The") == "the" and normalise("the end") == "end"


def test_label_at_names_the_type_of_the_words_there():
    """What the extractive answer's typed conflict check reads: two reports' values are one type or not."""
    text = "Tesla's chief executive Elon Musk said Panasonic would supply cells from July 4."
    at = lambda words: label_at(text, text.index(words), text.index(words) + len(words))  # noqa: E731
    assert (at("Elon Musk"), at("Panasonic"), at("July 4")) == ("PERSON", "ORG", "DATE")
    assert at("supply") is None


def _named(text: str, label: str) -> list[str]:
    return [text[s:name_end(text, s, e)] for s, e, found in entities(text, (label,))]


def test_a_name_ends_before_the_headline_verb_or_bracket_the_ner_ran_it_into():
    assert entities("Simona Halep Wins Wimbledon Title.", ("PERSON",))[0] == (0, 17, "PERSON")  # the NER's span
    assert _named("Simona Halep Wins Wimbledon Title.", "PERSON")[0] == "Simona Halep"
    assert _named("Hideki Matsuyama Wins The Masters!", "PERSON") == ["Hideki Matsuyama"]
    assert _named("Ashleigh Barty Wins Wimbledon Women's Title.", "ORG") == ["Ashleigh Barty"]
    assert _named("Tadej Pogačar (UAE Team Emirates) won the race.", "ORG") == ["Tadej Pogačar"]


def test_a_whole_name_is_left_whole():
    assert _named("Treasury Secretary Scott Bessent met Vice Premier He Lifeng.", "PERSON") == [
        "Scott Bessent", "He Lifeng"]
    assert _named("Martin Luther King Jr. spoke in Memphis.", "PERSON") == ["Martin Luther King Jr."]
    assert _named("Bed Bath & Beyond is closing stores.", "ORG") == ["Bed Bath & Beyond"]


def test_a_count_before_a_currency_name_is_an_amount_of_money():
    """The small NER reads "42 million" of "42 million euros" as a bare count (CARDINAL); Babel's currency
    names make it money. A weight in pounds stays a quantity."""
    text = "The terminal cost 42 million euros, the ferry 500 Swiss francs, and the python weighed 215 pounds."
    assert [text[s:e] for s, e, _ in entities(text, ("MONEY",))] == ["42 million euros", "500 Swiss francs"]
    assert label_at(text, text.index("215"), text.index("215") + 3) != "MONEY"
    # the same reading for every reader of the entities: a report's values compare the amount with its currency
    assert {"42000000 eur", "500 swiss francs"} <= values(text)
    assert "42 million euros" in [e.text for e in parse(text).ents if e.label_ == "MONEY"]


def test_a_currency_named_with_a_nationality_is_money():
    """"Danish" of "96.50 Danish kroner" is a NORP to the small NER, beside a bare count: the amount is money,
    and the nationality inside it no entity of its own."""
    text = "The price rose to 96.50 Danish kroner in Copenhagen, 4 percent up."
    assert [text[s:e] for s, e, _ in entities(text, ("MONEY", "NORP", "CARDINAL"))] == ["96.50 Danish kroner"]
    assert [text[s:e] for s, e, _ in entities(text, ("PERCENT",))] == ["4 percent"]
