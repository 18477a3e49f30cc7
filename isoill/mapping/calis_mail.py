"""The e-mails of a CALIS reader gateway, in Chinese first and then English, or (``lang``
``"zh"``, what a CALIS library's readers and staff read) in Chinese alone.

Four kinds, all plain text in UTF-8 so that any mail reader shows them:

* :func:`request_mail`: CALIS's e-mail mode (Email模式, ill-systems.md §3.2). The library runs
  no ILL system; the reader's request goes to its ILL staff as a mail they key in by hand, so
  every filled field is there with the form's own Chinese label and an English one, and
  Reply-To is the reader, whom staff will have questions for.
* :func:`reader_notice`: what became of a request (shipped, not supplied, cancelled), with
  every reason given (when a rota runs out, each supplier's) and the total fee in yuan. CALIS
  suppliers e-mail the reader themselves when they cannot supply; the gateway does the same.
* :func:`cancel_unanswered_notice`: tells a library's ILL staff that a supplier has not
  answered a reader's Cancel in time, for them to take it up.
* :func:`account_notice`: a registering reader's account is waiting for staff, or confirmed
  (the registration steps of the CCC guide).

Headers are built from data a reader typed, so each value is made one line before it is set:
a name with a line break in it must not become a second header (a Bcc to someone else). The
addresses themselves must be plain ``local@domain``; anything else is a ValueError, since
mail to a malformed address would go nowhere or somewhere unintended.

Message-ID is derived from the content, not drawn at random: the gateway may decide the same
step twice (a conflict between two writers) and must then produce the same message.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime
from enum import StrEnum
from typing import Literal

from isoill.mapping.reader_form import (
    CURRENCY,
    FIELD_LABELS,
    VALUE_LABELS,
    ReaderForm,
    is_email,
)
from isoill.multilingual import in_lang

#: ``both``: Chinese, then English; ``zh``: Chinese alone.
MailLang = Literal["both", "zh"]

__all__ = [
    "OUTCOMES",
    "account_notice",
    "cancel_unanswered_notice",
    "reader_notice",
    "request_mail",
]

#: What :func:`reader_notice` can report: (subject in Chinese, in English).
OUTCOMES: dict[str, tuple[str, str]] = {
    "shipped": ("已运送", "shipped"),
    "not-supplied": ("无法满足", "could not be supplied"),
    "cancelled": ("已取消", "cancelled"),
    "cancel-unanswered": ("取消未获提供馆答复", "cancel not answered by the supplier"),
    "expired": ("已过有效时间, 自动结束", "ended: not handled by its valid-until date"),
    "conditional": ("等待您确认费用", "awaits your answer on the fee"),
    "recall": ("被召回, 请尽快归还", "recalled: please return it soon"),
    "overdue": ("已超过归还日期", "overdue"),
}

# The form's sections as the Tsinghua page groups them: (Chinese, English, fields).
_SECTIONS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("申请信息", "Request", ("service", "document_type")),
    (
        "文献信息",
        "Document",
        (
            "title",
            "author",
            "article_title",
            "volume_issue",
            "edition",
            "place",
            "publisher",
            "year",
            "pages",
            "issn",
            "isbn",
            "doi",
            "calis_oid",
            "language",
        ),
    ),
    (
        "馆际互借信息",
        "Interlibrary loan",
        ("valid_until", "delivery", "cost_limit", "urgency", "reference", "holding_library"),
    ),
    ("用户信息", "Reader", ("name", "address", "postcode", "email", "phone", "fax", "notes")),
)
RULE = "-" * 60
_INDENT = "    "


# --- the mails ---------------------------------------------------------------------------------


def request_mail(
    form: ReaderForm,
    *,
    number: int | None,
    library: str,
    sender: str,
    recipient: str,
    at: datetime,
    lang: MailLang = "both",
) -> EmailMessage:
    """The reader's request as a mail to ``library``'s ILL staff at ``recipient``, from the
    gateway's ``sender`` address, submitted at ``at``. ``number``: the gateway's request
    number, when it keeps one. Reply-To is the reader (when the form has a usable address)."""
    library = one_line(library)
    numbered = f" {number}" if number is not None else ""
    zh = [
        f"{library} 馆际互借员:",
        "",
        f"读者通过馆际互借读者网关提交了下列馆际互借申请{numbered}。",
        "请手工登记用户信息和文献信息, 决定发往哪个图书馆, 收到文献后转交读者并与读者结算。",
        "直接回复本邮件即可联系读者。",
        f"提交时间: {_when(at)}",
        "",
    ]
    en = [
        f"To the interlibrary loan staff of {library}:",
        "",
        f"A reader sent the interlibrary loan request{numbered} above through the reader gateway.",
        "Please record the reader's and the document's details by hand, decide which library "
        "to ask, pass the document on to the reader and settle with them.",
        "Reply to this message to reach the reader.",
        f"Submitted: {_when(at)}",
    ]
    body = [*zh, *_form_lines(form, lang), "", RULE, *en]
    subject = f"读者馆际互借申请{numbered} / Interlibrary loan request from a reader{numbered}"
    if lang == "zh":
        body, subject = [*zh, *_form_lines(form, lang)], f"读者馆际互借申请{numbered}"
    title = one_line(form.article_title or form.title, limit=60)
    return _message(
        subject=subject + (f": {title}" if title else ""),
        sender=sender,
        sender_name=library,
        recipient=recipient,
        reply_to=form.email if is_email(form.email) else None,
        reply_to_name=form.name,
        at=at,
        body=body,
        automatic=False,
    )


def reader_notice(
    form: ReaderForm,
    *,
    number: int,
    library: str,
    sender: str,
    recipient: str,
    outcome: str,
    reasons: Sequence[str] = (),
    total_cost: Decimal | None = None,
    rush_fee: Decimal | None = None,
    payee: str = "",
    at: datetime,
    lang: MailLang = "both",
) -> EmailMessage:
    """Tells the reader at ``recipient`` what became of their request: ``outcome`` is one of
    :data:`OUTCOMES`; every one of ``reasons`` is listed (why it was not supplied, or a
    note); ``total_cost`` is the fee in yuan, to be paid to ``payee``'s ILL office (by
    default ``library``'s: a CALIS centre's reader pays their own member library), with the
    ``rush_fee`` of an urgent request on top ("加急: 用户选择加急处理, 需自付费用"), named on
    its own line of a shipped mail and added to what the reader pays.
    ``number`` is the reader's request number, 0 when the sender does not know it (a
    supplying library answers for a request it got from another library), in which case the
    mail names the document only."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    library = one_line(library)
    name = one_line(form.name)
    zh_what, en_what = OUTCOMES[outcome]
    numbered = f" {number}" if number > 0 else ""
    zh_numbered = f"{numbered} " if numbered else ""
    document = _document(form)
    zh = [
        f"{name} 您好:" if name else "您好:",
        "",
        {
            "shipped": f"您的馆际互借申请{zh_numbered}的文献已运送。",
            "not-supplied": f"很遗憾。您的馆际互借申请{zh_numbered}无法满足。",
            "cancelled": f"您的馆际互借申请{zh_numbered}已取消。",
            "cancel-unanswered": f"您的馆际互借申请{zh_numbered}已请求取消, 但文献提供馆在期限内"
            "未答复。本馆馆际互借员将与其联系; 在其答复之前, 文献仍可能被运送。",
            "expired": f"您的馆际互借申请{zh_numbered}超过有效时间仍未能满足, 申请已自动结束。",
            "conditional": f"文献提供馆对您的馆际互借申请{zh_numbered}提出了条件 (如费用超过"
            "您的费用限制)。请登录读者网关, 在该申请的页面上接受或拒绝。",
            "recall": f"文献提供馆召回了您的馆际互借申请{zh_numbered}借出的文献, 请尽快归还。",
            "overdue": f"您的馆际互借申请{zh_numbered}借出的文献已超过归还日期,"
            " 请尽快归还或申请续借。",
        }[outcome],
        f"文献: {document}",
    ]
    en = [
        f"Dear {name}," if name else "Dear reader,",
        "",
        {
            "shipped": f"The document of your interlibrary loan request{numbered} has been "
            "shipped.",
            "not-supplied": f"We are sorry: your interlibrary loan request{numbered} could not "
            "be supplied.",
            "cancelled": f"Your interlibrary loan request{numbered} has been cancelled.",
            "cancel-unanswered": f"The supplier was asked to cancel your interlibrary loan"
            f" request{numbered}, but has not answered in time. The library's ILL staff will"
            " take it up with the supplier; until it answers, the document may still be shipped.",
            "expired": f"Your interlibrary loan request{numbered} was not filled by the date"
            " you gave as its limit, and has ended.",
            "conditional": f"The supplier of your interlibrary loan request{numbered} asks you"
            " to accept its conditions (such as a fee above your cost limit): log in and accept"
            " or decline them on the request's page.",
            "recall": f"The supplier has recalled the loan of your interlibrary loan"
            f" request{numbered}: please return it soon.",
            "overdue": f"The loan of your interlibrary loan request{numbered} is overdue:"
            " please return it, or ask for a renewal.",
        }[outcome],
        f"Document: {document}",
    ]
    if form.reference:
        zh.append(f"用户参考号: {one_line(form.reference)}")
        en.append(f"Your reference: {one_line(form.reference)}")
    cleaned = [r for r in reasons if one_line(r)]
    if cleaned:
        zh.append("原因:" if outcome != "shipped" else "说明:")
        en.append("Reasons:" if outcome != "shipped" else "Notes:")
        zh.extend(f"{_INDENT}- {one_line(in_lang(reason, 'zh'))}" for reason in cleaned)
        en.extend(f"{_INDENT}- {one_line(in_lang(reason, 'en'))}" for reason in cleaned)
    rush = rush_fee if outcome == "shipped" and rush_fee else None
    if total_cost is not None or rush is not None:
        fee = total_cost or Decimal(0)
        if total_cost is not None:
            zh.append(f"总费用: {_fee(total_cost)} 元")
            en.append(f"Total fee: {CURRENCY} {_fee(total_cost)}")
        if rush is not None:
            fee += rush
            zh.extend([f"加急费: {_fee(rush)} 元", f"应付合计: {_fee(fee)} 元"])
            en.extend([f"Rush fee: {CURRENCY} {_fee(rush)}", f"To pay: {CURRENCY} {_fee(fee)}"])
        if outcome == "shipped" and fee > 0:
            quote_zh = f"并注明申请号{numbered}" if numbered else ""
            quote_en = f", quoting request number{numbered}" if numbered else ""
            payee = one_line(payee) or library
            zh.append(f"请按本馆规定将费用付给{payee}馆际互借处{quote_zh}。")
            en.append(f"Please pay the interlibrary loan office of {payee}{quote_en}.")
    body = [*zh, "", library, "", RULE, *en, "", library]
    subject = f"馆际互借申请{zh_numbered}{zh_what} / Interlibrary loan request{numbered} {en_what}"
    if lang == "zh":
        body, subject = [*zh, "", library], f"馆际互借申请{zh_numbered}{zh_what}"
    return notice(subject, library, sender, recipient, at, body)


def cancel_unanswered_notice(
    form: ReaderForm,
    *,
    number: int,
    supplier: str,
    within: tuple[str, str],
    library: str,
    sender: str,
    recipient: str,
    at: datetime,
    lang: MailLang = "both",
) -> EmailMessage:
    """Tells the library's ILL staff at ``recipient`` that ``supplier`` has not answered the
    Cancel of request ``number`` within the time ``within`` says (Chinese, English): only
    they can take it up with the supplier, and the reader, told too, waits for them."""
    library, supplier = one_line(library), one_line(supplier)
    document = _document(form)
    reader = f"{one_line(form.name)} <{one_line(form.email)}>"
    zh = [
        f"读者申请 {number} 已向 {supplier} 请求取消, {within[0]}内未获答复。"
        "请与该馆联系: 在其答复之前, 文献仍可能被运送。",
        f"文献: {document}",
        f"读者: {reader}",
    ]
    en = [
        f"{supplier} has not answered the cancel of request {number} within {within[1]}."
        " Please take it up with the supplier: until it answers, it may still ship.",
        f"Document: {document}",
        f"Reader: {reader}",
    ]
    zh_subject = f"申请 {number} 的取消未获答复"
    if lang == "zh":
        return notice(zh_subject, library, sender, recipient, at, zh)
    subject = f"{zh_subject} / No answer to the cancel of request {number}"
    return notice(subject, library, sender, recipient, at, [*zh, "", RULE, *en])


def account_notice(
    *,
    name: str,
    username: str,
    library: str,
    sender: str,
    recipient: str,
    confirmed: bool,
    at: datetime,
    lang: MailLang = "both",
) -> EmailMessage:
    """Tells a reader who registered ``username`` at ``library``'s gateway that the account
    waits for staff to check it (``confirmed`` False) or may now be used."""
    library, name, username = one_line(library), one_line(name), one_line(username)
    greeting_zh = f"{name} 您好:" if name else "您好:"
    greeting_en = f"Dear {name}," if name else "Dear reader,"
    if confirmed:
        subject = "馆际互借帐户已确认 / Interlibrary loan account confirmed"
        zh = [
            f"您在{library}馆际互借系统注册的帐户 (用户名 {username}) 已确认。",
            "现在可以登录馆际互借系统提交馆际互借申请了。",
        ]
        en = [
            f"Your account at the interlibrary loan system of {library} (user name {username}) "
            "has been confirmed.",
            "You can now log in and send interlibrary loan requests.",
        ]
    else:
        subject = "馆际互借帐户注册信息已提交 / Interlibrary loan account registration received"
        zh = [
            f"您在{library}馆际互借系统注册帐户 (用户名 {username}) 的信息已提交成功。",
            "管理员核对您填写的信息后会发确认邮件给您。收到确认邮件后即可登录提交申请。",
        ]
        en = [
            f"Your registration at the interlibrary loan system of {library} (user name "
            f"{username}) has been received.",
            "Staff will check the details you gave and send you a confirmation; after that you "
            "can log in and send requests.",
        ]
    body = [greeting_zh, "", *zh, "", library, "", RULE, greeting_en, "", *en, "", library]
    if lang == "zh":
        body, subject = [greeting_zh, "", *zh, "", library], subject.partition(" / ")[0]
    return notice(subject, library, sender, recipient, at, body)


# --- building ----------------------------------------------------------------------------------


def notice(
    subject: str, library: str, sender: str, recipient: str, at: datetime, body: list[str]
) -> EmailMessage:
    """An automatic notice from a library's ILL office, which nobody should answer."""
    return _message(
        subject=subject,
        sender=sender,
        sender_name=library,
        recipient=recipient,
        reply_to=None,
        reply_to_name="",
        at=at,
        body=body,
        automatic=True,
    )


def _message(
    *,
    subject: str,
    sender: str,
    sender_name: str,
    recipient: str,
    reply_to: str | None,
    reply_to_name: str,
    at: datetime,
    body: list[str],
    automatic: bool,
) -> EmailMessage:
    text = "\n".join(_body_line(line) for line in body) + "\n"
    message = EmailMessage(policy=SMTP)
    message["Subject"] = one_line(subject, limit=200)
    message["From"] = _address(sender, sender_name, "sender")
    # The bare address: the name greets the reader in the text, where it cannot break a header.
    message["To"] = _address(recipient, "", "recipient")
    if reply_to is not None:
        message["Reply-To"] = _address(reply_to, reply_to_name, "reply-to")
    message["Date"] = format_datetime(at)
    digest = hashlib.sha256(
        "\0".join((sender, recipient, at.isoformat(), subject, text)).encode("utf-8")
    ).hexdigest()[:32]
    message["Message-ID"] = f"<{digest}@{sender.rpartition('@')[2]}>"
    if automatic:
        # RFC 3834: vacation responders must not answer a notice.
        message["Auto-Submitted"] = "auto-generated"
    message.set_content(text, charset="utf-8")
    return message


# The gateway's own and its staff's addresses: as a reader's (is_email), but a domain without
# a dot is allowed, since a test or a site's internal mail may use ``ill@localhost``.
_PLAIN_ADDRESS = re.compile(
    r"[A-Za-z0-9_%+\-]+(?:\.[A-Za-z0-9_%+\-]+)*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)*"
)


def _address(address: str, display_name: str, role: str) -> Address:
    """``address`` with ``display_name`` as one header-safe Address; ValueError when the
    address is not a plain one."""
    if not (is_email(address) or (len(address) <= 254 and _PLAIN_ADDRESS.fullmatch(address))):
        raise ValueError(f"{role} {address!r} is not a plain e-mail address (local@domain)")
    return Address(display_name=one_line(display_name, limit=100), addr_spec=address)


def one_line(text: str, *, limit: int = 500) -> str:
    """``text`` as one line for a header or a list item: line breaks, tabs and other control
    or separator characters become single spaces; cut at ``limit`` characters."""
    cleaned = "".join(
        " " if unicodedata.category(c) in ("Cc", "Cs", "Zl", "Zp") or c.isspace() else c
        for c in text
    )
    line = " ".join(cleaned.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _body_line(line: str) -> str:
    """A body line without stray carriage returns or control characters (a lone CR in a
    stored field would break the line in some readers)."""
    return "".join(
        c for c in line if c == "\t" or unicodedata.category(c) not in ("Cc", "Cs", "Zl", "Zp")
    )


def _when(at: datetime) -> str:
    return at.strftime("%Y-%m-%d %H:%M")


def _fee(amount: Decimal) -> str:
    return f"{amount:.2f}"


def _document(form: ReaderForm) -> str:
    """The document in one line: article, journal or book, volume, pages."""
    parts = [form.article_title, form.title, form.volume_issue, form.year, form.pages]
    return one_line(", ".join(p for p in parts if p), limit=300) or "-"


def _value_lines(name: str, value: object, lang: MailLang) -> list[str]:
    if isinstance(value, StrEnum):
        zh, en = VALUE_LABELS.get(value, (value.value, value.value))
        return [zh if lang == "zh" else f"{zh} / {en}"]
    if isinstance(value, date):
        return [value.isoformat()]
    if isinstance(value, Decimal):
        if lang == "zh":
            return [f"{format(value, 'f')} 元"]
        return [f"{format(value, 'f')} 元 / {CURRENCY} {format(value, 'f')}"]
    text = str(value)
    if name not in ("address", "notes"):
        return [one_line(text)]
    return [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]


def _form_lines(form: ReaderForm, lang: MailLang) -> list[str]:
    """Every filled field of ``form`` under its section, labelled in both languages (or in
    Chinese)."""
    values = {f.name: getattr(form, f.name) for f in dataclasses.fields(form)}
    lines: list[str] = []
    for zh, en, names in _SECTIONS:
        filled = [n for n in names if values[n] not in ("", None)]
        if not filled:
            continue
        lines.append(f"[{zh}]" if lang == "zh" else f"[{zh} / {en}]")
        for name in filled:
            label_zh, label_en = FIELD_LABELS[name]
            label = label_zh if label_zh == label_en else f"{label_zh} / {label_en}"
            if lang == "zh":
                label = label_zh
            first, *more = _value_lines(name, values[name], lang)
            lines.append(f"{label}: {first}")
            lines.extend(f"{_INDENT}{line}" for line in more)
        lines.append("")
    return lines[:-1] if lines else lines
