"""Every message staff read exists in Japanese and in English, with the same fields."""

from __future__ import annotations

import re

import pytest

from isoill.machine import Role
from isoill.mapping.commands import CommandRefused
from isoill.mapping.edit import edit
from isoill.mapping.messages import MESSAGES, Text, fields_of, in_lang, pick, say
from isoill.mapping.record import Command, Record, RecordError, Stat
from tests.mapping.test_edit import AT

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_exists_in_both_languages(key: str) -> None:
    en, ja = MESSAGES[key]
    assert en.strip() and ja.strip()
    assert JAPANESE.search(ja), f"{key}: the Japanese has no Japanese in it"
    assert fields_of(en) == fields_of(ja), key
    for rule in re.findall(r"N-\d+", en):
        assert rule in ja, f"{key}: {rule} only in English"


def test_a_reason_keeps_its_japanese_through_a_refusal() -> None:
    refused = CommandRefused(Command.CLAIM, [say("claim-refused")])
    (reason,) = refused.reasons
    assert isinstance(reason, Text) and "CLAIM" in reason
    assert in_lang(reason, "ja").startswith("Global ILLではCLAIMコマンドは使用できません")
    assert in_lang(reason, "en") == MESSAGES["claim-refused"][0]
    assert in_lang("plain", "ja") == "plain"
    with pytest.raises(RecordError) as why:
        edit(Record(STAT=Stat.IN_PROCESS), Role.REQUESTER, {"ID": "X"}, at=AT, by="x")
    assert in_lang(why.value.reasons[0], "ja") == "ID: システムが設定する項目で、編集できません"


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "ja"),
        ("", "ja"),
        ("en-US,en;q=0.9", "en"),
        ("ja,en;q=0.5", "ja"),
        ("fr, en;q=0.8, ja;q=0.9", "ja"),
        ("fr", "ja"),
        ("ja;q=0, en", "en"),
    ],
)
def test_accept_language_picks_japanese_or_english(header: str | None, lang: str) -> None:
    assert pick(header) == lang
