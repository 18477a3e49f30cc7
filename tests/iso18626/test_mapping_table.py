"""docs/iso18626-mapping.md and the code agree: every APDU type and every 18626 status,
action and reasonForMessage has its row, and the APDU a row names is the one the code
gives (no drift)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from isoill.apdu import APDU_CLASSES
from isoill.apdu.enums import ILLAPDUType
from isoill.iso18626 import (
    Action,
    MessageInfo,
    ReasonForMessage,
    RequestingAgencyMessage,
    Status,
    StatusInfo,
    SupplyingAgencyMessage,
)
from isoill.iso18626.from_apdu import MAPPERS
from isoill.iso18626.identity import NoApdu
from isoill.iso18626.to_apdu import to_apdu
from tests.iso18626.mapping_support import AT, HEADER

TABLE = Path(__file__).parents[2] / "docs" / "iso18626-mapping.md"


def rows(heading: str) -> dict[str, str]:
    """The first two columns of the table under ``heading``."""
    section = TABLE.read_text(encoding="utf-8").split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    found = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and len(cells) >= 2 and not set(cells[0]) <= {"-"}:
            found[cells[0]] = cells[1]
    return found


def standard_name(apdu_type: ILLAPDUType) -> str:
    """ILL_REQUEST -> ILL-Request, as the standard and the table write it."""
    return "-".join(word.capitalize() for word in apdu_type.name.split("_")).replace("Ill", "ILL")


def test_every_apdu_type_has_a_row_and_a_mapper() -> None:
    firsts = {re.sub(r" \(.*\)$", "", key) for key in rows("ISO 10161 -> ISO 18626")}
    types = {cls.apdu_type for cls in APDU_CLASSES}
    assert {standard_name(t) for t in types} <= firsts
    assert set(MAPPERS) == types


def reverse_rows(kind: str) -> dict[str, str]:
    pattern = re.compile(rf"{kind} `(\w+)`")
    table = rows("ISO 18626 -> ISO 10161")
    return {match[1]: target for key, target in table.items() if (match := pattern.fullmatch(key))}


@pytest.mark.parametrize(
    ("kind", "values"),
    [("status", Status), ("action", Action), ("reasonForMessage", ReasonForMessage)],
)
def test_every_code_has_a_row(kind: str, values: type) -> None:
    assert set(reverse_rows(kind)) == {value.value for value in values}  # type: ignore[attr-defined]


def named_apdu(target: str) -> str:
    """The APDU a row's second column names first ("none" when it has none)."""
    return target.split(";")[0].split(" ")[0].rstrip(",")


@pytest.mark.parametrize("status", list(Status))
def test_status_rows_name_what_the_code_gives(status: Status) -> None:
    message = SupplyingAgencyMessage(
        HEADER, MessageInfo(ReasonForMessage.STATUS_CHANGE), StatusInfo(status, AT)
    )
    expected = named_apdu(reverse_rows("status")[status.value])
    if expected == "none":
        with pytest.raises(NoApdu):
            to_apdu(message)
        return
    assert standard_name(to_apdu(message).apdu_type) == expected


@pytest.mark.parametrize("action", list(Action))
def test_action_rows_name_what_the_code_gives(action: Action) -> None:
    expected = named_apdu(reverse_rows("action")[action.value])
    assert standard_name(to_apdu(RequestingAgencyMessage(HEADER, action)).apdu_type) == expected


@pytest.mark.parametrize(
    "reason",
    [
        r
        for r in ReasonForMessage
        if r not in (ReasonForMessage.REQUEST_RESPONSE, ReasonForMessage.STATUS_CHANGE)
    ],
)
def test_reason_rows_name_what_the_code_gives(reason: ReasonForMessage) -> None:
    message = SupplyingAgencyMessage(HEADER, MessageInfo(reason), StatusInfo(Status.LOANED, AT))
    expected = named_apdu(reverse_rows("reasonForMessage")[reason.value])
    assert standard_name(to_apdu(message).apdu_type) == expected
