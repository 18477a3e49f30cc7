"""Staff's edits of a record: the fields NACSIS lets them change in each state, and why not."""

from __future__ import annotations

from datetime import datetime

import pytest

from isoill.machine import Role
from isoill.mapping.edit import edit
from isoill.mapping.record import FeeLine, Record, RecordError, Stat
from tests.mapping.support import GIF

AT = datetime(2026, 11, 2, 10, 30, 0)
REQUEST = Record.from_json({**GIF, "ID": "LA00000001"})


def refusals(record: Record, role: Role, changes: dict[str, object]) -> list[str]:
    with pytest.raises(RecordError) as refused:
        edit(record, role, changes, at=AT, by="hanako")
    return list(refused.value.reasons)


def test_the_lender_writes_the_supply_data_before_send() -> None:
    lending = Record(ID="LA00000002", STAT=Stat.IN_PROCESS)
    changes = {"SUM": "15.00", "SDATE": "20261102", "FEES": [{"ITEM": "A4", "QNT": "10"}]}
    after = edit(lending, Role.RESPONDER, changes, at=AT, by="hanako")
    assert (after.SUM, after.SDATE) == ("15.00", "20261102")
    assert (FeeLine(ITEM="A4", QNT="10"),) == after.FEES
    assert after.HISTORY[-1] == "EDIT 20261102 103000 by hanako: FEES, SDATE, SUM"
    cleared = edit(after, Role.RESPONDER, {"SDATE": None}, at=AT, by="hanako")
    assert cleared.SDATE is None
    shipped = after.replace(STAT=Stat.SHIPPED)
    (why,) = refusals(shipped, Role.RESPONDER, {"SUM": "18.00"})
    assert why.startswith("SUM: the lender writes the supply data before SEND")
    (why,) = refusals(REQUEST.replace(STAT=Stat.IN_PROCESS), Role.REQUESTER, {"SUM": "1"})
    assert "on the requester's side" in why


def test_the_request_is_edited_before_order_only() -> None:
    preparing = REQUEST.replace(STAT=Stat.PREPARING)
    after = edit(preparing, Role.REQUESTER, {"HMLISO": "ZYU", "OLDF": "budget 3"}, at=AT, by="x")
    assert after.HMLISO == "ZYU" and after.HISTORY[-1].endswith(": HMLISO, OLDF")
    ordered = REQUEST.replace(STAT=Stat.IN_PROCESS)
    assert refusals(ordered, Role.REQUESTER, {"BIBNT": "Other", "STAT": "確認", "ID": "X"}) == [
        "BIBNT: the request is edited before ORDER (準備中) only; the record is at 処理中",
        "ID: written by the system, not by staff",
        "STAT: written by the system, not by staff",
    ]
    # The same value again changes nothing and writes no history.
    assert edit(ordered, Role.REQUESTER, {"BIBNT": REQUEST.BIBNT}, at=AT, by="x") == ordered


def test_max_cost_cannot_change_at_shipped_but_the_rest_of_cmmnt_can() -> None:
    shipped = REQUEST.replace(STAT=Stat.SHIPPED)
    assert REQUEST.CMMNT is not None
    raised = REQUEST.CMMNT.replace("USD35.50", "USD50.00")
    (why,) = refusals(shipped, Role.REQUESTER, {"CMMNT": raised})
    assert why.startswith("CMMNT: MAX-COST of a record at 発送 cannot be edited (N-23)")
    noted = edit(
        shipped, Role.REQUESTER, {"CMMNT": REQUEST.CMMNT + " / NOTE=thanks"}, at=AT, by="x"
    )
    assert noted.CMMNT is not None and noted.CMMNT.endswith("NOTE=thanks")
    at_process = REQUEST.replace(STAT=Stat.IN_PROCESS)
    assert raised == edit(at_process, Role.REQUESTER, {"CMMNT": raised}, at=AT, by="x").CMMNT


def test_what_is_not_a_change_is_refused() -> None:
    assert refusals(REQUEST, Role.REQUESTER, {})[0].startswith("give an object")
    assert refusals(REQUEST, Role.REQUESTER, {"COLOUR": "red"}) == [
        "COLOUR: not a NACSIS-ILL field this record knows"
    ]
    assert refusals(REQUEST, Role.REQUESTER, {"SUM": 15}) == ["SUM: a string, not int"]
