"""Countries by any of their names: "Chinese goods", "tariffs on China" and "Beijing responded" all name China.

News names a country by its demonym or its capital as often as by its name, which word overlap misses.
The names come from the countryinfo package (name, demonym, capital, native spellings); a name two
countries share ("Chinese": China, Hong Kong, Macau) names the most populous, and the ISO codes
("CAN", "AND") are left out.
"""
from __future__ import annotations

import re
from functools import cache


# the abbreviations news uses for a few countries; the ISO codes at large are words too ("CAN", "AND"), and
# "America" is left out for "Latin America" and "Bank of America"
_ABBREVIATIONS = {"US": "united states", "U.S.": "united states", "U.S": "united states", "USA": "united states",
                  "UK": "united kingdom", "U.K.": "united kingdom", "UAE": "united arab emirates"}


@cache
def _names() -> dict[str, str]:
    from countryinfo import CountryInfo

    owners: dict[str, str] = {}
    everyone = CountryInfo.all()
    for key, c in sorted(everyone.items(), key=lambda kc: kc[1].get("population") or 0):
        capitals = c.get("capital") or []
        capitals = [capitals] if isinstance(capitals, str) else capitals
        spellings = [s for s in c.get("altSpellings") or [] if not s.isupper()]
        for name in (c.get("name"), c.get("demonym"), *(x.removesuffix(" D.C.") for x in capitals), *spellings):
            if name and name.isascii() and len(name) > 2 and name[0].isupper():
                owners[name] = key
    return owners | _ABBREVIATIONS


@cache
def _by_first_word() -> dict[str, list[tuple[str, str]]]:
    """Names by their first word, longest first: a scan of capitalised words then needs no giant regex."""
    out: dict[str, list[tuple[str, str]]] = {}
    for name, key in sorted(_names().items(), key=lambda nk: -len(nk[0])):
        out.setdefault(name.split()[0], []).append((name, key))
    return out


_CAPITALISED = re.compile(r"(?<![\w’'])[A-Z][\w.]*")


def mentions(text: str) -> list[tuple[str, int, int]]:
    """Each country the text names, as (country, start, end), by a capitalised name, demonym or capital."""
    out = []
    for m in _CAPITALISED.finditer(text):  # the names are loaded only once a text has a capitalised word
        for name, key in _by_first_word().get(m.group().rstrip("."), ()):
            end = m.start() + len(name)
            if text.startswith(name, m.start()) and not text[end:end + 1].isalnum():
                out.append((key, m.start(), end))
                break
    return out


def countries(text: str) -> set[str]:
    return {c for c, _, _ in mentions(text)}


def country_name(country: str) -> str:
    """A country as `mentions` keys it ("saudi arabia") spelled as its name ("Saudi Arabia")."""
    from countryinfo import CountryInfo

    return CountryInfo.all().get(country, {}).get("name") or country.title()
