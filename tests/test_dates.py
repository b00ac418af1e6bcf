"""Relative dates resolved against the article's published date (rag/dates.py)."""
from __future__ import annotations

from datetime import date

import pytest

from rag.dates import annotate, another_year, asked_years, fuller_date, relative_dates, resolve, span

WED = "2025-07-23"  # a Wednesday


@pytest.mark.parametrize("phrase,context,expected", [
    ("next month", "set to expire ", "August 2025"),
    ("this month", "", "July 2025"),
    ("last month", "", "June 2025"),
    ("next week", "at ", "week of July 28, 2025"),
    ("last week", "", "week of July 14, 2025"),
    ("this week", "", "week of July 21, 2025"),
    ("yesterday", "", "July 22, 2025"),
    ("tomorrow", "", "July 24, 2025"),
    ("this year", "", "2025"),
    ("next year", "", "2026"),
    ("Tuesday", "Bessent said on ", "July 22, 2025"),
    ("Wednesday", "China said on ", "July 23, 2025"),
    ("Monday", "met on ", "July 21, 2025"),
    ("Friday", "the delegations will meet on ", "July 25, 2025"),
    ("next Monday", "", "July 28, 2025"),
    ("last Friday", "", "July 18, 2025"),
])
def test_resolves_against_published_date(phrase, context, expected):
    assert resolve(phrase, WED, context) == expected


def test_year_and_month_boundaries():
    assert resolve("next month", "2025-12-05") == "January 2026"
    assert resolve("last month", "2026-01-10") == "December 2025"
    assert resolve("next week", "2025-12-31") == "week of January 5, 2026"
    assert resolve("yesterday", "2025-03-01") == "February 28, 2025"


def test_undated_or_absolute_phrases_are_left_alone():
    assert resolve("next month", None) is None
    assert resolve("next month", "not a date") is None
    assert resolve("August 12", WED) is None
    assert annotate("August 12", WED) == "August 12"
    assert annotate("next month", None) == "next month"


def test_every_relative_date_in_a_quote_is_resolved():
    quote = "Scott Bessent said on Tuesday he would meet his Chinese counterparts in Stockholm next week."
    assert relative_dates(quote, WED) == [("Tuesday", "July 22, 2025"), ("next week", "week of July 28, 2025")]
    assert relative_dates(quote, None) == []
    assert relative_dates("The truce expires on August 12.", WED) == []


def test_annotate_shows_the_resolution():
    assert annotate("next month", WED, "set to expire ") == "next month (August 2025)"
    assert annotate("this year", "2025-08-26") == "this year (2025)"


def test_span_compares_dates_at_their_granularity():
    assert span("next month", WED) == (date(2025, 8, 1), date(2025, 8, 31))
    assert span("August 12", WED) == (date(2025, 8, 12), date(2025, 8, 12))
    assert span("next week", WED) == (date(2025, 7, 28), date(2025, 8, 3))
    assert span("2024", None) == (date(2024, 1, 1), date(2024, 12, 31))
    assert span("August 12", None) is None
    assert span("August 12", None, year=2000) == (date(2000, 8, 12), date(2000, 8, 12))
    assert span("soon", WED) is None


@pytest.mark.parametrize("question,years", [
    ("Who won the women's singles Wimbledon in 2021?", {"2021"}),
    ("What was Tesla's revenue in Q1 2021?", {"2021"}),
    ("Who won the 2021 Tour de France?", {"2021"}),
    ("Who will be playing the role of Diana Prince in Wonder Woman 1984?", set()),  # a year ending a title
    ("Who leads Orbis?", set()),
])
def test_the_years_a_question_asks_about(question, years):
    assert asked_years(question) == years


def test_an_article_naming_only_other_years_is_about_another_year():
    years = frozenset({"2021"})
    assert another_year(years, "Wimbledon. Halep won the 2019 title.", None)
    assert not another_year(years, "Wimbledon. Barty won the title.", "2021-07-10")  # its date names the year
    assert not another_year(years, "Wimbledon. Barty won the title.", None)  # no year: may be any
    assert not another_year(frozenset(), "Wimbledon. Halep won the 2019 title.", None)


@pytest.mark.parametrize("phrase,expected", [
    ("the past decade", None),  # "dec" begins "decade" but names no month
    ("the market rally in 2020", (date(2020, 1, 1), date(2020, 12, 31))),  # nor "mar" of "market"
    ("Aug. 12", (date(2025, 8, 12), date(2025, 8, 12))),
    ("Sept. 3", (date(2025, 9, 3), date(2025, 9, 3))),
    ("12 December", (date(2025, 12, 12), date(2025, 12, 12))),
])
def test_a_span_reads_months_by_their_names_only(phrase, expected):
    assert span(phrase, WED) == expected


@pytest.mark.parametrize("phrase, other, fuller", [
    ("2015", "December 2015", True), ("2020", "May 29, 2020", True), ("Nov 15", "November 15, 2020", True),
    ("19th October", "October 19, 2021", True), ("December 2015", "December 1, 2015", True),
    ("2015", "2015", False), ("2015", "December 2016", False), ("Nov 15", "November 2020", False),
    ("Nov 15", "November 16, 2020", False), ("December 2015", "December 2015", False), ("Monday", "May 3, 2021", False)])
def test_a_fuller_report_of_the_same_date(phrase, other, fuller):
    assert fuller_date(phrase, other) is fuller
