"""The ISO 10161-1 state tables, as data a librarian can read and correct.

ISO 10161-1 Annex A (and its Japanese translation, JIS X 0809 Annex A) is not publicly readable.
Every row says what it rests on, in the evidence tags of the project's protocol fact sheet:

* ``S``: a public source states it (docsbay's vendor list of requester states, the ILL ASMA
  "undo" white paper, ILLiad's knowledge base);
* ``N``: seen in a deployed ISO ILL gateway (NII's NACSIS-ILL <-> OCLC manual): secondary
  evidence, not the standard;
* ``A``: follows from the ASN.1 (field names and comments);
* ``I``: inferred, a design choice to revisit when the normative table can be read.

Rows are written one per line, ``|``-separated: id | from states | event | next state | when |
reply | basis | source. ``*`` as from state means every state of the role except IDLE and
FORWARD; ``=`` as next state means unchanged; ``state before the Cancel`` returns to the state
a Cancel interrupted; ``CANCEL-PENDING (refusal -> X)`` stays waiting for the Cancel-Reply but
changes what a refusal returns to (an APDU that crossed the Cancel in transit). One event cell
may name several qualifiers (``recv ILL-ANSWER retry, unfilled``) or both directions
(``send/recv LOST``); ``recv any`` is every APDU but Status-Or-Error-Report.

The rows live in ``rows/*.txt`` beside this module, so that they can be read and corrected
without reading code; ``docs/state-tables.md`` is generated from them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources

from isoill.apdu.enums import ILLAPDUType
from isoill.machine.events import (
    SERVICE_NAMES,
    Direction,
    Event,
    Role,
    State,
    possible_qualifiers,
)

#: What each basis tag means, for the generated documentation.
BASIS = {
    "S": "stated in a public source",
    "N": "observed in a deployed gateway (NII NACSIS-ILL manual): secondary, not normative",
    "A": "follows from the ASN.1 module",
    "I": "inferred: a reconstruction, to revisit when the normative table is readable",
}

#: Conditions a row can carry. Each is a fact the transaction has recorded from its APDUs.
GUARDS = {
    "loan": "the item was shipped or received as a loan (not copy-non-returnable)",
    "SHIPPED optional": "the requester did not require SHIPPED (requester-SHIPPED is not requires)",
    "RECEIVED optional": "the responder did not require RECEIVED (responder-RECEIVED is not "
    "requires)",
    "RETURNED skipped": "the requester declared it cannot send RETURNED (can-send-RETURNED false)",
}

#: Replies the machine itself sends when the row applies.
REPLIES = {
    "status-report": "Status-Or-Error-Report with a status report: History-Report and current "
    "state",
    "already-forwarded": "Status-Or-Error-Report, user error already-forwarded, naming the new "
    "responder",
}

#: Marks for the special next-state cells.
UNCHANGED = "="
BEFORE_CANCEL = "state before the Cancel"


@dataclass(frozen=True)
class Row:
    """One transition: in any of ``sources``, ``event`` leads to ``target``."""

    id: str
    sources: tuple[State, ...]
    events: tuple[Event, ...]
    target: State | None  # None: unchanged, or (with ``resume``) the state before the Cancel
    resume: State | None  # CANCEL-PENDING rows: the state a refused Cancel returns to
    back_to_before_cancel: bool
    guards: tuple[str, ...]
    reply: str | None
    basis: str
    source: str
    # The row as written, for the documentation.
    text: tuple[str, ...]

    def next_state(self, state: State, before_cancel: State | None) -> State:
        if self.back_to_before_cancel:
            assert before_cancel is not None, "CANCEL-PENDING always records what it interrupted"
            return before_cancel
        return state if self.target is None else self.target


def _states(cell: str, role_states: tuple[State, ...]) -> tuple[State, ...]:
    if cell == "*":
        return tuple(s for s in role_states if s not in (State.IDLE, State.FORWARD))
    return tuple(State(name.strip()) for name in cell.split(","))


def _events(cell: str) -> tuple[Event, ...]:
    match = re.fullmatch(r"(send|recv|local|send/recv) (\S+)(?: (.*))?", cell)
    if match is None:
        raise ValueError(f"cannot read event {cell!r}")
    directions, service, qualifiers = match.groups()
    if service == "any":
        services = [s for s in SERVICE_NAMES.values() if s != "STATUS-OR-ERROR-REPORT"]
    else:
        services = [service]
    events = []
    for direction in directions.split("/"):
        for name in services:
            texts = [q.strip() for q in qualifiers.split(",")] if qualifiers else [None]
            for qualifier in texts:
                events.append(Event.parse(f"{direction} {name} {qualifier or ''}".strip()))
    return tuple(events)


def parse_rows(text: str, role_states: tuple[State, ...]) -> tuple[Row, ...]:
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        cells = [cell.strip() for cell in line.split("|")]
        if len(cells) != 8:
            raise ValueError(f"a row has 8 cells: {line!r}")
        row_id, sources, event, target, when, reply, basis, source = cells
        resume: State | None = None
        back = False
        refusal = re.fullmatch(r"CANCEL-PENDING \(refusal -> (\S+)\)", target)
        if target == UNCHANGED:
            to: State | None = None
        elif target == BEFORE_CANCEL:
            to, back = None, True
        elif refusal is not None:
            to, resume = State.CANCEL_PENDING, State(refusal.group(1))
        else:
            to = State(target)
        guards = tuple(g.strip() for g in when.split(",")) if when else ()
        for guard in guards:
            if guard not in GUARDS:
                raise ValueError(f"row {row_id}: unknown condition {guard!r}")
        if reply and reply not in REPLIES:
            raise ValueError(f"row {row_id}: unknown reply {reply!r}")
        if basis not in BASIS:
            raise ValueError(f"row {row_id}: unknown basis {basis!r}")
        rows.append(
            Row(
                id=row_id,
                sources=_states(sources, role_states),
                events=_events(event),
                target=to,
                resume=resume,
                back_to_before_cancel=back,
                guards=guards,
                reply=reply or None,
                basis=basis,
                source=source,
                text=tuple(cells),
            )
        )
    return tuple(rows)


#: The states each role's machine can be in.
ROLE_STATES: dict[Role, tuple[State, ...]] = {
    Role.REQUESTER: tuple(s for s in State if s not in (State.IN_PROCESS, State.FORWARD)),
    Role.RESPONDER: tuple(s for s in State if s is not State.FORWARD),
    Role.INTERMEDIARY: tuple(State),
}


class Table:
    """One role's rows, indexed by (state, event). Rows may overlap only when their
    conditions differ; the first row whose conditions hold wins."""

    def __init__(self, role: Role, rows: Iterable[Row]) -> None:
        self.role = role
        self.rows = tuple(rows)
        self.states = ROLE_STATES[role]
        self.index: dict[tuple[State, Event], list[Row]] = {}
        for row in self.rows:
            for state in row.sources:
                if state not in self.states:
                    raise ValueError(f"{role} table row {row.id}: {state} is not a {role} state")
                for event in row.events:
                    bucket = self.index.setdefault((state, event), [])
                    for other in bucket:
                        if other.guards == row.guards:
                            raise ValueError(
                                f"{role} table rows {other.id} and {row.id} both apply to "
                                f"{state} / {event}"
                            )
                    bucket.append(row)

    def candidates(self, state: State, event: Event) -> list[Row]:
        """Rows for this state and event: those for the exact qualifier, then those that
        name no qualifier (which apply to every qualifier)."""
        exact = self.index.get((state, event), [])
        if event.qualifier is None:
            return exact
        general = self.index.get((state, Event(event.direction, event.service)), [])
        return exact + general

    def events(self) -> Iterator[Event]:
        """Every event the tables know of, with every qualifier."""
        for direction in (Direction.SEND, Direction.RECEIVE):
            for apdu_type in ILLAPDUType:
                for qualifier in possible_qualifiers(apdu_type):
                    yield Event(direction, apdu_type, qualifier)
        yield from {e for row in self.rows for e in row.events if e.direction is Direction.LOCAL}

    def terminal_states(self) -> tuple[State, ...]:
        """States no row leaves: only the neutral events (Message, Status-Query ...) or
        forwarding's answers happen there."""
        moving = {
            state
            for row in self.rows
            if row.target is not None or row.back_to_before_cancel
            for state in row.sources
        }
        return tuple(s for s in self.states if s not in moving and s is not State.IDLE)


def rows_text(name: str) -> str:
    """One of the row files (``requester``, ``responder``, ``intermediary``, ``neutral``)."""
    return resources.files("isoill.machine").joinpath("rows", f"{name}.txt").read_text("utf-8")


#: The files each role's table is made of, in order of precedence.
ROLE_FILES: dict[Role, tuple[str, ...]] = {
    Role.REQUESTER: ("requester", "neutral"),
    Role.RESPONDER: ("responder", "neutral"),
    Role.INTERMEDIARY: ("responder", "intermediary", "neutral"),
}


def _build(role: Role) -> Table:
    states = ROLE_STATES[role]
    return Table(
        role, [row for name in ROLE_FILES[role] for row in parse_rows(rows_text(name), states)]
    )


TABLES: dict[Role, Table] = {role: _build(role) for role in Role}
