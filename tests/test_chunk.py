"""rag/chunk.py with a word tokenizer (one token a word) instead of the model's: chunk sizes and overlap in
tokens, whole sentences kept together, every chunk's text equal to the article's text at its offsets (also for
repeated passages and odd whitespace), and chunk ids fixed by article, content and offsets."""
from __future__ import annotations

from rag.chunk import Chunker, chunk_id, locate
from rag.load import make_document

WORDS = " ".join(f"w{i}" for i in range(60))
SENTENCES = " ".join(f"Sentence {i} is here with exactly ten words in it." for i in range(6))


def chunker(tokens: int, overlap: int) -> Chunker:
    return Chunker(str.split, tokens, overlap)


def spans(chunks) -> list[tuple[int, int]]:
    return [(c.start, c.end) for c in chunks]


def test_words_are_cut_at_the_token_budget_with_the_overlap_repeated():
    doc = make_document("w.txt", WORDS, "mem")
    chunks = chunker(20, 5).chunks(doc)
    assert [c.text.split() for c in chunks] == [[f"w{i}" for i in range(a, b)] for a, b in
                                                 [(0, 20), (15, 35), (30, 50), (45, 60)]]
    assert all(doc.text[c.start:c.end] == c.text for c in chunks)
    assert spans(chunks) == [(0, 69), (50, 129), (110, 189), (170, 229)]


def test_no_overlap_tiles_the_text_and_the_overlap_is_at_most_half_a_chunk():
    doc = make_document("w.txt", WORDS, "mem")
    assert spans(chunker(20, 0).chunks(doc)) == [(0, 69), (70, 149), (150, 229)]
    capped = chunker(20, 30).chunks(doc)  # 30 asked, 10 given
    assert [c.text.split() for c in capped] == [[f"w{i}" for i in range(a, a + 20)] for a in (0, 10, 20, 30, 40)]


def test_sentences_stay_whole_and_overlap_by_whole_sentences():
    doc = make_document("s.txt", SENTENCES, "mem")
    chunks = chunker(25, 12).chunks(doc)
    assert [c.text for c in chunks] == [
        f"Sentence {i} is here with exactly ten words in it. Sentence {i + 1} is here with exactly ten words in it."
        for i in range(5)]
    assert spans(chunks) == [(49 * i, 49 * i + 97) for i in range(5)]
    assert all(doc.text[c.start:c.end] == c.text for c in chunks)


def test_repeated_passages_get_their_own_offsets_in_order():
    text = "Para one has   odd    spacing.\n\nPara two\n  continues here. " * 3
    doc = make_document("r.txt", text, "mem")
    chunks = chunker(8, 2).chunks(doc)
    assert spans(chunks) == [(0, 30), (32, 58), (59, 89), (91, 117), (118, 148), (150, 176)]
    assert [c.text for c in chunks] == ["Para one has   odd    spacing.", "Para two\n  continues here."] * 3
    assert len({c.chunk_id for c in chunks}) == 6


def test_chunk_ids_are_stable_and_change_with_the_content():
    doc = make_document("d.txt", SENTENCES, "mem")
    first = chunker(25, 12).chunks(doc)
    assert [c.chunk_id for c in first] == [c.chunk_id for c in chunker(25, 12).chunks(doc)]
    assert {c.doc_id for c in first} == {"d.txt"}
    assert first[0].chunk_id == chunk_id(doc, (0, 97)) and first[0].chunk_id.endswith(f"-{doc.content_hash[:12]}-0-97")
    edited = make_document("d.txt", SENTENCES.replace("Sentence 5", "Sentence 9"), "mem")
    assert chunk_id(edited, (0, 97)) != chunk_id(doc, (0, 97))
    assert chunk_id(make_document("e.txt", SENTENCES, "mem"), (0, 97)) != chunk_id(doc, (0, 97))


def test_a_blank_article_has_no_chunks():
    assert chunker(20, 5).chunks(make_document("b.txt", " \n\n ", "mem")) == []


def test_locate_finds_a_trimmed_or_rejoined_piece_from_the_cursor():
    assert locate("abc abc", "abc", 1) == (4, 7)
    assert locate("abc abc", " abc ", 0) == (0, 3)  # the piece's own whitespace is trimmed
    assert locate("abc xyz", "abc", 3) == (0, 3)  # not after the cursor: anywhere
    assert locate("a  b\n c d", "b c", 0) == (3, 7)  # whitespace the splitter joined
    assert locate("hello world", "nothere", 0) is None and locate("x", "  ", 0) is None
