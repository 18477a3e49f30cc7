"""Helpers of the library's tests: a browser without a screen, a reader's form, and a mail
server on loopback that keeps what it is sent."""

from __future__ import annotations

import email
import email.message
import email.policy
import http.cookiejar
import re
import socketserver
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

from tests.gateway.support import GatewayProcess, free_port

#: A reader's request (the Tsinghua form's fields), as the pages and the library API take it.
FORM = {
    "service": "copy",
    "document_type": "journal-article",
    "title": "Interlending & Document Supply",
    "article_title": "Licence to Deny? Publisher Restrictions on Document Delivery",
    "volume_issue": "32(2)",
    "pages": "94-101",
    "year": "2004",
    "issn": "0264-1615",
    "cost_limit": "50",
    "delivery": "email",
    "name": "张三",
    "address": "北京市海淀区清华园1号",
    "postcode": "100084",
    "email": "zhangsan@example.edu.cn",
    "phone": "010-62780000",
}


class Client:
    """A browser without a screen: cookies, forms and their CSRF tokens."""

    def __init__(self, gateway: GatewayProcess) -> None:
        self.base = f"http://127.0.0.1:{gateway.http_port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.page = ""

    def get(self, path: str) -> tuple[int, str, str]:
        return self._open(urllib.request.Request(self.base + path))

    def post(
        self,
        path: str,
        fields: dict[str, str],
        *,
        csrf: bool = True,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, str, str]:
        """Post a form as the last page would: with its CSRF token unless told not to."""
        if csrf and "csrf" not in fields:
            fields = {**fields, "csrf": self.csrf()}
        data = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(
            self.base + path,
            data=data,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", **(headers or {})},
        )
        return self._open(request)

    def _open(self, request: urllib.request.Request) -> tuple[int, str, str]:
        try:
            with self.opener.open(request, timeout=20) as answer:
                self.page = answer.read().decode()
                return answer.status, self.page, answer.url
        except urllib.error.HTTPError as err:
            self.page = err.read().decode()
            return err.code, self.page, err.url

    def csrf(self) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', self.page)
        assert found, "the page has no form"
        return found.group(1)

    def cookie(self, name: str) -> http.cookiejar.Cookie | None:
        return next((c for c in self.jar if c.name == name), None)

    def register(self, library: str, username: str, password: str, **extra: str) -> int:
        self.get(f"/reader/register?library={library}")
        fields = {
            "library": library,
            "username": username,
            "password": password,
            "password2": password,
            "name": extra.pop("name", "王五"),
            "email": extra.pop("email", f"{username}@example.edu.cn"),
            **extra,
        }
        return self.post("/reader/register", fields)[0]

    def log_in(self, area: str, library: str, username: str, password: str) -> tuple[int, str]:
        self.get(f"/{area}/?library={library}")
        status, _page, url = self.post(
            f"/{area}/login", {"library": library, "username": username, "password": password}
        )
        return status, url


class MailSink:
    """An SMTP server on loopback that accepts every mail and keeps it, parsed: what the
    gateway's mail relay is pointed at when a test reads the mails readers get."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[email.message.EmailMessage] = []
        sink = self

        class Session(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                self.wfile.write(b"220 sink ESMTP\r\n")
                while line := self.rfile.readline():
                    verb = line[:4].upper()
                    if verb == b"DATA":
                        self.wfile.write(b"354 go on\r\n")
                        lines = []
                        while (data := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                            lines.append(data[1:] if data.startswith(b"..") else data)
                        parsed = email.message_from_bytes(
                            b"".join(lines), policy=email.policy.default
                        )
                        assert isinstance(parsed, email.message.EmailMessage)
                        sink.mails.append(parsed)
                        self.wfile.write(b"250 kept\r\n")
                    elif verb == b"QUIT":
                        self.wfile.write(b"221 bye\r\n")
                        return
                    else:
                        self.wfile.write(b"250 ok\r\n")

        socketserver.ThreadingTCPServer.allow_reuse_address = True
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", self.port), Session)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def to(self, address: str) -> list[email.message.EmailMessage]:
        """The mails sent to ``address`` so far."""
        return [m for m in self.mails if address in str(m.get("To", ""))]

    @property
    def messages(self) -> list[email.message.EmailMessage]:
        """Every mail kept so far, in the order they came."""
        return self.mails

    def wait(self, count: int, timeout: float = 20) -> list[email.message.EmailMessage]:
        """The first ``count`` mails, once that many have come."""
        end = time.monotonic() + timeout
        while len(self.mails) < count:
            assert time.monotonic() < end, f"{len(self.mails)} of {count} mails came"
            time.sleep(0.05)
        return self.mails[:count]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
