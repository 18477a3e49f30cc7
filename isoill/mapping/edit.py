"""Staff editing a record's fields, as NACSIS-ILL lets them in each state.

NACSIS lets staff change a record between commands, but not every field at every moment: the
request is the requester's to write until ORDER sends it (準備中); the supply data (SUM, SDATE,
the fee lines ...) is the lender's to write while it handles the request, before SEND (N-36:
SEND needs SUM and SDATE); CMMNT carries what the next command sends and stays editable, but
MAX-COST cannot change once the record is at 発送 (N-23: the remedy is a dummy record); local
data is the library's own at any time. What the system writes (ID, the states, the dates of
arrival and return, the history) is never staff's. Every refusal names the field and why, and
every edit is a history line naming the fields it changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from isoill.machine import Role
from isoill.mapping import cmmnt
from isoill.mapping.messages import role_name, say
from isoill.mapping.record import Record, RecordError, Stat

#: The request as the requester writes it before ORDER.
REQUEST_FIELDS = frozenset(
    {
        "SRVCE", "HMLISO", "ACCT", "TYPE", "BIBID", "BIBNT", "STDNO", "VLNO", "PAGE", "YEAR",
        "ARTCL", "CLNT", "CLNTP", "ODATE", "OSTAF", "OADRS", "SPVIA", "PRMT", "HOLDINGS",
    }
)  # fmt: skip
#: The supply data the lender writes before SEND.
SUPPLY_FIELDS = frozenset({"FEES", "FEE", "POSTG", "SUM", "CCODE", "SDATE", "DDATE"})
#: The library's own data, and the comment for the next command: editable in any state.
ALWAYS = frozenset({"CMMNT", "OLDF", "OLDAF", "ONO", "ANO"})
#: The lender's states before SEND.
_LENDING = (Stat.UNPROCESSED, Stat.IN_PROCESS)


def edit(record: Record, role: Role, changes: Any, *, at: datetime, by: str) -> Record:
    """``record`` with ``changes`` (a JSON object of fields; null clears one) made by ``by``
    on the ``role`` side, and a history line naming the fields. RecordError lists every field
    that cannot be changed now, and why."""
    if not isinstance(changes, dict) or not changes:
        raise RecordError([say("edit-nothing")])
    merged = {k: v for k, v in {**record.to_json(), **changes}.items() if v is not None}
    after = Record.from_json(merged)  # RecordError for a field or value NACSIS does not know
    changed = sorted(k for k in changes if getattr(after, k) != getattr(record, k))
    problems = [why for name in changed if (why := _refusal(record, after, role, name))]
    if problems:
        raise RecordError(problems)
    if not changed:
        return record
    return after.with_history(f"EDIT {at:%Y%m%d %H%M%S} by {by}: {', '.join(changed)}")


def _refusal(record: Record, after: Record, role: Role, name: str) -> str | None:
    stat = record.STAT
    if name == "CMMNT":
        before_cost = cmmnt.read(record.CMMNT).comment.max_cost
        if stat is Stat.SHIPPED and cmmnt.read(after.CMMNT).comment.max_cost != before_cost:
            return say("edit-max-cost")
        return None
    if name in ALWAYS:
        return None
    if name in REQUEST_FIELDS:
        if role is Role.REQUESTER and stat in (None, Stat.PREPARING):
            return None
        return say("edit-request", field=name, stat=stat)
    if name in SUPPLY_FIELDS:
        if role is Role.RESPONDER and stat in _LENDING:
            return None
        return say("edit-supply", field=name, stat=stat, role=role_name(role))
    return say("edit-system", field=name)
