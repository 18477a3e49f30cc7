"""Replaying traces through the protocol machine: the example flows of tests/traces, the
direction rule, the first prohibited transition, and ``isoill replay``."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import subprocess
import sys
from datetime import date, datetime, time
from pathlib import Path
from types import ModuleType

import pytest

import isoill
from isoill.apdu.types import StateTransitionProhibited
from isoill.machine import Role, State
from isoill.machine.replay import FALLBACK_AT, ReplayError, replay
from tests.paths import TRACES


def _load_make_traces() -> ModuleType:
    # tests/traces is a directory of data with its script, not a package.
    spec = importlib.util.spec_from_file_location("make_traces", TRACES / "make_traces.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


make_traces = _load_make_traces()


def trace(name: str) -> list[isoill.APDU]:
    return isoill.decode_all((TRACES / f"{name}.ber").read_bytes())


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "isoill.cli", *args], input=stdin, capture_output=True, check=False
    )


EXPECTED: dict[tuple[str, Role], list[str]] = {
    ("copy", Role.REQUESTER): [
        "1 ILL-REQUEST sent IDLE -> PENDING",
        "2 ILL-ANSWER received PENDING -> PENDING",
        "3 SHIPPED received PENDING -> SHIPPED",
        "4 RECEIVED sent SHIPPED -> RECEIVED",
        "final: RECEIVED",
    ],
    ("copy", Role.RESPONDER): [
        "1 ILL-REQUEST received IDLE -> IN-PROCESS",
        "2 ILL-ANSWER sent IN-PROCESS -> PENDING",
        "3 SHIPPED sent PENDING -> SHIPPED",
        "4 RECEIVED received SHIPPED -> RECEIVED",
        "final: RECEIVED",
    ],
    ("loan-renew", Role.REQUESTER): [
        "1 ILL-REQUEST sent IDLE -> PENDING",
        "2 ILL-ANSWER received PENDING -> PENDING",
        "3 SHIPPED received PENDING -> SHIPPED",
        "4 RECEIVED sent SHIPPED -> RECEIVED",
        "5 RENEW sent RECEIVED -> RENEW-PENDING",
        "6 RENEW-ANSWER received RENEW-PENDING -> RECEIVED",
        "7 RETURNED sent RECEIVED -> RETURNED",
        "8 CHECKED-IN received RETURNED -> CHECKED-IN",
        "final: CHECKED-IN",
    ],
    ("loan-renew", Role.RESPONDER): [
        "1 ILL-REQUEST received IDLE -> IN-PROCESS",
        "2 ILL-ANSWER sent IN-PROCESS -> PENDING",
        "3 SHIPPED sent PENDING -> SHIPPED",
        "4 RECEIVED received SHIPPED -> RECEIVED",
        "5 RENEW received RECEIVED -> RENEW-PENDING",
        "6 RENEW-ANSWER sent RENEW-PENDING -> RECEIVED",
        "7 RETURNED received RECEIVED -> RETURNED",
        "8 CHECKED-IN sent RETURNED -> CHECKED-IN",
        "final: CHECKED-IN",
    ],
    ("cancel", Role.REQUESTER): [
        "1 ILL-REQUEST sent IDLE -> PENDING",
        "2 CANCEL sent PENDING -> CANCEL-PENDING",
        "3 CANCEL-REPLY received CANCEL-PENDING -> CANCELLED",
        "final: CANCELLED",
    ],
    ("cancel", Role.RESPONDER): [
        "1 ILL-REQUEST received IDLE -> IN-PROCESS",
        "2 CANCEL received IN-PROCESS -> CANCEL-PENDING",
        "3 CANCEL-REPLY sent CANCEL-PENDING -> CANCELLED",
        "final: CANCELLED",
    ],
    ("conditional", Role.REQUESTER): [
        "1 ILL-REQUEST sent IDLE -> PENDING",
        "2 ILL-ANSWER received PENDING -> CONDITIONAL",
        "3 CONDITIONAL-REPLY sent CONDITIONAL -> PENDING",
        "4 ILL-ANSWER received PENDING -> PENDING",
        "5 SHIPPED received PENDING -> SHIPPED",
        "6 RECEIVED sent SHIPPED -> RECEIVED",
        "final: RECEIVED",
    ],
    ("conditional", Role.RESPONDER): [
        "1 ILL-REQUEST received IDLE -> IN-PROCESS",
        "2 ILL-ANSWER sent IN-PROCESS -> CONDITIONAL",
        "3 CONDITIONAL-REPLY received CONDITIONAL -> PENDING",
        "4 ILL-ANSWER sent PENDING -> PENDING",
        "5 SHIPPED sent PENDING -> SHIPPED",
        "6 RECEIVED received SHIPPED -> RECEIVED",
        "final: RECEIVED",
    ],
    ("forwarded", Role.REQUESTER): [
        "1 ILL-REQUEST sent IDLE -> PENDING",
        "2 ILL-REQUEST skipped (not addressed to the requester)",
        "3 FORWARD-NOTIFICATION received PENDING -> PENDING",
        "4 ILL-ANSWER received PENDING -> PENDING",
        "5 SHIPPED received PENDING -> SHIPPED",
        "6 RECEIVED sent SHIPPED -> RECEIVED",
        "final: RECEIVED",
    ],
    ("forwarded", Role.INTERMEDIARY): [
        "1 ILL-REQUEST received IDLE -> IN-PROCESS",
        "2 ILL-REQUEST sent IN-PROCESS -> IN-PROCESS",
        "3 FORWARD-NOTIFICATION sent IN-PROCESS -> FORWARD",
        "4 ILL-ANSWER skipped (not addressed to the intermediary)",
        "5 SHIPPED skipped (not addressed to the intermediary)",
        "6 RECEIVED skipped (not addressed to the intermediary)",
        "final: FORWARD",
    ],
    ("unfilled", Role.REQUESTER): [
        "1 ILL-REQUEST sent IDLE -> PENDING",
        "2 ILL-ANSWER received PENDING -> NOT-SUPPLIED",
        "final: NOT-SUPPLIED",
    ],
    ("unfilled", Role.RESPONDER): [
        "1 ILL-REQUEST received IDLE -> IN-PROCESS",
        "2 ILL-ANSWER sent IN-PROCESS -> NOT-SUPPLIED",
        "final: NOT-SUPPLIED",
    ],
    ("prohibited", Role.REQUESTER): [
        "1 ILL-REQUEST sent IDLE -> PENDING",
        "2 SHIPPED received PENDING -> SHIPPED",
        "3 RENEW sent SHIPPED -> SHIPPED (prohibited)",
        "final: SHIPPED",
    ],
    ("prohibited", Role.RESPONDER): [
        "1 ILL-REQUEST received IDLE -> IN-PROCESS",
        "2 SHIPPED sent IN-PROCESS -> SHIPPED",
        "3 RENEW received SHIPPED -> SHIPPED (prohibited)",
        "final: SHIPPED",
    ],
}


@pytest.mark.parametrize(("name", "role"), list(EXPECTED), ids=lambda v: str(v))
def test_each_trace_replays_as_the_fact_sheet_says(name: str, role: Role) -> None:
    result = replay(trace(name), role)
    assert result.lines() == EXPECTED[name, role]
    assert (result.report is not None) == (name == "prohibited")


def test_the_committed_traces_are_what_make_traces_builds() -> None:
    built = make_traces.flows()
    assert {f"{name}.ber" for name in built} == {p.name for p in TRACES.glob("*.ber")}
    for name, apdus in built.items():
        assert (TRACES / f"{name}.ber").read_bytes() == make_traces.ber(apdus), (
            f"{name}.ber is stale: run python tests/traces/make_traces.py"
        )
        assert trace(name) == apdus


def test_steps_name_the_rows_that_applied() -> None:
    result = replay(trace("forwarded"), Role.INTERMEDIARY)
    assert [step.row for step in result.steps] == ["P1", "I1", "I2", None, None, None]
    assert [step.direction for step in result.steps] == [
        "received",
        "sent",
        "sent",
        "skipped",
        "skipped",
        "skipped",
    ]
    skipped = result.steps[3:]
    assert all(s.state_before is s.state_after is State.FORWARD for s in skipped)
    # Only the intermediary's own APDUs are in its transaction.
    assert len(result.transaction.history) == 3


@pytest.mark.parametrize("role", [Role.REQUESTER, Role.RESPONDER])
def test_a_prohibited_transition_stops_with_the_report(role: Role) -> None:
    apdus = trace("prohibited")
    result = replay([*apdus, *apdus[1:]], role)
    assert len(result.steps) == 3, "the replay stops at the first prohibited transition"
    refused = result.prohibited
    assert refused is not None and refused.n == 3 and refused.apdu == "RENEW"
    report = result.report
    assert report is not None and report.error_report is not None
    assert report.error_report.provider_error_report == StateTransitionProhibited(
        apdu_type=isoill.ILLAPDUType.RENEW, current_state=isoill.CurrentState.SHIPPED
    )
    # Dated by the Renew's own service date-time, not the clock: the same on every run.
    assert report.service_date_time == apdus[2].service_date_time
    assert result.final is State.SHIPPED


def test_either_party_apdus_follow_the_apdu_before_them() -> None:
    """A Status-Query after the requester's Received is the requester's; the report that
    answers it is the responder's. A Message after the ILL-Answer is the responder's."""
    copy = trace("copy")
    late = isoill.ServiceDateTime(
        date_time_of_this_service=isoill.DateTimeOfService(date=date(2026, 11, 4), time=time(9))
    )
    base = make_traces.parties(copy[0].transaction_id, late)
    message = isoill.Message(**base, note="Sent today by Ariel")
    query = isoill.StatusQuery(**base)
    report = isoill.StatusOrErrorReport(**base, reason_no_report=isoill.ReasonNoReport.TEMPORARY)
    apdus = [*copy[:2], message, *copy[2:], query, report]
    as_requester = replay(apdus, Role.REQUESTER)
    assert as_requester.lines()[2] == "3 MESSAGE received PENDING -> PENDING"
    assert as_requester.lines()[5:] == [
        "6 STATUS-QUERY sent RECEIVED -> RECEIVED",
        "7 STATUS-OR-ERROR-REPORT received RECEIVED -> RECEIVED",
        "final: RECEIVED",
    ]
    as_responder = replay(apdus, Role.RESPONDER)
    assert as_responder.lines()[2] == "3 MESSAGE sent PENDING -> PENDING"
    assert as_responder.lines()[5:] == [
        "6 STATUS-QUERY received RECEIVED -> RECEIVED (answered: STATUS-OR-ERROR-REPORT)",
        "7 STATUS-OR-ERROR-REPORT sent RECEIVED -> RECEIVED",
        "final: RECEIVED",
    ]
    answer = as_responder.steps[5].reply
    assert answer is not None and answer.status_report is not None
    assert as_responder.report is None


def test_an_unparsable_service_date_falls_back_to_a_fixed_time() -> None:
    request = trace("copy")[0]
    odd = dataclasses.replace(
        request,
        service_date_time=isoill.ServiceDateTime(
            date_time_of_this_service=isoill.DateTimeOfService(date="2026-11-02")
        ),
    )
    result = replay([odd], Role.RESPONDER)
    assert result.transaction.history[0].at == FALLBACK_AT
    timed = replay(trace("copy")[:1], Role.RESPONDER)
    assert timed.transaction.history[0].at == datetime(2026, 11, 2, 9, 0)


def test_a_repeated_apdu_is_ignored() -> None:
    copy = trace("copy")
    result = replay([*copy[:3], copy[2], copy[3]], Role.REQUESTER)
    assert result.lines()[3:] == [
        "4 SHIPPED received SHIPPED -> SHIPPED (a repeat of an APDU already received: ignored)",
        "5 RECEIVED sent SHIPPED -> RECEIVED",
        "final: RECEIVED",
    ]


def test_one_transaction_per_replay() -> None:
    with pytest.raises(ReplayError, match="APDU 4: ILL-REQUEST belongs to another transaction"):
        replay([*trace("cancel"), *trace("copy")], Role.REQUESTER)


def test_an_empty_trace_leaves_the_machine_idle() -> None:
    result = replay([], Role.REQUESTER)
    assert result.lines() == ["final: IDLE"]
    assert result.report is None and result.prohibited is None


def test_the_yaz_illclient_request_as_responder(yaz_trace: bytes) -> None:
    result = replay(isoill.decode_all(yaz_trace), Role.RESPONDER)
    assert result.lines() == ["1 ILL-REQUEST received IDLE -> IN-PROCESS", "final: IN-PROCESS"]


# --- isoill replay --------------------------------------------------------------------------


def test_cli_prints_one_line_per_apdu_as_requester_by_default() -> None:
    done = run("replay", str(TRACES / "copy.ber"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines() == EXPECTED["copy", Role.REQUESTER]
    assert done.stderr == b""


def test_cli_role_and_stdin() -> None:
    data = (TRACES / "forwarded.ber").read_bytes()
    done = run("replay", "-", "--role", "intermediary", stdin=data)
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().splitlines() == EXPECTED["forwarded", Role.INTERMEDIARY]


def test_cli_json() -> None:
    done = run("replay", str(TRACES / "loan-renew.ber"), "--role", "responder", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["role"] == "responder"
    assert document["final"] == "CHECKED-IN"
    assert document["report"] is None
    assert [s["row"] for s in document["steps"]] == [
        "P1",
        "P5",
        "P7",
        "P14",
        "P22",
        "P24",
        "P28",
        "P30",
    ]
    assert document["steps"][2] == {
        "n": 3,
        "apdu": "SHIPPED",
        "direction": "sent",
        "state-before": "PENDING",
        "state-after": "SHIPPED",
        "row": "P7",
        "note": None,
        "reply": None,
        "prohibited": False,
    }


def test_cli_prohibited_prints_the_report_and_exits_1() -> None:
    done = run("replay", str(TRACES / "prohibited.ber"))
    assert done.returncode == 1
    text = done.stdout.decode()
    assert text.startswith("\n".join(EXPECTED["prohibited", Role.REQUESTER]) + "\n")
    assert "\nstatus-or-error-report:\n" in text
    assert '    correlation-information: "RENEW 20261103 120000"\n' in text
    assert '        aPDU-type: "rENEW"\n        current-state: "sHIPPED"\n' in text
    assert done.stderr.decode() == (
        "isoill: APDU 3: prohibited transition: RENEW is not allowed when the requester's "
        "state is SHIPPED; the state is unchanged\n"
    )


def test_cli_prohibited_json_carries_the_report() -> None:
    done = run("replay", str(TRACES / "prohibited.ber"), "--role", "responder", "--json")
    assert done.returncode == 1
    document = json.loads(done.stdout)
    assert document["final"] == "SHIPPED"
    assert document["steps"][-1]["prohibited"] is True
    report = isoill.from_json(document["report"])
    assert isinstance(report, isoill.StatusOrErrorReport)
    assert report.note == (
        "RENEW is not allowed when the responder's state is SHIPPED; the state is unchanged"
    )


def test_cli_refuses_what_is_not_ber(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello, this is not BER\n")
    done = run("replay", str(text))
    assert done.returncode == 1
    assert done.stdout == b""
    assert done.stderr.startswith(b"isoill: APDU 1: ") and b"byte offset" in done.stderr


def test_cli_refuses_a_truncated_trace_and_empty_input() -> None:
    data = (TRACES / "copy.ber").read_bytes()
    cut = run("replay", "-", stdin=data[:-10])
    assert cut.returncode == 1 and cut.stdout == b""
    assert cut.stderr.startswith(b"isoill: APDU 4: Received")
    empty = run("replay", "-")
    assert empty.returncode == 1 and empty.stderr == b"isoill: no input\n"
