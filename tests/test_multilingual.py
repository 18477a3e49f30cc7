"""A text that knows itself in several languages, as pages, mails and the store use it."""

from __future__ import annotations

from isoill.multilingual import Said, in_lang, langs_of, restore, said


def test_said_is_its_main_text_and_knows_the_others() -> None:
    text = said({"zh": "已发送至{who}", "en": "sent to {who}"}, "zh", who="CALIS:PKU")
    assert text == "已发送至CALIS:PKU"
    assert in_lang(text, "en") == "sent to CALIS:PKU"
    assert in_lang(text, "ja") == "已发送至CALIS:PKU"  # a language it lacks: its main text
    assert in_lang("plain", "en") == "plain"


def test_a_field_that_is_said_fills_each_language_with_its_own() -> None:
    why = Said("不外借", zh="不外借", en="non-circulating")
    text = said({"zh": "原因: {why}", "en": "because: {why}"}, "en", why=why)
    assert text == "because: non-circulating" and in_lang(text, "zh") == "原因: 不外借"


def test_stored_and_restored() -> None:
    text = Said("已取消", zh="已取消", en="cancelled")
    again = restore(str(text), langs_of(text))
    assert again == "已取消" and in_lang(again, "en") == "cancelled"
    assert langs_of("plain") is None and restore("plain", None) == "plain"
