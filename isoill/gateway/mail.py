"""ISO ILL by e-mail (store-and-forward): APDUs as MIME messages, sent and received by SMTP.

Two halves, kept apart so the MIME rules can be tested without a network:

* pure functions: :func:`apdu_message` wraps one BER APDU in an RFC 5322 message as RFC 2503
  says (``application/iso-10161-ill-1; transfer-encoding=iso-8825-ber``, base64), and
  :func:`read_apdus` takes a received message apart again, refusing with
  :class:`MailRejected` anything the gateway could not act on;
* Twisted: :func:`send_message` hands a message to an SMTP server, and
  :class:`MailServerFactory` is the SMTP listener that takes mail for the gateway.

The outgoing message is a single part, the APDU being the whole body, rather than a
multipart with a text explanation first:

* RFC 2503 registers the media type for a body, and the IPIG profile's "meaning of a single
  APDU" per message reads most simply as the body being that APDU. An ILL system that reads
  BER-in-MIME may well not walk into a multipart; every MIME reader handles a single part;
* the same outbox item always becomes the same bytes (a multipart needs a boundary, which
  would have to be random or derived), so a retried mail and its log entry compare equal;
* a person who opens the mailbox sees from the Subject what the mail is.

On input both are taken: parts that are not APDUs (a text explanation) are skipped, and
``application/octet-stream`` counts as an APDU part, because that is what a mail client
attaching a ``.ber`` file writes.

Store-and-forward has no association to tell who is speaking, so requester-id and
responder-id are mandatory in every APDU that travels by mail (ISO 10161-1 ASN.1 comments);
an APDU without them is refused rather than guessed at.

Refusals happen at SMTP time: a 5xx after the end of the data makes the sending MTA bounce
the mail to its author, who learns the reason; a fault of the gateway itself is a 451, which
makes the sending MTA keep the mail and try again, so nothing is lost to a gateway bug.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import string
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from email import errors
from email.header import Header
from email.message import EmailMessage, Message
from email.parser import BytesParser
from email.policy import default
from email.utils import format_datetime
from io import BytesIO
from typing import Any

from twisted.internet import defer
from twisted.internet.endpoints import clientFromString
from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.internet.protocol import connectionDone
from twisted.logger import Logger
from twisted.mail.interfaces import IMessageDelivery, IMessageSMTP
from twisted.mail.smtp import (
    ESMTP,
    Address,
    ESMTPClient,
    ESMTPSender,
    ESMTPSenderFactory,
    SMTPBadRcpt,
    SMTPClientError,
    SMTPConnectError,
    SMTPDeliveryError,
    SMTPFactory,
    SMTPServerError,
    User,
)
from twisted.python.failure import Failure
from zope.interface import implementer

from isoill.apdu import APDU, Codec, DecodeError
from isoill.apdu.codec import get_codec
from isoill.apdu.types import SystemId
from isoill.gateway.store import OutboxItem
from isoill.machine.events import SERVICE_NAMES

log = Logger()

#: The largest mail taken or read, in bytes as they come over SMTP. An APDU is a few KiB
#: (the codec refuses more than 1 MiB), so 4 MiB leaves room for several in one mail and
#: for base64's third more, while bounding what one sender can make the gateway hold.
MAX_MESSAGE = 4 * 1024 * 1024

#: RFC 2503's media type and its one legal transfer-encoding.
MEDIA_TYPE = "application/iso-10161-ill-1"
TRANSFER_ENCODING = "iso-8825-ber"
#: Also read as an APDU part (a mail client attaching a file of BER).
OCTET_STREAM = "application/octet-stream"

# Multipart nesting and part count a legitimate ILL mail never comes near; a message built
# to be deep or wide only wastes the parser's time.
_MAX_DEPTH = 8
_MAX_PARTS = 100
# RFC 5321 §4.5.3.1.8: at least 100 recipients must be accepted; more is not ILL mail.
_MAX_RECIPIENTS = 100
# Longest text put after an SMTP reply code (RFC 5321 allows 512 octets per reply line).
_MAX_REPLY = 400
# RFC 5321 §4.5.3.2.7: a server waits at least five minutes for the next command.
_SERVER_TIMEOUT = 300
#: The outbox's pseudo-network of e-mails to people (not ISO ILL mail to peers).
MAIL_NETWORK = "mail"

# A plain ASCII addr-spec: dot-atom local part and a host name. Quoted local parts, domain
# literals, display names and comments are refused: nothing an ILL peer needs, and each is
# a way to smuggle text into a header or an SMTP command.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_ADDRESS = re.compile(
    rf"{_ATOM}(?:\.{_ATOM})*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)
# msg-id (RFC 5322 §3.6.4), the dot-atom form on both sides of the @.
_MESSAGE_ID = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_ATOM}(?:\.{_ATOM})*")
# What may follow HELO/EHLO: a host name or an address literal (RFC 5321 §4.1.1.1).
_HELO = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\]")
_BASE64_ALPHABET = frozenset(string.ascii_letters + string.digits + "+/=")
_BASE64 = re.compile(r"[A-Za-z0-9+/]*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_STRUCTURAL_DEFECTS = (
    errors.MissingHeaderBodySeparatorDefect,
    errors.NoBoundaryInMultipartDefect,
    errors.StartBoundaryNotFoundDefect,
    errors.MultipartInvariantViolationDefect,
)
CRLF = "\r\n"
_LINE_END = re.compile(rb"\r\n|\r|\n")
_DOT_LINE = re.compile(rb"^\.", re.MULTILINE)


def mail_item(recipient: str, message: EmailMessage, purpose: str) -> OutboxItem:
    """An e-mail to a person as an outbox entry, written in the same database transaction
    as the change it reports, so none is lost or sent for a change that did not happen.
    ``purpose`` names the event it reports, so a step decided twice (a Conflict) queues it
    once."""
    data = bytes(message)
    dedup = f"mail|{recipient}|{purpose}"
    return OutboxItem(
        dedup=dedup if len(dedup) < 400 else "mail|" + hashlib.sha256(dedup.encode()).hexdigest(),
        peer=f"mail:{recipient}",
        network=MAIL_NETWORK,
        apdu_type="mail",
        key=purpose[:200],
        data=data,
    )


# --- the pure half ------------------------------------------------------------------------


class MailRejected(Exception):
    """A mail the gateway will not act on; ``reason`` is fit for an SMTP reply and a log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


@dataclass(frozen=True)
class MailAPDUs:
    """What a mail brought: who wrote it and each APDU with its exact bytes (for the log)."""

    sender: str
    apdus: tuple[tuple[bytes, APDU], ...]
    message_id: str | None = None


def apdu_message(
    data: bytes, *, sender: str, recipient: str, subject: str, message_id: str, at: datetime
) -> bytes:
    """One BER APDU as an RFC 5322 message with CRLF line ends, ready for SMTP.

    ``at`` without a time zone is taken as local time (a Date header must carry an offset).
    Line breaks in the subject become spaces (one must not start a header of its own);
    the addresses must be plain ``local@domain`` and the Message-ID ``<left@right>``
    (brackets optional), or this raises ValueError: there is no safe way to mend them.
    """
    headers = [
        f"From: {_plain_address(sender)}\r\n",
        f"To: {_plain_address(recipient)}\r\n",
        _subject(subject),
        f"Date: {format_datetime(at if at.tzinfo is not None else at.astimezone())}\r\n",
        f"Message-ID: {_message_id(message_id)}\r\n",
        "MIME-Version: 1.0\r\n",
        # Written by hand, not by the email package, which would quote the parameter value:
        # equal in MIME, but this is the exact form RFC 2503 shows, for peers that compare
        # the header as a string.
        f"Content-Type: {MEDIA_TYPE}; transfer-encoding={TRANSFER_ENCODING}\r\n",
        "Content-Transfer-Encoding: base64\r\n",
    ]
    return "".join(headers).encode("ascii") + b"\r\n" + _base64_lines(data)


def read_apdus(message: bytes, *, codec: Codec | None = None) -> MailAPDUs:
    """The sender and the APDUs of a received mail, or MailRejected saying what is wrong.

    Every APDU part (``application/iso-10161-ill-1`` or ``application/octet-stream``, at any
    depth of multipart) must hold exactly one APDU that decodes, with nothing after it and
    with requester-id and responder-id present; one bad part refuses the whole mail, since
    acting on half of it would leave the author unsure what was done. Other parts are
    skipped. ``codec`` is the peer's (charset, limits); the default one otherwise.
    """
    if len(message) > MAX_MESSAGE:
        raise MailRejected(f"mail of {len(message)} bytes exceeds the limit of {MAX_MESSAGE}")
    try:
        return _read(message, codec or get_codec())
    except (MailRejected, MemoryError):
        raise
    except Exception as err:
        # Everything here is parsing of the mail, so whatever fails was caused by the mail:
        # the stdlib's header parser has raised plain exceptions on hostile input. A
        # refusal bounces it with a reason; letting it out would be a 451, retried for days.
        raise MailRejected(f"cannot read the mail: {type(err).__name__}: {err}") from err


def _read(message: bytes, codec: Codec) -> MailAPDUs:
    parsed, sender = _parse(message)
    message_id = parsed.get("Message-ID")
    parts = list(_apdu_parts(parsed))
    if not parts:
        raise MailRejected(
            f"no ISO ILL APDU in the mail (expected a {MEDIA_TYPE} or {OCTET_STREAM} part)"
        )
    numbered = len(parts) > 1
    apdus = tuple(
        _read_part(part, f"body part {n}: " if numbered else "", codec)
        for n, part in enumerate(parts, 1)
    )
    return MailAPDUs(sender, apdus, str(message_id).strip() if message_id else None)


def _subject(subject: str) -> str:
    """One Subject field, folded; RFC 2047 words for anything but printable ASCII, and for
    text that a reader would take for RFC 2047 words (``=?``), so it shows as written."""
    text = " ".join(subject.split()) or "ISO ILL"
    plain = all(" " <= c <= "~" for c in text) and "=?" not in text
    encoded = Header(text, "us-ascii" if plain else "utf-8", header_name="Subject")
    return f"Subject: {encoded.encode(linesep=CRLF)}{CRLF}"


def _plain_address(address: str) -> str:
    if not _ADDRESS.fullmatch(address):
        raise ValueError(f"not a plain local@domain e-mail address: {address!r}")
    return address


def _message_id(message_id: str) -> str:
    bare = message_id[1:-1] if message_id[:1] + message_id[-1:] == "<>" else message_id
    if not _MESSAGE_ID.fullmatch(bare):
        raise ValueError(f"not a Message-ID of the form <left@right>: {message_id!r}")
    return f"<{bare}>"


def _base64_lines(data: bytes) -> bytes:
    """base64 in lines of 76 characters, CRLF after each (RFC 2045 §6.8)."""
    text = base64.b64encode(data)
    return b"".join(text[i : i + 76] + b"\r\n" for i in range(0, len(text), 76))


def _parse(message: bytes) -> tuple[Message, str]:
    """The parsed message and its From address.

    The stdlib parser records what it cannot make sense of as defects instead of failing;
    those that leave the structure in doubt refuse the mail, since a body part boundary
    that was guessed may cut an APDU.
    """
    parsed = BytesParser(policy=default).parsebytes(message)
    if not parsed.keys():
        raise MailRejected("unparseable mail: no header fields")
    broken = [
        type(defect).__name__
        for defect in parsed.defects
        if isinstance(defect, _STRUCTURAL_DEFECTS)
    ]
    if broken:
        raise MailRejected(f"unparseable mail: {', '.join(broken)}")
    froms = parsed.get_all("From") or []
    if len(froms) != 1:
        raise MailRejected(f"the mail has {len(froms)} From fields; one is required")
    addresses = [a.addr_spec for a in froms[0].addresses if a.username and a.domain]
    if len(addresses) != 1:
        raise MailRejected(f"From must name exactly one address, not {str(froms[0])!r}")
    return parsed, addresses[0]


def _apdu_parts(message: Message) -> Iterator[Message]:
    """Leaf parts of an APDU media type, depth first, within the nesting and count limits.

    Only multipart/* is walked into: a message/rfc822 part is another mail, with another
    author, and is not this sender's APDU.
    """
    seen = 0
    stack: list[tuple[Message, int]] = [(message, 0)]
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > _MAX_PARTS:
            raise MailRejected(f"unparseable mail: more than {_MAX_PARTS} body parts")
        if part.get_content_maintype() == "multipart":
            if depth >= _MAX_DEPTH:
                raise MailRejected(f"unparseable mail: multipart nested over {_MAX_DEPTH} deep")
            children = part.get_payload()
            if not isinstance(children, list):
                raise MailRejected("unparseable mail: a multipart without parts")
            stack.extend(
                (child, depth + 1) for child in reversed(children) if isinstance(child, Message)
            )
        elif part.get_content_type() in (MEDIA_TYPE, OCTET_STREAM):
            yield part


def _read_part(part: Message, where: str, codec: Codec) -> tuple[bytes, APDU]:
    if part.get_content_type() == MEDIA_TYPE:
        encoding = part.get_param("transfer-encoding")
        # RFC 2503 makes the parameter required, but its only legal value leaves nothing to
        # guess when it is missing, so only a different value is refused.
        if encoding is not None and str(encoding).lower() != TRANSFER_ENCODING:
            raise MailRejected(
                f"{where}transfer-encoding={encoding} is not supported (only {TRANSFER_ENCODING})"
            )
    cte = str(part.get("Content-Transfer-Encoding", "7bit")).strip().lower()
    if cte != "base64":
        # Binary BER survives SMTP only as base64 (RFC 2045); a part in 7bit or 8bit may
        # have had line ends rewritten on the way, so its bytes cannot be trusted.
        raise MailRejected(f"{where}the APDU must be base64-encoded, not {cte}")
    data = _strict_base64(part.get_payload(decode=False), where)
    if not data:
        raise MailRejected(f"{where}the APDU part is empty")
    try:
        apdu, end = codec.decode_prefix(data)
    except DecodeError as err:
        raise MailRejected(f"{where}the APDU does not decode: {err}") from err
    if end != len(data):
        raise MailRejected(_after_apdu(data, end, where, codec))
    name = SERVICE_NAMES[apdu.apdu_type]
    for field, value in (
        ("requester-id", apdu.requester_id),
        ("responder-id", apdu.responder_id),
    ):
        if not _identifies(value):
            raise MailRejected(
                f"{where}{name} has no {field}, which store-and-forward makes mandatory"
            )
    return data, apdu


def _strict_base64(payload: object, where: str) -> bytes:
    """base64 with nothing but line breaks and spaces tolerated: a stray character means
    the body was damaged, and a lenient decoder would hand BER with a hole in it on."""
    if not isinstance(payload, str):
        raise MailRejected(f"{where}unparseable APDU part")
    compact = "".join(payload.split())
    # binascii's strict mode still lets padding follow a complete quantum ("AAAA==").
    if len(compact) % 4 or not _BASE64.fullmatch(compact):
        stray = next((c for c in compact if c not in _BASE64_ALPHABET), None)
        detail = f"character {stray!r}" if stray is not None else "bad padding or length"
        raise MailRejected(f"{where}bad base64 in the APDU part: {detail}")
    return binascii.a2b_base64(compact.encode("ascii"), strict_mode=True)


def _after_apdu(data: bytes, end: int, where: str, codec: Codec) -> str:
    """Why bytes follow the APDU: a second APDU, or rubbish."""
    try:
        codec.decode_prefix(data, end)
    except DecodeError:
        return f"{where}{len(data) - end} bytes after the end of the APDU (at byte offset {end})"
    return (
        f"{where}more than one APDU in one body part (a second starts at byte offset {end}); "
        "send one APDU per body part"
    )


def _identifies(system: SystemId | None) -> bool:
    # The codec takes an empty System-Id (YAZ sends one); by mail it would name nobody.
    return system is not None and (
        system.person_or_institution_symbol is not None
        or system.name_of_person_or_institution is not None
    )


# --- sending -------------------------------------------------------------------------------


class MailNotSent(Exception):
    """SMTP did not take the mail. ``code`` is the server's reply code, None when there was
    no reply (no connection, a time-out); ``permanent`` (5xx) means retrying will not help."""

    def __init__(self, reason: str, code: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code

    @property
    def permanent(self) -> bool:
        return self.code is not None and 500 <= self.code < 600

    def __str__(self) -> str:
        return self.reason if self.code is None else f"{self.code} {self.reason}"


def send_message(
    reactor: IReactorTime,
    endpoint: str,
    sender: str,
    recipients: Sequence[str],
    message: bytes,
    *,
    helo: str,
    timeout: float = 30,
) -> defer.Deferred[None]:
    """Give ``message`` to the SMTP server at ``endpoint`` (``tcp:host=…:port=…``).

    Fires with None once the server has taken responsibility for the mail (250 after the
    data); fails with :class:`MailNotSent` otherwise. All or nothing: if any recipient is
    refused, no data is sent, so a caller that retries cannot deliver twice to the others.
    ``timeout`` bounds the connection attempt and each wait for a server reply. Line ends
    are made CRLF whatever they were. Nothing is retried here: the caller's outbox owns the
    retry schedule. Bad arguments fail the Deferred rather than raise, so that a caller
    treats them like any other undeliverable mail.
    """
    try:
        for address in (sender, *recipients):
            _plain_address(address)
        if not recipients:
            raise ValueError("no recipients")
        if not _HELO.fullmatch(helo):
            raise ValueError(f"not a host name to greet with: {helo!r}")
        # A description missing a part (no port) is a TypeError from the endpoint class.
        client = clientFromString(reactor, endpoint)
    except (ValueError, TypeError) as err:
        return defer.fail(MailNotSent(f"cannot send: {err}"))

    sent: defer.Deferred[Any] = defer.Deferred()
    factory = _SenderFactory(sender, list(recipients), _wire(message), sent, helo, timeout)

    def not_connected(failure: Failure) -> None:
        if not factory.sendFinished:
            factory.sendFinished = True
            sent.errback(failure)

    connecting = client.connect(factory)
    connecting.addTimeout(timeout, reactor)
    connecting.addErrback(not_connected)
    return sent.addCallbacks(lambda _: None, _not_sent)


def _wire(message: bytes) -> bytes:
    """The message as it goes after DATA: CRLF line ends, ending in one, dots doubled.

    Done here on the whole message, not by Twisted's client, which transforms each 16 KiB
    chunk on its own: it turns CRLF into CRCRLF and misses a dot that starts a chunk.
    """
    if not message:
        return b""
    lines = _LINE_END.sub(b"\r\n", message)
    if not lines.endswith(b"\r\n"):
        lines += b"\r\n"
    return _DOT_LINE.sub(b"..", lines)


def _not_sent(failure: Failure) -> Failure:
    err = failure.value
    if isinstance(err, MailNotSent):
        return failure
    if isinstance(err, SMTPClientError):
        reply = err.resp.decode("utf-8", "replace") if isinstance(err.resp, bytes) else err.resp
        reason = " ".join(str(reply).split()) or type(err).__name__
        return Failure(MailNotSent(reason, err.code if err.code > 0 else None))
    if isinstance(err, defer.CancelledError | defer.TimeoutError):
        return Failure(MailNotSent("timed out connecting to the SMTP server"))
    return Failure(MailNotSent(f"{type(err).__name__}: {err}"))


class _Sender(ESMTPSender):
    """Twisted's sender, changed where a gateway needs it to be stricter."""

    def transformChunk(self, chunk: bytes) -> bytes:
        # Already CRLF and dot-stuffed by _wire.
        self.resetTimeout()
        return chunk

    def smtpState_toOrData(self, code: int, resp: bytes) -> None:
        # Twisted sends the data if any recipient was accepted; a refused one fails the
        # whole send before DATA instead, so that nothing went anywhere.
        if self.lastAddress is not None and not 200 <= code < 300:
            address = self.lastAddress.decode("ascii", "replace")
            reply = resp.decode("utf-8", "replace")
            self.sendError(SMTPDeliveryError(code, f"{reply} (recipient <{address}>)".encode()))
            return
        super().smtpState_toOrData(code, resp)

    def sendError(self, exc: Exception) -> None:
        # After the outcome is known (a server that refused a line and hung up while the
        # data was still going out), Twisted would report the broken transfer a second time,
        # to a Deferred it has already let go of; only the connection is closed then.
        if self.factory.sendFinished:
            ESMTPClient.sendError(self, exc)
            return
        super().sendError(exc)

    def timeoutConnection(self) -> None:
        # Twisted fails the send, then says QUIT and waits for a reply that a hung server
        # never sends, keeping the connection for ever.
        super().timeoutConnection()
        self.transport.abortConnection()  # type: ignore[union-attr]

    def connectionLost(self, reason: Failure = connectionDone) -> None:
        # Through an endpoint the factory hears nothing of a lost connection, so a server
        # that hangs up mid-conversation would leave the Deferred waiting for ever.
        super().connectionLost(reason)
        factory = self.factory
        if not factory.sendFinished:
            factory.sendFinished = True
            factory.result.errback(
                SMTPConnectError(-1, f"connection lost: {reason.getErrorMessage()}".encode())
            )


class _SenderFactory(ESMTPSenderFactory):
    protocol = _Sender

    def __init__(
        self,
        sender: str,
        recipients: list[str],
        data: bytes,
        result: defer.Deferred[Any],
        helo: str,
        timeout: float,
    ) -> None:
        super().__init__(
            None,
            None,
            sender,
            recipients,
            BytesIO(data),
            result,
            retries=0,
            timeout=timeout,
            heloFallback=True,
            requireAuthentication=False,
            requireTransportSecurity=False,
        )
        self.domain = helo.encode("ascii")


# --- receiving -----------------------------------------------------------------------------


class _Server(ESMTP):
    noisy = False
    timeout = _SERVER_TIMEOUT
    max_size = MAX_MESSAGE

    def extensions(self) -> dict[bytes, list[bytes] | None]:
        # SIZE (RFC 1870) lets a sending MTA refuse an oversized mail before sending it.
        found: dict[bytes, list[bytes] | None] = super().extensions()
        found[b"SIZE"] = [str(self.max_size).encode()]
        return found

    def lineLengthExceeded(self, line: bytes) -> None:
        # Twisted answers 500 and reads on, buffering a line that never ends without bound
        # and then taking the rest of the data for commands; hang up instead.
        self.sendCode(500, b"Line too long")
        self.transport.loseConnection()  # type: ignore[union-attr]

    def _messageHandled(self, resultList: object) -> None:
        # Twisted answers 550 to any failure; the code a failure carries is used instead,
        # so that a gateway fault is a 451 (retry) and only a refusal is permanent.
        failures = (
            [result for ok, result in resultList if not ok] if isinstance(resultList, list) else []
        )
        if not failures:
            self.sendCode(250, b"Message accepted")
            return
        err = failures[0].value
        if isinstance(err, SMTPServerError):
            resp = err.resp if isinstance(err.resp, bytes) else str(err.resp).encode()
            self.sendCode(err.code, _reply_text(resp.decode("ascii", "replace")))
        else:
            self.sendCode(451, b"Local error; try again later")


class MailServerFactory(SMTPFactory):
    """The gateway's SMTP listener: takes mail for its own addresses, nothing else.

    ``addresses(address)`` says whether a RCPT is taken (others get 550: no relaying).
    Each message, up to ``max_size`` bytes (more gets 552 and is not delivered), goes to
    ``accept(mail_from, recipients, raw)`` once, whatever the number of recipients, with the
    bytes as they came (CRLF line ends, dots unstuffed, no Received field added).
    ``accept`` raising :class:`MailRejected` is answered 554 with its reason (the sending MTA
    bounces the mail to its author); raising anything else is answered 451 (the sending MTA
    keeps the mail and tries again later).
    """

    protocol = _Server

    def __init__(
        self,
        domain: str,
        accept: Callable[[str, list[str], bytes], None],
        addresses: Callable[[str], bool],
        *,
        max_size: int = MAX_MESSAGE,
    ) -> None:
        super().__init__()
        self.domain = domain.encode("idna")
        self.accept = accept
        self.addresses = addresses
        self.max_size = max_size

    def buildProtocol(self, addr: IAddress | None) -> _Server:
        server: _Server = super().buildProtocol(addr)
        server.delivery = _Delivery(self)
        server.max_size = self.max_size
        return server


@implementer(IMessageDelivery)
class _Delivery:
    """One connection's mail transactions; a MAIL command starts a new envelope."""

    def __init__(self, factory: MailServerFactory) -> None:
        self.factory = factory
        self.envelope: _Envelope | None = None

    def receivedHeader(
        self, helo: tuple[bytes, bytes], origin: Address, recipients: list[User]
    ) -> None:
        # The gateway is the mail's last stop, and its log keeps the mail as the peer sent it.
        return None

    def validateFrom(self, helo: tuple[bytes, bytes], origin: Address) -> Address:
        self.envelope = _Envelope(self.factory, str(origin))
        return origin

    def validateTo(self, user: User) -> Callable[[], IMessageSMTP]:
        envelope = self.envelope
        if envelope is None:  # Twisted asks for MAIL first; kept for a type checker
            raise SMTPServerError(503, "Must have sender before recipient")
        address = str(user.dest)
        if not self.factory.addresses(address):
            raise SMTPBadRcpt(user, resp="No such mailbox here; this server does not relay")
        if len(envelope.recipients) >= _MAX_RECIPIENTS:
            raise SMTPServerError(452, "Too many recipients")
        envelope.recipients.append(address)
        return envelope.message


class _Envelope:
    """One mail transaction. Twisted makes a message object per recipient; only the first
    collects and delivers, so ``accept`` sees the mail once with all its recipients."""

    def __init__(self, factory: MailServerFactory, mail_from: str) -> None:
        self.factory = factory
        self.mail_from = mail_from
        self.recipients: list[str] = []
        self._collecting = False

    def message(self) -> IMessageSMTP:
        if self._collecting:
            return _Copy()
        self._collecting = True
        return _Collector(self)


@implementer(IMessageSMTP)
class _Collector:
    def __init__(self, envelope: _Envelope) -> None:
        self.envelope = envelope
        self.limit = envelope.factory.max_size
        self.lines: list[bytes] = []
        self.size = 0

    def lineReceived(self, line: bytes) -> None:
        self.size += len(line) + 2
        if self.size > self.limit:
            self.lines = []
            # Twisted answers this after the end of the data and delivers nothing.
            raise SMTPServerError(552, f"Message exceeds the limit of {self.limit} bytes".encode())
        self.lines.append(line)

    def eomReceived(self) -> defer.Deferred[None]:
        raw = b"".join(line + b"\r\n" for line in self.lines)
        self.lines = []
        envelope = self.envelope
        try:
            envelope.factory.accept(envelope.mail_from, list(envelope.recipients), raw)
        except MailRejected as rejected:
            return defer.fail(SMTPServerError(554, _reply_text(rejected.reason)))
        except Exception:
            log.failure("cannot take mail from {sender}", sender=envelope.mail_from)
            return defer.fail(SMTPServerError(451, b"Local error; try again later"))
        return defer.succeed(None)

    def connectionLost(self) -> None:
        self.lines = []


@implementer(IMessageSMTP)
class _Copy:
    """Another recipient's view of a message the collector already delivers."""

    def lineReceived(self, line: bytes) -> None:
        pass

    def eomReceived(self) -> defer.Deferred[None]:
        return defer.succeed(None)

    def connectionLost(self) -> None:
        pass


def _reply_text(reason: str) -> bytes:
    """A reason as one printable ASCII line of an SMTP reply, cut to a safe length."""
    text = " ".join(reason.split()).encode("ascii", "backslashreplace")
    text = bytes(c if 0x20 <= c < 0x7F else 0x3F for c in text)
    return text if len(text) <= _MAX_REPLY else text[: _MAX_REPLY - 3] + b"..."
