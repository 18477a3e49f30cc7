"""yaz-illclient, YAZ's real ISO ILL client, against isoill over TCP on loopback.

yaz-illclient sends one ILL-Request and waits for one Status-Or-Error-Report: "Ok" and exit
0 for a report without an error, exit 7 for an error report, exit 6 for anything it cannot
read. Our replies must also avoid YAZ's HTTP sniffing (four printable first octets)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from datetime import date
from pathlib import Path

import pytest

import isoill

CLIENT = shutil.which("yaz-illclient")
HOLD_SECONDS = 2.0


pytestmark = pytest.mark.yaz


class OneShotPeer:
    """Accepts one association, reads one APDU, answers with ``reply(request)``, then keeps
    the connection open until the client closes it (or HOLD_SECONDS pass), as a long-lived
    ILL peer would: YAZ must not need the close to see the reply."""

    def __init__(self, reply: object, tcp_safe: bool = True) -> None:
        self.reply = reply
        self.tcp_safe = tcp_safe
        self.received: list[object] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            conn.settimeout(HOLD_SECONDS)
            decoder = isoill.StreamDecoder()
            while not self.received:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                self.received.extend(decoder.feed(chunk))
            answer = self.reply(self.received[0])
            conn.sendall(isoill.encode(answer, tcp_safe=self.tcp_safe))
            deadline = time.monotonic() + HOLD_SECONDS
            try:
                while time.monotonic() < deadline and conn.recv(4096):
                    pass
            except OSError:
                pass
        self.sock.close()


PARAMETERS = """\
# yaz-illclient parameters: key=value, the key a comma-separated path of field names
ill,protocol-version-num=2
ill,requester-id,person-or-institution-symbol,institution=NACSIS:FA001234
ill,responder-id,person-or-institution-symbol,institution=OCLC:XYZ
ill,ill-service-type=2
ill,item-id,title=Interlending & Document Supply
ill,item-id,verification-reference-source=isoill tests
"""


def _run_client(port: int, workdir: Path, parameters: bool = True) -> tuple[int, str, float]:
    args = [str(CLIENT)]
    if parameters:
        (workdir / "ill-params.txt").write_text(PARAMETERS)
        args += ["-f", "ill-params.txt"]
    start = time.monotonic()
    done = subprocess.run(
        [*args, f"127.0.0.1:{port}"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - start


def _status_report(request: object) -> isoill.StatusOrErrorReport:
    """What OCLC's service answered an accepted ILL-Request with."""
    assert isinstance(request, isoill.ILLRequest), request
    return isoill.StatusOrErrorReport(
        transaction_id=request.transaction_id,
        requester_id=request.requester_id,
        responder_id=request.responder_id,
        status_report=isoill.StatusReport(
            user_status_report=isoill.HistoryReport(
                date_of_last_transition=date.today(),
                most_recent_service=isoill.MostRecentService.ILL_REQUEST,
                date_of_most_recent_service=date.today(),
                initiator_of_most_recent_service=request.requester_id or isoill.SystemId(),
            ),
            provider_status_report=isoill.CurrentState.PENDING,
        ),
    )


def test_yaz_illclient_accepts_our_status_report(tmp_path: Path) -> None:
    peer = OneShotPeer(_status_report)
    code, output, elapsed = _run_client(peer.port, tmp_path)
    assert code == 0, output
    assert "Ok" in output
    assert elapsed < HOLD_SECONDS  # answered at once, not when the connection closed
    (request,) = peer.received
    assert isinstance(request, isoill.ILLRequest)
    assert request.ill_service_type == (isoill.ILLServiceType.COPY_NON_RETURNABLE,)
    assert request.requester_id == isoill.SystemId.institution("NACSIS:FA001234")
    assert request.responder_id == isoill.SystemId.institution("OCLC:XYZ")
    assert request.item_id.title == "Interlending & Document Supply"
    # yaz-illclient keeps the request it sent: decoding it gives the same APDU we read
    assert isoill.decode((tmp_path / "req.apdu").read_bytes()) == request


def test_yaz_illclient_reports_our_error_report(tmp_path: Path) -> None:
    def refuse(request: object) -> isoill.StatusOrErrorReport:
        assert isinstance(request, isoill.ILLRequest)
        return isoill.StatusOrErrorReport(
            transaction_id=request.transaction_id,
            error_report=isoill.ErrorReport(
                correlation_information="ILL-REQUEST 20000101",
                report_source=isoill.ReportSource.PROVIDER,
                provider_error_report=isoill.StateTransitionProhibited(
                    apdu_type=isoill.ILLAPDUType.ILL_REQUEST,
                    current_state=isoill.CurrentState.PENDING,
                ),
            ),
            note="duplicate request: transaction already pending",
        )

    peer = OneShotPeer(refuse)
    code, output, _ = _run_client(peer.port, tmp_path)
    assert code == 7, output
    assert "duplicate request: transaction already pending" in output


def test_short_reply_with_printable_start_stalls_yaz_unless_tcp_safe(tmp_path: Path) -> None:
    """The reason for the tcp_safe rule: YAZ's comstack takes 's#0!' for HTTP."""

    def tiny(request: object) -> isoill.StatusOrErrorReport:
        return isoill.StatusOrErrorReport(
            transaction_id=isoill.TransactionId(
                transaction_group_qualifier="", transaction_qualifier=""
            ),
            service_date_time=isoill.ServiceDateTime(
                date_time_of_this_service=isoill.DateTimeOfService(date=date(2026, 1, 1))
            ),
            reason_no_report=isoill.ReasonNoReport.TEMPORARY,
            note="no report",
        )

    probe = tiny(
        isoill.ILLRequest(
            transaction_id=isoill.TransactionId(
                transaction_group_qualifier="", transaction_qualifier=""
            ),
            item_id=isoill.ItemId(),
        )
    )
    assert all(0x20 <= b <= 0x7E for b in isoill.encode(probe, tcp_safe=False)[:4])

    unsafe = OneShotPeer(tiny, tcp_safe=False)
    code, output, elapsed = _run_client(unsafe.port, tmp_path)
    assert elapsed >= HOLD_SECONDS * 0.9, "YAZ read the reply before the close"

    safe = OneShotPeer(tiny, tcp_safe=True)
    code, output, elapsed = _run_client(safe.port, tmp_path)
    assert code == 0, output
    assert elapsed < HOLD_SECONDS


def test_yaz_illclient_without_parameters_gets_a_clear_refusal(tmp_path: Path) -> None:
    """Without a parameter file yaz-illclient sends zeros where enumerations belong
    (transaction-type 0): the APDU is delimited but invalid, so the peer can still answer
    with a provider error report that names the problem, and the client prints it."""

    def badly_structured(item: object) -> isoill.StatusOrErrorReport:
        assert isinstance(item, isoill.UndecodableAPDU), item
        assert item.error.path == ["ILL-Request", "transaction-type"]
        return isoill.StatusOrErrorReport(
            transaction_id=isoill.TransactionId(
                transaction_group_qualifier="", transaction_qualifier=""
            ),
            error_report=isoill.ErrorReport(
                correlation_information="ILL-REQUEST",
                report_source=isoill.ReportSource.PROVIDER,
                provider_error_report=isoill.GeneralProblem.BADLY_STRUCTURED_APDU,
            ),
            note=str(item.error),
        )

    peer = OneShotPeer(badly_structured)
    code, output, _ = _run_client(peer.port, tmp_path, parameters=False)
    assert code == 7, output
    assert "transaction-type: 0 is not a TransactionType" in output
