"""``isoill send``: one APDU to an ISO ILL peer, and the answer, like yaz-illclient.

A blocking socket is all a one-shot client needs; the answer is read through the same
stream decoder the gateway uses, so an answer split across reads or sent with indefinite
lengths is read whole.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

from isoill.apdu import APDU, StreamDecoder, UndecodableAPDU, decode, encode, from_json
from isoill.apdu.apdus import StatusOrErrorReport


class SendError(Exception):
    """The APDU could not be sent or no answer came."""


def read_apdu_file(path: str | Path) -> APDU:
    """An APDU from a ``.json`` file (isoill's JSON form) or BER bytes (anything else)."""
    path = Path(path)
    data = path.read_bytes()
    if path.suffix.lower() == ".json":
        return from_json(json.loads(data.decode("utf-8")))
    return decode(data)


#: Seconds ``send`` waits for the whole answer unless told otherwise.
DEFAULT_TIMEOUT = 10.0


def send(host: str, port: int, apdu: APDU, timeout: float = DEFAULT_TIMEOUT) -> APDU:
    """Send ``apdu`` and wait for one APDU in answer, ``timeout`` seconds in all.

    The timeout bounds the whole exchange (connecting, sending, every read), not each socket
    call: a peer that trickles a byte now and then must not hold the client for ever.
    """
    decoder = StreamDecoder()
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        return left

    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(remaining())
            sock.sendall(encode(apdu, tcp_safe=True))
            while True:
                sock.settimeout(remaining())
                chunk = sock.recv(65536)
                if not chunk:
                    decoder.close()
                    raise SendError("the peer closed the connection without answering")
                for item in decoder.feed(chunk):
                    if isinstance(item, UndecodableAPDU):
                        raise SendError(f"the answer could not be decoded: {item.error}")
                    return item
    except TimeoutError as err:
        raise SendError(f"{host}:{port}: no answer within {timeout:g} s (--timeout)") from err
    except OSError as err:
        raise SendError(f"{host}:{port}: {err.strerror or err}") from err


def is_error(answer: APDU) -> bool:
    return isinstance(answer, StatusOrErrorReport) and answer.error_report is not None
