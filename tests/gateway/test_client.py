"""``isoill send`` gives up after ``--timeout`` seconds in all, on a silent peer and on one
that trickles bytes of an answer that never completes."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import pytest

import isoill
from isoill.cli import main
from isoill.demo import gif_copy_request


class StallingPeer:
    """Accepts one association and never completes an answer: silent, or sending the start
    of an indefinite-length APDU and then one octet every ``trickle`` seconds."""

    def __init__(self, trickle: float | None) -> None:
        self.trickle = trickle
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn, _ = self.sock.accept()
        with conn:
            if self.trickle is not None:
                conn.sendall(b"\x61\x80")  # an ILL-Request of indefinite length begins
            while not self.done.wait(self.trickle or 0.05):
                if self.trickle is not None:
                    try:
                        conn.sendall(b"\x04")  # never a whole TLV: 04 04 04 ...
                    except OSError:
                        return

    def close(self) -> None:
        self.done.set()
        self.thread.join(5)
        self.sock.close()


@pytest.fixture
def request_file(tmp_path: Path) -> Path:
    path = tmp_path / "request.json"
    path.write_text(json.dumps(isoill.to_json(gif_copy_request())))
    return path


@pytest.mark.parametrize("trickle", [None, 0.05], ids=["silent", "trickling"])
def test_send_gives_up_after_its_timeout(
    trickle: float | None, request_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    peer = StallingPeer(trickle)
    try:
        started = time.monotonic()
        to = f"127.0.0.1:{peer.port}"
        code = main(["send", "--timeout", "0.5", "--to", to, str(request_file)])
        elapsed = time.monotonic() - started
    finally:
        peer.close()
    assert code == 3
    assert f"127.0.0.1:{peer.port}: no answer within 0.5 s" in capsys.readouterr().err
    # The whole exchange is bounded, not each read: a trickle every 50 ms would otherwise
    # keep a per-read timeout from ever firing.
    assert elapsed < 5


def test_the_default_timeout_is_ten_seconds() -> None:
    from isoill.cli import build_parser

    args = build_parser().parse_args(["send", "--to", "h:1", "f.json"])
    assert args.timeout == 10.0
