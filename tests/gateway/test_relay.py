"""The relay's decisions, without sockets or a database: an APDU in, a step out."""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import isoill
from isoill.apdu.enums import ILLAPDUType, ILLServiceType
from isoill.gateway import config as gwconfig
from isoill.gateway.networks import records_settings
from isoill.gateway.relay import Relay, Sender, Step
from isoill.gateway.store import Change, StoredLeg
from isoill.machine import State
from isoill.mapping.commands import CommandRefused
from isoill.mapping.record import Command, Record, Stat
from tests.machine.support import AT, apdu_for, request
from tests.mapping.support import GIF

CONFIG = gwconfig.parse(
    {
        "network": [
            {"name": "nacsis", "kind": "iso", "profile": "nacsis"},
            {"name": "oclc", "kind": "iso", "profile": "oclc"},
        ],
        "peer": [
            {
                "name": "tokyo",
                "network": "nacsis",
                "symbols": ["NACSIS:*"],
                "addresses": ["10.0.0.1"],
            },
            {
                "name": "dublin",
                "network": "oclc",
                "symbols": ["OCLC:*"],
                "connect": "tcp:host=127.0.0.1:port=1",
            },
        ],
    }
)
TOKYO = Sender("10.0.0.1", ("tokyo",))
DUBLIN = Sender("127.0.0.1")


class Legs:
    """The store's part the relay sees: legs by (network, key), updated by each step."""

    def __init__(self) -> None:
        self.legs: dict[tuple[str, str], StoredLeg] = {}
        self.outbox: dict[str, bytes] = {}

    def load(self, network: str, key: str) -> StoredLeg | None:
        return self.legs.get((network, key))

    def find(self, record_id: str) -> StoredLeg | None:
        return next((leg for leg in self.legs.values() if leg.record_id == record_id), None)

    def apply(self, change: Change) -> None:
        for leg in change.legs:
            self.legs[leg.network, leg.key] = dataclasses.replace(leg, version=leg.version + 1)
        for item in change.outbox:
            self.outbox.setdefault(item.dedup, item.data)


def run(relay: Relay, legs: Legs, sender: Sender, apdu: isoill.APDU) -> Step:
    step = relay.inbound(sender, apdu, isoill.encode(apdu), legs.load, AT)
    legs.apply(step.change)
    return step


def copy_request() -> isoill.ILLRequest:
    return request(service=ILLServiceType.COPY_NON_RETURNABLE, copyright_compliance="US:CCG")


def test_a_request_is_acknowledged_mapped_and_queued_for_the_other_network() -> None:
    relay, legs = Relay(CONFIG), Legs()
    step = run(relay, legs, TOKYO, copy_request())
    assert step.refused is None and step.peer == "tokyo"
    assert isinstance(step.reply, isoill.StatusOrErrorReport)
    assert step.reply.error_report is None and step.reply.status_report is not None
    (item,) = step.change.outbox
    assert item.peer == "dublin" and item.apdu_type == "ILL-REQUEST"
    forwarded = isoill.decode(item.data)
    assert isinstance(forwarded, isoill.ILLRequest)
    assert forwarded.copyright_compliance == "ccg"  # the OCLC profile's form
    assert forwarded.transaction_id == copy_request().transaction_id
    assert legs.load("nacsis", item.key).transaction.state is State.IN_PROCESS  # type: ignore[union-attr]
    assert legs.load("oclc", item.key).transaction.state is State.PENDING  # type: ignore[union-attr]
    # every APDU in and out is in the step's log, raw
    assert [e.direction for e in step.change.log] == ["in", "out"]


def test_the_reply_is_encoded_once_for_the_log_and_the_wire() -> None:
    step = run(Relay(CONFIG), Legs(), TOKYO, copy_request())
    (out,) = [e for e in step.change.log if e.direction == "out"]
    assert step.reply_data is not None and step.reply_data is out.data
    assert isoill.decode(step.reply_data) == step.reply


def test_a_sender_that_came_by_mail_has_its_reply_queued_for_its_mailbox() -> None:
    mailed = dataclasses.replace(CONFIG.peers[0], addresses=(), mail="ill@tokyo.example")
    relay = Relay(dataclasses.replace(CONFIG, peers=(mailed, *CONFIG.peers[1:])))
    apdu = copy_request()
    step = relay.inbound(Sender("mail:ill@tokyo.example", ("tokyo",)), apdu, b"in", Legs().load, AT)
    assert step.reply is None and step.reply_data is None  # no association to carry it
    forwarded, reply = step.change.outbox
    assert forwarded.peer == "dublin"
    (out,) = [e for e in step.change.log if e.direction == "out"]
    assert (reply.peer, reply.network, reply.apdu_type) == (
        "tokyo",
        "nacsis",
        "STATUS-OR-ERROR-REPORT",
    )
    assert reply.data is out.data and reply.key == forwarded.key
    assert reply.dedup.startswith("tokyo|reply|")


def test_answers_flow_back_and_prohibited_ones_are_refused_by_the_gateway() -> None:
    relay, legs = Relay(CONFIG), Legs()
    run(relay, legs, TOKYO, apdu_for(ILLAPDUType.ILL_REQUEST, loan=False))
    early = run(relay, legs, TOKYO, apdu_for(ILLAPDUType.RETURNED, loan=False))
    assert early.refused and not early.change.outbox
    assert early.reply.error_report.provider_error_report is not None  # type: ignore[union-attr]
    back = run(relay, legs, DUBLIN, apdu_for(ILLAPDUType.SHIPPED, loan=False))
    assert back.reply is None and back.peer == "dublin"
    (item,) = back.change.outbox
    assert item.peer == "tokyo" and isinstance(isoill.decode(item.data), isoill.Shipped)
    done = run(relay, legs, TOKYO, apdu_for(ILLAPDUType.RECEIVED, loan=False))
    assert done.refused is None and done.change.outbox[0].peer == "dublin"


def test_a_repeat_is_acknowledged_again_and_never_queued_twice() -> None:
    relay, legs = Relay(CONFIG), Legs()
    first = run(relay, legs, TOKYO, copy_request())
    again = run(relay, legs, TOKYO, copy_request())
    assert isinstance(again.reply, isoill.StatusOrErrorReport) and again.reply.status_report
    assert not again.change.outbox and not again.change.legs
    assert len(legs.outbox) == 1 == len(first.change.outbox)


def test_a_second_different_request_under_the_same_id_is_a_duplicate() -> None:
    relay, legs = Relay(CONFIG), Legs()
    run(relay, legs, TOKYO, copy_request())
    other = dataclasses.replace(copy_request(), requester_note="another one")
    step = run(relay, legs, TOKYO, other)
    assert step.refused and "exists" in step.refused[0]
    report = step.reply.error_report.provider_error_report  # type: ignore[union-attr]
    assert report is isoill.TransactionIdProblem.DUPLICATE_TRANSACTION_ID


def test_unknown_senders_and_unknown_transactions_are_refused() -> None:
    relay, legs = Relay(CONFIG), Legs()
    stranger = run(relay, legs, Sender("10.9.9.9"), copy_request())
    assert stranger.refused and "not configured" in stranger.refused[0]
    assert isinstance(stranger.reply.error_report.user_error_report, str)  # type: ignore[union-attr]
    assert not legs.legs and not legs.outbox
    unknown = run(relay, legs, TOKYO, apdu_for(ILLAPDUType.CANCEL))
    problem = unknown.reply.error_report.provider_error_report  # type: ignore[union-attr]
    assert problem is isoill.TransactionIdProblem.UNKNOWN_TRANSACTION_ID
    # a symbol the peer does not own, from the peer's own address
    posing = dataclasses.replace(
        copy_request(), requester_id=isoill.SystemId.institution("OCLC:FAKE")
    )
    assert run(relay, legs, TOKYO, posing).refused


def test_what_the_other_network_cannot_take_is_refused_with_every_reason() -> None:
    relay, legs = Relay(CONFIG), Legs()
    bad = dataclasses.replace(
        request(service=ILLServiceType.ESTIMATE, copyright_compliance="maybe"),
        item_id=isoill.ItemId(author="Nobody"),
    )
    step = run(relay, legs, TOKYO, bad)
    assert step.refused and not legs.legs and not legs.outbox
    note = step.reply.note or ""  # type: ignore[union-attr]
    assert "title" in note and "loan or copy" in note and "ccg or ccl" in note


def test_the_default_gateway_answers_for_any_symbol_with_a_record() -> None:
    relay, legs = Relay(gwconfig.default()), Legs()
    step = run(relay, legs, Sender("127.0.0.1"), copy_request())
    assert step.refused is None and step.peer == "client:NACSIS:FA001234"
    assert step.reply.status_report is not None  # type: ignore[union-attr]
    (record_leg,) = [leg for leg in legs.legs.values() if leg.record is not None]
    assert record_leg.record.STAT is Stat.UNPROCESSED  # type: ignore[union-attr]
    assert record_leg.record.BIBNT == "Interlending & Document Supply"  # type: ignore[union-attr]
    assert not step.change.outbox


RECORDS = gwconfig.parse(
    {
        "network": [
            {"name": "nacsis", "kind": "records", "profile": "nacsis", "default": True},
            {"name": "oclc", "kind": "iso", "profile": "oclc"},
        ],
        "peer": [{"name": "oclc", "network": "oclc", "symbols": ["PIT", "OCLC:*"]}],
    }
)


def test_a_record_order_goes_to_the_iso_peer_and_its_answers_change_the_record() -> None:
    relay, legs = Relay(RECORDS), Legs()
    record = Record.from_json({**GIF, "ID": "ILL0001"})
    posted = relay.post_record(record, legs.find, AT)
    legs.apply(posted.change)
    with pytest.raises(CommandRefused):  # a lender's command on a borrower's record
        relay.command("ILL0001", Command.SEND, {}, legs.find, legs.load, AT)
    ordered = relay.command("ILL0001", Command.ORDER, {}, legs.find, legs.load, AT)
    legs.apply(ordered.change)
    (item,) = ordered.change.outbox
    sent = isoill.decode(item.data)
    assert isinstance(sent, isoill.ILLRequest) and sent.copyright_compliance == "ccg"
    assert ordered.leg.record.STAT is Stat.IN_PROCESS  # type: ignore[union-attr]
    shipped = isoill.Shipped(
        transaction_id=sent.transaction_id,
        service_date_time=sent.service_date_time,
        requester_id=sent.requester_id,
        responder_id=sent.responder_id,
        shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE,
        supply_details=isoill.SupplyDetails(date_shipped=AT.date()),
    )
    step = run(relay, legs, Sender("127.0.0.1", ("oclc",)), shipped)
    assert step.refused is None and not step.change.outbox
    after = legs.find("ILL0001")
    assert after is not None and after.record is not None
    assert after.record.STAT is Stat.SHIPPED
    assert any(line.startswith("APDU=Shipped OCLC") for line in after.record.HISTORY)


def test_a_refused_record_names_every_gif_rule() -> None:
    relay, legs = Relay(RECORDS), Legs()
    record = Record.from_json({**GIF, "ID": "ILL0002", "BIBNT": "図書館雑誌", "CMMNT": ""})
    with pytest.raises(isoill.mapping.record.RecordError) as refused:  # type: ignore[attr-defined]
        relay.post_record(record, legs.find, datetime(2026, 11, 22))
    assert len(refused.value.args[0]) >= 2


def test_the_records_network_reads_its_policies_and_reads_them_again_when_they_change(
    tmp_path: Path,
) -> None:
    table = tmp_path / "lenders.csv"
    header = "symbol,copy_charge,loan_charge,currency,ifm,free_copy,email\n"
    table.write_text(header + "PIT,15.00,,USD,yes,no,ill@pit.example.edu\n")
    networks = [{"name": "nacsis", "kind": "records", "profile": "nacsis", "policies": table.name}]
    config = gwconfig.parse({"network": networks}, here=tmp_path)
    policy_file = records_settings(config.network("nacsis")).policy_file
    assert policy_file is not None and policy_file.current().lookup("PIT") is not None
    table.write_text(header + "DEAR,20.00,30.00,USD,yes,no,ill@dear.example.edu\n")
    assert policy_file.current().lookup("PIT") is None  # another size: read again
    assert policy_file.current().lookup("DEAR") is not None
    table.write_text(header + "PIT,cheap,,USD,yes,no,ill@pit.example.edu\n")
    with pytest.raises(gwconfig.ConfigError, match=r"policies lenders\.csv: line 2: copy_charge"):
        gwconfig.parse({"network": networks}, here=tmp_path)
    missing = [{**networks[0], "policies": "nowhere.csv"}]
    with pytest.raises(gwconfig.ConfigError, match=r"policies nowhere\.csv"):
        gwconfig.parse({"network": missing}, here=tmp_path)


def test_bad_json_options_are_value_errors_naming_the_option() -> None:
    relay, legs = Relay(RECORDS), Legs()
    legs.apply(relay.post_record(Record.from_json({**GIF, "ID": "ILL0003"}), legs.find, AT).change)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"policy": {"symbol": "PIT"}}, "policy: the gateway takes the lending policy"),
        ({"force": 1, "reason": "x"}, "force: true or false"),
        ({"force": True}, "force needs a reason"),
        ({"colour": "red"}, "colour: not an option"),
    ]
    for options, says in cases:
        with pytest.raises(ValueError, match=says):
            relay.command("ILL0003", Command.RECEIVE, options, legs.find, legs.load, AT)
    with pytest.raises(ValueError, match="only RECEIVE and BORROW"):
        relay.command(
            "ILL0003", Command.ORDER, {"force": True, "reason": "x"}, legs.find, legs.load, AT
        )


def test_a_record_without_an_id_is_given_one_in_nacsis_style() -> None:
    relay, legs = Relay(RECORDS), Legs()
    posted = relay.post_record(Record.from_json(GIF), legs.find, AT)
    legs.apply(posted.change)
    assert posted.leg is not None and posted.leg.record is not None
    assigned = posted.leg.record.ID
    assert assigned is not None and re.fullmatch(r"LA\d{8}", assigned), assigned
    assert legs.find(assigned) is not None
    ordered = relay.command(assigned, Command.ORDER, {}, legs.find, legs.load, AT)
    (item,) = ordered.change.outbox
    sent = isoill.decode(item.data)
    assert isinstance(sent, isoill.ILLRequest)
    assert sent.transaction_id.transaction_group_qualifier == assigned


def test_a_posted_record_typed_full_width_is_made_single_byte_and_noted() -> None:
    relay, legs = Relay(RECORDS), Legs()
    gif = Record.from_json(GIF)
    assert gif.CMMNT is not None
    typed_wide = "".join(chr(ord(c) + 0xFEE0) for c in "MAX-COST=USD35.50")
    full_width = gif.CMMNT.replace("MAX-COST=USD35.50", typed_wide)
    typed = gif.replace(ID="ILL0099", CMMNT=full_width)
    posted = relay.post_record(typed, legs.find, AT)
    assert posted.leg is not None and posted.leg.record is not None
    record = posted.leg.record
    assert record.CMMNT == gif.CMMNT
    assert record.HISTORY[-1].startswith("NFKC ") and "CMMNT" in record.HISTORY[-1]
    plain = relay.post_record(Record.from_json(GIF).replace(ID="ILL0098"), legs.find, AT)
    assert plain.leg is not None and plain.leg.record is not None
    assert not any(line.startswith("NFKC ") for line in plain.leg.record.HISTORY)
