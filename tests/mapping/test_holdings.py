"""The CALIS centre's holdings table: loading it, refusing a bad one, and routing by it."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isoill.mapping.holdings import Holdings, HoldingsError, isbn_key, issn_key, title_key
from isoill.mapping.reader_form import (
    DocumentType,
    ReaderForm,
    ServiceType,
    isbn10_to_13,
    isbn13_to_10,
)

#: ASCII letters, digits and '&' -> their full-width forms.
FULLWIDTH = {ord(c): ord(c) + 0xFEE0 for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ&0123456789"}

TABLE = """issn,isbn,title,library
0264-1615,,,CALIS:THU;CALIS:PKU
,,Interlending & Document Supply,CALIS:FDU
02641615,,,calis:thu
,7-301-04815-7,,CALIS:PKU
,9787301048153,,CALIS:NJU
,,计算机学报: 英文版,CALIS:ZJU
"""

SEED = ReaderForm(
    service=ServiceType.COPY,
    document_type=DocumentType.JOURNAL_ARTICLE,
    title="Interlending & Document Supply",
    article_title="Licence to Deny? Publisher restrictions on document delivery",
    issn="0264-1615",
    name="passing",
    email="illuserzj2@dd.co",
    phone="010-62782137",
)


def form(*, issn: str = SEED.issn, isbn: str = SEED.isbn, title: str = SEED.title) -> ReaderForm:
    return dataclasses.replace(SEED, issn=issn, isbn=isbn, title=title)


def refused(text: str) -> str:
    with pytest.raises(HoldingsError) as caught:
        Holdings.from_csv(text)
    return str(caught.value)


# --- lookup ---------------------------------------------------------------------------------


def test_the_seed_journal_is_found_by_issn_then_by_title() -> None:
    holdings = Holdings.from_csv(TABLE)
    # THU twice (once as calis:thu) counts once; the title row comes after every ISSN row.
    assert holdings.lookup(SEED) == ("CALIS:THU", "CALIS:PKU", "CALIS:FDU")
    assert len(holdings) == 7


def test_an_isbn_10_and_its_isbn_13_are_the_same_book() -> None:
    holdings = Holdings.from_csv(TABLE)
    book = form(issn="", title="计算机网络", isbn="9787301048153")
    assert holdings.lookup(book) == ("CALIS:PKU", "CALIS:NJU")
    assert holdings.lookup(form(issn="", title="x", isbn="7301048157")) == (
        "CALIS:PKU",
        "CALIS:NJU",
    )


def test_titles_match_whatever_the_width_case_and_punctuation() -> None:
    holdings = Holdings.from_csv(TABLE)
    typed = "  INTERLENDING" + "&".translate(FULLWIDTH) + "document-supply. "
    assert holdings.lookup(form(issn="", title=typed)) == ("CALIS:FDU",)
    assert holdings.lookup(form(issn="", title="计算机学报 英文版")) == ("CALIS:ZJU",)
    assert holdings.lookup(form(issn="", title="计算机学报")) == ()


def test_nothing_held_is_an_empty_answer() -> None:
    holdings = Holdings.from_csv(TABLE)
    assert holdings.lookup(form(issn="0317-8471", title="Something else")) == ()


def test_columns_in_any_order_and_extra_ones() -> None:
    text = (
        "library,remarks,title\n"
        '"CALIS:THU ; CALIS:PKU",bought 2004,Interlending & Document Supply\n'
    )
    holdings = Holdings.from_csv(text)
    assert holdings.lookup(SEED) == ("CALIS:THU", "CALIS:PKU")
    assert holdings.lookup(form(title="Other")) == ()


def test_keys() -> None:
    assert issn_key("0264-1615") == issn_key("02641615") == "0264-1615"
    assert issn_key("0264-1616") is None
    assert isbn_key("7-301-04815-7") == isbn_key("978-7-301-04815-3") == "9787301048153"
    assert isbn_key("") is None
    assert title_key("《计算机学报》") == "计算机学报"
    assert title_key("THE  Journal!") == title_key("the journal") == "the journal"
    assert title_key("?!") is None


# --- bad tables -----------------------------------------------------------------------------


def test_a_table_without_a_library_column_is_refused() -> None:
    assert refused("issn,isbn,title\n0264-1615,,\n") == "line 1: the header has no library column"


def test_a_header_without_any_key_column_is_refused() -> None:
    assert refused("library\nCALIS:THU\n") == (
        "line 1: the header has none of the columns issn, isbn, title"
    )


def test_a_row_without_a_key_names_its_line() -> None:
    text = "issn,isbn,title,library\n0264-1615,,,CALIS:THU\n\n,,,CALIS:PKU\n"
    assert refused(text) == "line 4: no issn, isbn or title: which title is held?"


def test_a_row_without_a_library_names_its_line() -> None:
    assert refused("issn,library\n0264-1615, ; \n") == "line 2: no library: who holds it?"


def test_line_numbers_count_a_quoted_line_break() -> None:
    text = 'title,library\n"two\nlines",CALIS:THU\n0264-1615x,\n'
    assert refused(text) == "line 4: no library: who holds it?"


def test_bad_numbers_are_refused() -> None:
    assert refused("issn,library\n1234-567X,CALIS:THU\n") == (
        "line 2: issn 1234-567X is not an ISSN"
    )
    assert refused("isbn,library\n978-0-306-40615-8,CALIS:THU\n") == (
        "line 2: isbn 978-0-306-40615-8 is not an ISBN"
    )


def test_an_empty_table_is_refused() -> None:
    assert refused("") == "line 1: the table is empty (want a header issn,isbn,title,library)"
    assert refused("issn,library,issn\n") == "line 1: the header repeats issn"


def test_load_reads_utf8_with_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "holdings.csv"
    path.write_bytes(b"\xef\xbb\xbf" + TABLE.encode("utf-8"))
    assert Holdings.load(path).lookup(SEED) == ("CALIS:THU", "CALIS:PKU", "CALIS:FDU")


def test_load_names_the_file_of_a_bad_table(tmp_path: Path) -> None:
    path = tmp_path / "holdings.csv"
    path.write_bytes("title,library\n计算机学报,CALIS:THU\n".encode("gb18030"))
    with pytest.raises(HoldingsError, match=r"holdings\.csv: not UTF-8"):
        Holdings.load(path)
    path.write_text("issn,library\n,CALIS:THU\n", encoding="utf-8")
    with pytest.raises(HoldingsError, match=r"holdings\.csv: line 2: no issn"):
        Holdings.load(str(path))


# --- property: the lookup is the table read by hand -----------------------------------------

_LIBRARIES = st.sampled_from(["CALIS:THU", "CALIS:PKU", "calis:pku", "CALIS:FDU", "CALIS:ZJU"])
_DIGITS = st.integers(0, 9)


def _isbn10(n: int) -> str:
    result = isbn13_to_10(isbn10_to_13(f"{n:09d}0"))
    assert result is not None
    return result


_ISBNS = st.integers(0, 3).map(lambda n: _isbn10(307_000_000 + n))
_TITLES = st.sampled_from(["Nature", "NATURE", "Science", "计算机学报"])
_ISSNS = st.sampled_from(["0028-0836", "0036-8075", "0254-4164"])
_ROWS = st.lists(
    st.tuples(
        st.one_of(st.none(), _ISSNS),
        st.one_of(st.none(), _ISBNS, _ISBNS.map(isbn10_to_13)),
        st.one_of(st.none(), _TITLES),
        st.lists(_LIBRARIES, min_size=1, max_size=3),
    ).filter(lambda row: any(row[:3])),
    max_size=12,
)


@settings(max_examples=200)
@given(
    rows=_ROWS,
    issn=st.one_of(st.just(""), _ISSNS),
    isbn=st.one_of(st.just(""), _ISBNS),
    title=_TITLES,
)
def test_lookup_is_issn_then_isbn_then_title_in_file_order(
    rows: list[tuple[str | None, str | None, str | None, list[str]]],
    issn: str,
    isbn: str,
    title: str,
) -> None:
    lines = ["issn,isbn,title,library"]
    lines.extend(f"{i or ''},{b or ''},{t or ''},{';'.join(libs)}" for i, b, t, libs in rows)
    holdings = Holdings.from_csv("\n".join(lines) + "\n")
    wanted = form(issn=issn, isbn=isbn, title=title)
    expected: list[str] = []
    for matches in (
        lambda r: bool(issn) and r[0] == issn,
        lambda r: bool(isbn) and r[1] is not None and isbn_key(r[1]) == isbn_key(isbn),
        lambda r: r[2] is not None and r[2].casefold() == title.casefold(),
    ):
        for row in rows:
            if matches(row):
                for library in row[3]:
                    if library.casefold() not in {e.casefold() for e in expected}:
                        expected.append(library)
    assert holdings.lookup(wanted) == tuple(expected)
    assert len(holdings) == sum(len(libs) for *_, libs in rows)
