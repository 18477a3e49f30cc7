"""An association's sans-I/O connection, driven with bytes alone: no reactor, no socket."""

from __future__ import annotations

import pytest

import isoill
from isoill.apdu import UndecodableAPDU
from isoill.gateway.connection import Connection, Received, Unframed
from isoill.gateway.relay import Sender
from tests.gateway.wiring import ask, undecodable

SIZE = 1 << 20
ONE = isoill.encode(ask("C1"))
TWO = isoill.encode(ask("C2"))
THREE = isoill.encode(ask("C3"))


def _frames(events: list[Received | Unframed]) -> list[bytes]:
    return [e.frame for e in events if isinstance(e, Received)]


def _answered(connection: Connection, answers: dict[int, bytes]) -> bytes:
    """What goes out as ``answers`` come (in the dict's order); the connection must be
    closing but close only after the last of them."""
    out = b""
    for ticket, data in answers.items():
        assert connection.closing and not connection.should_close
        out += connection.answer(ticket, data)
    assert connection.should_close
    return out


def test_an_apdu_split_across_reads_comes_out_whole_once_complete() -> None:
    connection = Connection(SIZE)
    assert connection.receive(ONE[:3]) == []
    assert connection.partial
    assert connection.receive(ONE[3:50]) == []
    (event,) = connection.receive(ONE[50:])
    assert isinstance(event, Received) and event.ticket == 0
    assert event.frame == ONE and event.item == ask("C1")
    assert not connection.partial and connection.owed == 1


def test_apdus_batched_in_one_read_each_take_a_ticket_in_order() -> None:
    connection = Connection(SIZE)
    events = connection.receive(ONE + TWO + THREE[:10])
    assert [e.ticket for e in events] == [0, 1]
    assert _frames(events) == [ONE, TWO]
    assert connection.partial
    (last,) = connection.receive(THREE[10:])
    assert isinstance(last, Received) and (last.ticket, last.frame) == (2, THREE)


def test_answers_go_out_in_arrival_order_whichever_commit_finishes_first() -> None:
    connection = Connection(SIZE)
    connection.receive(ONE + TWO + THREE)
    assert connection.answer(2, b"third") == b""
    assert connection.answer(1, None) == b""  # no answer of its own, still waits for 0
    assert connection.owed == 3
    assert connection.answer(0, b"first") == b"firstthird"
    assert connection.owed == 0


def test_each_ticket_is_answered_once() -> None:
    connection = Connection(SIZE)
    connection.receive(ONE + TWO)
    assert connection.answer(1, b"second") == b""
    assert connection.answer(1, b"again") == b""
    assert connection.answer(0, b"first") == b"firstsecond"
    assert connection.answer(0, b"late") == b""
    assert connection.answer(7, b"never issued") == b""
    assert connection.owed == 0


def test_too_many_answers_owed_hold_reading_until_half_are_written() -> None:
    connection = Connection(SIZE, max_owed=4)
    connection.receive(ONE * 3)
    assert not connection.held
    connection.receive(ONE)
    assert connection.held and connection.owed == 4
    connection.answer(0, b"a")
    connection.answer(1, b"b")
    assert connection.held  # two owed: not yet under half
    connection.answer(2, b"c")
    assert not connection.held and connection.owed == 1


def test_a_well_delimited_undecodable_apdu_is_answered_and_the_connection_goes_on() -> None:
    connection = Connection(SIZE)
    bad = undecodable()
    event, good = connection.receive(bad + ONE)
    assert isinstance(event, Received) and isinstance(event.item, UndecodableAPDU)
    assert event.frame == bad and isinstance(good, Received) and good.item == ask("C1")
    assert not connection.closing


def test_bytes_out_of_step_after_good_apdus_come_after_them_and_close_once_answered() -> None:
    connection = Connection(SIZE)
    junk = b"\x47junk that is no APDU"
    first, second, broken = connection.receive(ONE + TWO + junk)
    assert _frames([first, second]) == [ONE, TWO]
    assert isinstance(broken, Unframed) and broken.ticket == 2
    assert broken.data == ONE + TWO + junk
    assert _answered(connection, {2: b"report", 0: b"ack0", 1: b"ack1"}) == b"ack0ack1report"


def test_the_stream_stays_out_of_step() -> None:
    connection = Connection(SIZE)
    connection.receive(b"\x47junk")
    (again,) = connection.receive(ONE)
    assert isinstance(again, Unframed) and "out of step" in str(again.error)
    assert again.ticket == 1


def test_a_length_past_the_size_limit_is_out_of_step_before_it_is_waited_for() -> None:
    connection = Connection(100)
    (event,) = connection.receive(b"\x61\x84\xff\xff\xff\xff")
    assert isinstance(event, Unframed) and connection.closing


def test_half_close_then_answers_then_close() -> None:
    connection = Connection(SIZE)
    connection.receive(ONE + TWO)
    assert connection.end_of_input() == []
    assert _answered(connection, {0: b"one", 1: b"two"}) == b"onetwo"


def test_an_apdu_cut_off_by_the_half_close_is_owed_a_report() -> None:
    connection = Connection(SIZE)
    assert _frames(connection.receive(ONE + TWO[:-10])) == [ONE]
    (cut,) = connection.end_of_input()
    assert isinstance(cut, Unframed) and cut.ticket == 1 and cut.data == b""
    assert "inside an APDU" in str(cut.error)
    assert _answered(connection, {0: b"ack", 1: b"report"}) == b"ackreport"


def test_nothing_owed_a_half_close_closes_at_once() -> None:
    connection = Connection(SIZE)
    assert not connection.should_close
    connection.end_of_input()
    assert connection.should_close


def test_the_peer_served_is_learned_once() -> None:
    connection = Connection(SIZE, ("east-lib", "west-lib"))
    connection.address = "192.0.2.1"
    assert connection.sender == Sender("192.0.2.1", ("east-lib", "west-lib"))
    assert connection.serves == frozenset()  # allowed, not yet seen sending
    assert connection.serve("east-lib")
    assert not connection.serve("east-lib")
    assert connection.serves == {"east-lib"}


@pytest.mark.parametrize("kept", [True, False])
def test_a_kept_association_serves_its_peer_from_the_start(kept: bool) -> None:
    connection = Connection(SIZE, ("west-lib",), kept=kept)
    assert connection.serves == ({"west-lib"} if kept else set())
    assert connection.serve("west-lib") is not kept
