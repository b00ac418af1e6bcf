"""Case restored to a question typed all in lower case, from the passages retrieved for it.

"what is the us tariff rate on chinese goods" reads "us" as a pronoun, and neither "chinese" nor "august" is
a name or a month to the answerer's NER and date rules. Retrieval does not care (BM25 and the MiniLM
embedding are both uncased), so the question is recased after it, before answering: each word takes the form
it most often has in the retrieved passages, away from a sentence's start, where every word is capitalised
(the corpus-statistics truecasing of Lita et al., "tRuEcasIng", 2003, with the retrieved passages as the
corpus). A question with any capital letter is left as typed: its case says something.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_WORD = re.compile(r"\w+")
_SENTENCE_START = re.compile(r"(?:^|[.!?:\n][\"'“‘(\s]*)$")


def truecased(question: str, texts: Iterable[str]) -> str:
    """`question` with each word as `texts` most often write it mid-sentence ("us" -> "US", "august" ->
    "August"; a word they never write stays as typed) and its first letter capitalised; unchanged when it
    has a capital letter."""
    if any(c.isupper() for c in question):
        return question
    wanted = set(_WORD.findall(question))
    forms: dict[str, Counter] = {}
    for text in texts:
        for m in _WORD.finditer(text):
            word = m.group()
            if word.lower() in wanted and not _SENTENCE_START.search(text[max(0, m.start() - 4):m.start()]):
                forms.setdefault(word.lower(), Counter())[word] += 1
    cased = _WORD.sub(lambda m: forms[m.group()].most_common(1)[0][0] if m.group() in forms else m.group(), question)
    return cased[:1].upper() + cased[1:]
