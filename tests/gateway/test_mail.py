"""ISO ILL by e-mail: the MIME wrapping (RFC 2503) and the SMTP halves, on loopback.

The MIME tests are plain functions. The SMTP tests need a running reactor, which pytest
does not give here, so each runs this module as a script in a subprocess
(``python -m tests.gateway.test_mail spec.json``): a real MailServerFactory on a free port,
send_message to it, and a JSON report on stdout of what the server's ``accept`` saw and what
the sender's Deferred said.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from email import message_from_bytes
from email.policy import default
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from twisted.internet.task import Clock
from twisted.python.failure import Failure

import isoill
from isoill.apdu.ber import read_raw_length, read_tag
from isoill.apdu.enums import ILLServiceType, TransactionResults
from isoill.apdu.types import SupplyDetails
from isoill.gateway.mail import (
    MAX_MESSAGE,
    MailAPDUs,
    MailNotSent,
    MailRejected,
    MailServerFactory,
    apdu_message,
    read_apdus,
    send_message,
)
from isoill.testing.strategies import apdus

REPO = Path(__file__).resolve().parents[2]

PEER = "ill@centre.example"
GATEWAY = "ill@fdu.example"
AT = datetime(2024, 3, 5, 14, 30, 0, tzinfo=timezone(timedelta(hours=8)))
CONTENT_TYPE = "application/iso-10161-ill-1; transfer-encoding=iso-8825-ber"

REQUESTER = isoill.SystemId.institution("CALIS:CENTRE")
RESPONDER = isoill.SystemId.institution("CALIS:FDU", "Fudan University Library")


def _tid() -> isoill.TransactionId:
    return isoill.TransactionId(transaction_group_qualifier="G", transaction_qualifier="T1")


def _ids() -> dict[str, Any]:
    return {"transaction_id": _tid(), "requester_id": REQUESTER, "responder_id": RESPONDER}


SAMPLES: list[isoill.APDU] = [
    isoill.ILLRequest(**_ids(), item_id=isoill.ItemId(title="Nature", author="Anon")),
    isoill.ILLAnswer(**_ids(), transaction_results=TransactionResults.WILL_SUPPLY),
    isoill.Shipped(
        **_ids(),
        shipped_service_type=ILLServiceType.COPY_NON_RETURNABLE,
        supply_details=SupplyDetails(date_shipped=date(2024, 3, 4)),
    ),
    isoill.Message(**_ids(), note="请尽快处理 / please hurry"),
    isoill.Cancel(**_ids()),
    isoill.StatusQuery(**_ids()),
]


def mail(data: bytes, **overrides: Any) -> bytes:
    fields: dict[str, Any] = {
        "sender": PEER,
        "recipient": GATEWAY,
        "subject": "ISO ILL ILL-REQUEST G/T1",
        "message_id": "<abc123@centre.example>",
        "at": AT,
        **overrides,
    }
    return apdu_message(data, **fields)


def raw_mail(body: bytes, content_type: str = CONTENT_TYPE, cte: str = "base64") -> bytes:
    """A hand-made single-part mail, for what apdu_message would never write."""
    return (
        f"From: {PEER}\r\nTo: {GATEWAY}\r\nSubject: ISO ILL\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: {content_type}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
    ).encode() + body


def b64(data: bytes) -> bytes:
    return base64.encodebytes(data).replace(b"\n", b"\r\n")


def multipart(*parts: tuple[str, bytes], boundary: str = "=-=ILL=-=") -> bytes:
    """A multipart/mixed mail of (headers, body) parts."""
    out = (
        f"From: {PEER}\r\nTo: {GATEWAY}\r\nSubject: ISO ILL\r\nMIME-Version: 1.0\r\n"
        f'Content-Type: multipart/mixed; boundary="{boundary}"\r\n\r\n'
        "This is an ISO ILL message.\r\n"
    ).encode()
    for headers, body in parts:
        out += f"--{boundary}\r\n{headers}\r\n\r\n".encode() + body + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def apdu_part(data: bytes) -> tuple[str, bytes]:
    return f"Content-Type: {CONTENT_TYPE}\r\nContent-Transfer-Encoding: base64", b64(data)


def text_part(text: str) -> tuple[str, bytes]:
    return "Content-Type: text/plain; charset=us-ascii", text.encode()


def rejected(message: bytes) -> str:
    with pytest.raises(MailRejected) as caught:
        read_apdus(message)
    return caught.value.reason


# --- what apdu_message writes ---------------------------------------------------------------


@pytest.mark.parametrize("apdu", SAMPLES, ids=lambda a: type(a).__name__)
def test_an_apdu_comes_back_from_its_mail(apdu: isoill.APDU) -> None:
    data = isoill.encode(apdu)
    got = read_apdus(mail(data))
    assert got == MailAPDUs(PEER, ((data, apdu),), "<abc123@centre.example>")


@settings(max_examples=60)
@given(apdus())
def test_any_apdu_with_both_ids_round_trips(apdu: isoill.APDU) -> None:
    apdu = dataclasses.replace(apdu, requester_id=REQUESTER, responder_id=RESPONDER)
    data = isoill.encode(apdu)
    ((got_data, got),) = read_apdus(mail(data)).apdus
    assert got_data == data
    assert got == isoill.decode(data)


def test_the_mail_is_rfc_2503_single_part_base64() -> None:
    data = isoill.encode(SAMPLES[0])
    message = mail(data, subject="ISO ILL ILL-REQUEST 借阅")
    head, _, body = message.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    assert b"Content-Type: " + CONTENT_TYPE.encode() in lines
    assert b"Content-Transfer-Encoding: base64" in lines
    assert b"MIME-Version: 1.0" in lines
    assert b"Message-ID: <abc123@centre.example>" in lines
    assert b"Date: Tue, 05 Mar 2024 14:30:00 +0800" in lines
    # SMTP-ready: 7-bit, CRLF only, short lines, ending in CRLF.
    assert message.isascii()
    assert b"\n" not in message.replace(b"\r\n", b"")
    assert b"\r" not in message.replace(b"\r\n", b"")
    assert all(len(line) <= 78 for line in message.split(b"\r\n"))
    assert message.endswith(b"\r\n")
    assert base64.b64decode(body) == data
    parsed = message_from_bytes(message, policy=default)
    assert parsed["From"] == PEER
    assert parsed["To"] == GATEWAY
    assert parsed["Subject"] == "ISO ILL ILL-REQUEST 借阅"
    assert not parsed.is_multipart()


def test_the_same_inputs_make_the_same_bytes() -> None:
    data = isoill.encode(SAMPLES[1])
    assert mail(data) == mail(data)
    assert mail(data, message_id="abc123@centre.example") == mail(data)


def test_a_date_without_a_zone_is_local_time_with_its_offset() -> None:
    naive = datetime(2024, 3, 5, 14, 30, 0)
    parsed = message_from_bytes(mail(b"\x01", at=naive), policy=default)
    assert parsed["Date"].datetime == naive.astimezone()
    parsed = message_from_bytes(mail(b"\x01", at=AT.astimezone(UTC)), policy=default)
    assert parsed["Date"].datetime == AT


def test_no_header_can_be_injected() -> None:
    data = isoill.encode(SAMPLES[0])
    message = mail(data, subject="Hello\r\nBcc: mallory@evil.example\r\n\r\nnot the body")
    parsed = message_from_bytes(message, policy=default)
    assert parsed["Bcc"] is None
    assert parsed["Subject"] == "Hello Bcc: mallory@evil.example not the body"
    assert read_apdus(message).apdus == ((data, SAMPLES[0]),)
    for address in (
        f"{PEER}\r\nBcc: mallory@evil.example",
        f"{PEER}\nBcc: mallory@evil.example",
        f"Eve <{PEER}>",
        f"{PEER}, mallory@evil.example",
        "ill@centre.example\r",
        "",
        "no-at-sign",
    ):
        with pytest.raises(ValueError):
            mail(data, sender=address)
        with pytest.raises(ValueError):
            mail(data, recipient=address)
    for message_id in ("<a@b>\r\nBcc: mallory@evil.example", "no at sign", "<a b@c>", ""):
        with pytest.raises(ValueError):
            mail(data, message_id=message_id)


# --- what read_apdus takes ----------------------------------------------------------------


def test_octet_stream_is_read_as_an_apdu() -> None:
    data = isoill.encode(SAMPLES[3])
    message = raw_mail(b64(data), content_type="application/octet-stream")
    assert read_apdus(message).apdus == ((data, SAMPLES[3]),)


def test_a_missing_transfer_encoding_parameter_and_lf_line_ends_are_taken() -> None:
    data = isoill.encode(SAMPLES[4])
    message = raw_mail(b64(data), content_type="application/iso-10161-ill-1")
    assert read_apdus(message.replace(b"\r\n", b"\n")).apdus == ((data, SAMPLES[4]),)


def test_a_multipart_mail_is_read_past_its_text_and_may_carry_several_apdus() -> None:
    first, second = isoill.encode(SAMPLES[0]), isoill.encode(SAMPLES[5])
    message = multipart(text_part("An ISO ILL request."), apdu_part(first), apdu_part(second))
    got = read_apdus(message)
    assert got.sender == PEER
    assert got.apdus == ((first, SAMPLES[0]), (second, SAMPLES[5]))


def test_the_sender_is_the_from_address_without_its_display_name() -> None:
    message = mail(isoill.encode(SAMPLES[0])).replace(
        f"From: {PEER}".encode(), f'From: "Centre ILL" <{PEER}>'.encode()
    )
    assert read_apdus(message).sender == PEER


def _without(field: str) -> bytes:
    return isoill.encode(dataclasses.replace(SAMPLES[0], **{field: None}))  # type: ignore[arg-type]


GOOD = isoill.encode(SAMPLES[0])
# The codec reads an empty System-Id (YAZ sends one), which names nobody by mail.
EMPTY_ID = isoill.encode(dataclasses.replace(SAMPLES[0], responder_id=isoill.SystemId()))
# A truncated ILL-Request: its own length runs past the end of the data.
TRUNCATED = GOOD[:-5]
# The ILL-Request with its inner SEQUENCE tag made an OCTET STRING's.
_, _LENGTH_AT = read_tag(GOOD, 0)
_, INNER = read_raw_length(GOOD, _LENGTH_AT, True)
BAD_BER = GOOD[:INNER] + b"\x04" + GOOD[INNER + 1 :]


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        (b"", "unparseable mail"),
        (b"\x00\xff garbage without any header\r\n", "unparseable mail"),
        (
            b"From: ill@centre.example\r\nContent-Type: multipart/mixed\r\n\r\nbody\r\n",
            "unparseable mail",
        ),
        (raw_mail(b64(GOOD)).replace(f"From: {PEER}\r\n".encode(), b""), "0 From fields"),
        (raw_mail(b64(GOOD)).replace(b"To:", b"From: other@x.example\r\nTo:"), "2 From fields"),
        (
            raw_mail(b64(GOOD)).replace(f"From: {PEER}".encode(), b"From: <<<>>>;;;"),
            "From must name exactly one address",
        ),
        (raw_mail(b"Hello, please lend me a book.\r\n", "text/plain", "7bit"), "no ISO ILL APDU"),
        (multipart(text_part("only words")), "no ISO ILL APDU"),
        (raw_mail(b64(GOOD + GOOD)), "more than one APDU in one body part"),
        (
            raw_mail(b64(GOOD + b"\x00\x00junk")),
            "6 bytes after the end of the APDU (at byte offset",
        ),
        (raw_mail(b64(GOOD)[:-3] + b"!!\r\n"), "bad base64"),
        (raw_mail(b"MAAAAA\r\n"), "bad base64"),
        (raw_mail(b64(GOOD) + b"==\r\n"), "bad base64"),
        (raw_mail(b"MAAAAA==AA\r\n"), "bad base64"),
        (raw_mail(b64(b"not an APDU")), "does not decode"),
        (raw_mail(b64(TRUNCATED)), "at byte offset"),
        (raw_mail(b64(BAD_BER)), f"at byte offset {INNER})"),
        (raw_mail(b""), "empty"),
        (raw_mail(b64(_without("requester_id"))), "ILL-REQUEST has no requester-id"),
        (raw_mail(b64(_without("responder_id"))), "ILL-REQUEST has no responder-id"),
        (raw_mail(b64(EMPTY_ID)), "has no responder-id"),
        (raw_mail(GOOD, cte="binary"), "must be base64-encoded, not binary"),
        (
            raw_mail(b64(GOOD), "application/iso-10161-ill-1; transfer-encoding=edifact"),
            "transfer-encoding=edifact is not supported",
        ),
        (
            multipart(apdu_part(GOOD), apdu_part(b"\x30\x00")),
            "body part 2: the APDU does not decode",
        ),
        (raw_mail(b"A" * MAX_MESSAGE), "exceeds the limit"),
    ],
    ids=[
        "empty",
        "garbage",
        "multipart-without-boundary",
        "no-from",
        "two-froms",
        "bad-from",
        "text-only",
        "multipart-text-only",
        "two-apdus-one-part",
        "trailing-bytes",
        "bad-base64-character",
        "base64-without-padding",
        "padding-after-full-quantum",
        "base64-after-padding",
        "not-ber",
        "truncated-ber",
        "bad-ber",
        "empty-part",
        "no-requester-id",
        "no-responder-id",
        "empty-responder-id",
        "binary-cte",
        "other-transfer-encoding",
        "one-bad-part-of-two",
        "too-big",
    ],
)
def test_a_mail_the_gateway_cannot_act_on_is_rejected_with_the_reason(
    message: bytes, expected: str
) -> None:
    assert expected in rejected(message)


def test_a_decode_error_names_the_byte_offset_from_the_codec() -> None:
    with pytest.raises(isoill.DecodeError) as codec_error:
        isoill.decode(TRUNCATED)
    assert str(codec_error.value) in rejected(raw_mail(b64(TRUNCATED)))


def test_deep_or_wide_multipart_is_refused_not_walked() -> None:
    deep = raw_mail(b64(GOOD))
    for level in range(12):
        deep = multipart(
            ("Content-Type: " + _content_type(deep), _body(deep)), boundary=f"b{level}"
        )
    assert "nested" in rejected(deep)
    wide = multipart(*[text_part("x")] * 150)
    assert "body parts" in rejected(wide)


def _content_type(message: bytes) -> str:
    parsed = message_from_bytes(message, policy=default)
    return str(parsed["Content-Type"]) + (
        "\r\nContent-Transfer-Encoding: base64" if not parsed.is_multipart() else ""
    )


def _body(message: bytes) -> bytes:
    return message.partition(b"\r\n\r\n")[2]


# --- SMTP on loopback, in a subprocess with a real reactor ----------------------------------


@pytest.mark.parametrize(
    ("endpoint", "sender", "recipients", "helo"),
    [
        ("tcp:host=127.0.0.1:port=25", f"{PEER}\r\nRCPT TO:<x@y.example>", [GATEWAY], "c.example"),
        ("tcp:host=127.0.0.1:port=25", PEER, [""], "c.example"),
        ("tcp:host=127.0.0.1:port=25", PEER, [], "c.example"),
        ("tcp:host=127.0.0.1:port=25", PEER, [GATEWAY], "c.example\r\nRSET"),
        ("tcp:host=127.0.0.1", PEER, [GATEWAY], "c.example"),
        ("nonsense:", PEER, [GATEWAY], "c.example"),
    ],
    ids=[
        "smuggled-command",
        "empty-recipient",
        "no-recipient",
        "bad-helo",
        "no-port",
        "bad-endpoint",
    ],
)
def test_bad_arguments_fail_the_deferred_and_touch_no_network(
    endpoint: str, sender: str, recipients: list[str], helo: str
) -> None:
    outcome: list[Failure] = []
    send_message(Clock(), endpoint, sender, recipients, b"x", helo=helo).addErrback(outcome.append)
    (failure,) = outcome
    assert isinstance(failure.value, MailNotSent)
    assert failure.value.code is None
    assert str(failure.value).startswith("cannot send: ")


def loopback(tmp_path: Path, sends: list[tuple[bytes, list[str]]], **options: Any) -> Any:
    """Run the SMTP scenario in a subprocess; its JSON report."""
    spec = {"sends": [], **options}
    for n, (message, recipients) in enumerate(sends):
        path = tmp_path / f"mail{n}.eml"
        path.write_bytes(message)
        spec["sends"].append({"file": str(path), "recipients": recipients})
    spec_path = tmp_path / "spec.json"
    spec_path.write_text(json.dumps(spec))
    done = subprocess.run(
        [sys.executable, "-m", "tests.gateway.test_mail", str(spec_path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        timeout=60,
        check=False,
    )
    errors = done.stderr.decode(errors="replace")
    assert done.returncode == 0, errors
    assert "Unhandled error" not in errors, errors
    report = json.loads(done.stdout)
    for taken in report["accepted"]:
        taken["raw"] = base64.b64decode(taken["raw"])
    return report


def _big_mail_with_dots(data: bytes) -> bytes:
    """Text with lines a single dot would end, spread over more than one 16 KiB chunk."""
    text = "".join(
        f".line {n}\r\n" if n % 3 == 0 else ("..\r\n" if n % 3 == 1 else ".\r\n")
        for n in range(10000)
    )
    return multipart(text_part(text), apdu_part(data))


def test_a_good_mail_reaches_accept_byte_for_byte(tmp_path: Path) -> None:
    data = isoill.encode(SAMPLES[0])
    simple = mail(data)
    dotted = _big_mail_with_dots(data)
    assert len(dotted) > 3 * 16384
    report = loopback(
        tmp_path,
        [
            (simple, [GATEWAY]),
            (dotted, ["ILL@FDU.example"]),
            (simple.replace(b"\r\n", b"\n"), [GATEWAY]),
        ],
    )
    assert report["results"] == [{"sent": True}] * 3
    first, second, third = report["accepted"]
    assert first == {"from": PEER, "to": [GATEWAY], "raw": simple}
    assert second == {"from": PEER, "to": ["ILL@FDU.example"], "raw": dotted}
    # Line ends are made CRLF on the way, as SMTP wants them.
    assert third["raw"] == simple
    assert read_apdus(second["raw"]).apdus == ((data, SAMPLES[0]),)


def test_a_malformed_apdu_is_refused_with_a_5xx_that_says_why(tmp_path: Path) -> None:
    message = raw_mail(b64(TRUNCATED))
    report = loopback(tmp_path, [(message, [GATEWAY])])
    (result,) = report["results"]
    assert result["code"] == 554
    assert result["permanent"] is True
    assert "the APDU does not decode" in result["reason"]
    assert "at byte offset" in result["reason"]
    # accept saw it (the gateway keeps it in its log) and refused it.
    assert [taken["raw"] for taken in report["accepted"]] == [message]


def test_a_fault_in_the_gateway_is_a_temporary_451(tmp_path: Path) -> None:
    report = loopback(tmp_path, [(mail(GOOD), [GATEWAY])], fault=True)
    (result,) = report["results"]
    assert result["code"] == 451
    assert result["permanent"] is False


def test_an_unknown_recipient_is_refused_550_and_nothing_is_sent(tmp_path: Path) -> None:
    report = loopback(
        tmp_path,
        [
            (mail(GOOD), ["someone@elsewhere.example"]),
            # All or nothing: one refused recipient means the data goes to nobody.
            (mail(GOOD), [GATEWAY, "someone@elsewhere.example"]),
        ],
    )
    for result in report["results"]:
        assert result["code"] == 550
        assert "someone@elsewhere.example" in result["reason"]
    assert report["accepted"] == []


def test_an_oversized_mail_or_line_is_refused_and_not_delivered(tmp_path: Path) -> None:
    line = b"A" * 76 + b"\r\n"
    message = raw_mail(line * (MAX_MESSAGE // len(line) + 1), "text/plain", "7bit")
    endless_line = raw_mail(b"A" * 100_000 + b"\r\n", "text/plain", "7bit")
    report = loopback(
        tmp_path,
        [(message, [GATEWAY]), (endless_line, [GATEWAY]), (mail(GOOD), [GATEWAY])],
    )
    big, long, small = report["results"]
    assert big["code"] == 552
    # A line that never ends is not buffered: 500 and the connection is dropped.
    assert long["code"] == 500
    # The listener goes on taking mail after refusing one.
    assert small == {"sent": True}
    assert [taken["raw"] for taken in report["accepted"]] == [mail(GOOD)]


def test_no_server_is_a_failure_without_a_code(tmp_path: Path) -> None:
    report = loopback(tmp_path, [(mail(GOOD), [GATEWAY])], closed=True)
    (result,) = report["results"]
    assert result["code"] is None
    assert result["permanent"] is False


def _serve(spec: dict[str, Any], report: dict[str, Any]) -> None:
    """The subprocess side of :func:`loopback`: a server and a sender on one reactor."""
    from twisted.internet import defer, task

    from tests.gateway.support import free_port

    def accept(mail_from: str, recipients: list[str], raw: bytes) -> None:
        report["accepted"].append(
            {"from": mail_from, "to": recipients, "raw": base64.b64encode(raw).decode()}
        )
        if spec.get("fault"):
            raise RuntimeError("the store is gone")
        read_apdus(raw)  # what the gateway does; MailRejected goes back to SMTP

    async def run(reactor: Any) -> None:
        factory = MailServerFactory(
            "fdu.example", accept, lambda address: address.lower() == GATEWAY
        )
        if spec.get("closed"):
            port_number, listening = free_port(), None
        else:
            listening = reactor.listenTCP(0, factory, interface="127.0.0.1")
            port_number = listening.getHost().port
        for send in spec["sends"]:
            message = Path(send["file"]).read_bytes()
            try:
                await send_message(
                    reactor,
                    f"tcp:host=127.0.0.1:port={port_number}",
                    PEER,
                    send["recipients"],
                    message,
                    helo="centre.example",
                    timeout=10,
                )
                report["results"].append({"sent": True})
            except MailNotSent as err:
                report["results"].append(
                    {"code": err.code, "reason": err.reason, "permanent": err.permanent}
                )
        if listening is not None:
            await listening.stopListening()

    task.react(lambda reactor: defer.ensureDeferred(run(reactor)))


if __name__ == "__main__":
    _report: dict[str, Any] = {"accepted": [], "results": []}
    try:
        _serve(json.loads(Path(sys.argv[1]).read_text()), _report)
    finally:  # task.react ends the process with SystemExit
        print(json.dumps(_report))
