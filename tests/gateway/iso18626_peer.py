"""An ISO 18626 peer for the tests: an HTTP server that takes the messages the gateway POSTs
(each checked against the schema, as a real peer would) and answers each with its
confirmation, and a client that POSTs messages to the gateway."""

from __future__ import annotations

import queue
import threading
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from isoill import iso18626

#: A gateway between an ISO 10161 network (its peer ``calis`` reached at ``{east_port}``) and
#: an ISO 18626 one (its peer ``lender`` at ``{url}``), for :meth:`str.format`.
BRIDGE = """
[retry]
first = 0.2

[[network]]
name = "east"

[[network]]
name = "reshare"
kind = "iso18626"
path = "/iso18626"

[[peer]]
name = "calis"
network = "east"
symbols = ["CALIS:*"]
connect = "tcp:host=127.0.0.1:port={east_port}"

[[peer]]
name = "lender"
network = "reshare"
symbols = ["ISIL:DK-*"]
url = "{url}"
"""


class Iso18626Peer:
    """Every valid message POSTed to ``url`` lands in ``inbox``; an invalid one is a test
    failure (kept in ``invalid``). ``error`` makes the next answers ERROR confirmations."""

    def __init__(self) -> None:
        self.inbox: queue.Queue[iso18626.Message] = queue.Queue()
        self.invalid: list[tuple[bytes, str]] = []
        self.error: iso18626.ErrorData | None = None
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                now = datetime.now(UTC)
                try:
                    message = iso18626.parse(data)
                except iso18626.MessageError as err:
                    peer.invalid.append((data, str(err)))
                    confirmation = iso18626.refuse(err, now, now)
                else:
                    peer.inbox.put(message)
                    confirmation = iso18626.confirm(message, now, now, peer.error)
                body = iso18626.to_xml(confirmation)
                self.send_response(200)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self.url = f"http://127.0.0.1:{self.port}/iso18626"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def receive(self, timeout: float = 10.0) -> iso18626.Message:
        return self.inbox.get(timeout=timeout)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def post(url: str, data: bytes, timeout: float = 10.0) -> tuple[int, bytes]:
    """POST ``data`` to ``url``: the HTTP status and the body."""
    request = urllib.request.Request(
        url, data=data, method="POST", headers={"Content-Type": "application/xml"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return int(answer.status), bytes(answer.read())
    except urllib.error.HTTPError as err:
        return int(err.code), bytes(err.read())
