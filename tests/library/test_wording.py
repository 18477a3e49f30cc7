"""Everything the library desk says exists in Chinese and in English, with the same fields,
and reaches a page, the store and a mail in the reader's language."""

from __future__ import annotations

import re

import pytest

from isoill.library.pages_common import Words
from isoill.library.wording import PHRASES, problem, say
from isoill.multilingual import fields_of, in_lang

CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize("key", sorted(PHRASES))
def test_every_phrase_exists_in_both_languages(key: str) -> None:
    zh, en = PHRASES[key]
    assert zh.strip() and en.strip()
    words_only = re.sub(r"\{\w+\}", "", zh)
    assert CHINESE.search(words_only) or not words_only.strip(": "), f"{key}: no Chinese"
    assert not CHINESE.search(en), f"{key}: the English has Chinese in it"
    # The relay's refusal is its own English note; the Chinese says it in general.
    extra = {"note"} if key == "not-now" else set()
    assert fields_of(zh) | extra == fields_of(en), key


def test_a_phrase_is_chinese_with_its_english_and_fields_keep_their_language() -> None:
    reason = say("no-route")
    line = say("cannot-supply", who="北京大学图书馆 (CALIS:PKU)", why=reason)
    assert str(line) == "北京大学图书馆 (CALIS:PKU)未能提供: 本系统无法连接该图书馆"
    assert in_lang(line, "en") == (
        "北京大学图书馆 (CALIS:PKU) cannot supply: no route from this gateway to this library"
    )


def test_a_problem_names_its_field_by_the_forms_label_in_the_pages_language() -> None:
    wrong = problem("cost_limit", "not-an-amount", value="abc")
    assert str(wrong).startswith("cost_limit: ")
    assert Words(0).problem(wrong) == "费用限制: abc 不是以元计的金额"
    assert Words(1).problem(wrong).endswith(": abc is not an amount of yuan")
    assert not Words(1).problem(wrong).startswith("cost_limit")
    # A problem of a field that is not the reader form's: its word on the page.
    assert Words(0).problem(problem("password2", "passwords-differ")) == (
        "确认密码: 两次输入的密码不一致"
    )
    # Text that is no problem of a field is shown as it is.
    assert Words(1).problem("internal error") == "internal error"


def test_library_names_in_place_of_symbols() -> None:
    words = Words(0, {"CALIS:PKU": "北京大学图书馆 (CALIS:PKU)"})
    assert words.library("calis:pku") == "北京大学图书馆 (CALIS:PKU)"
    assert words.library("CALIS:NOWHERE") == "CALIS:NOWHERE"
