"""The reader's request form of a CALIS library's reader gateway (the Tsinghua form).

A reader asks for a document by filling one form: what (service, document type, the
bibliographic fields, identifiers), how (delivery method, urgency, how long the request is
valid, the most the reader will pay) and who (name, addresses, contacts). The gateway keeps the
form as typed, because staff and reader must see what the reader wrote; the ILL-Request sent
for it is derived from it (:func:`to_request`), and an ILL-Request from another library is
shown to staff as the same form (:func:`from_request`).

:func:`read_form` is the only way a form gets in from outside. It reports every problem at
once, each led by the field's name, because the page marks the fields and a reader who is told
one mistake per submission gives up. Text is not restricted to single-byte characters (Chinese
titles and names are the normal case, unlike NACSIS's rule N-8), but every field is bounded so
that a hostile post cannot make the gateway store or relay megabytes, and control characters
are refused because the fields end up in e-mail headers and ILL-Strings.

The ILL-Request mapping (ill-systems.md §3.3, where the project chose):

===================  ==========================================================================
form                 ILL-Request
===================  ==========================================================================
service              iLL-service-type: copy -> copy-non-returnable, loan -> loan
document_type        item-id.item-type: journal-article -> serial, book -> monograph, the rest
                     -> other (which one goes in the requester-note, see below: the IPIG
                     request extension 13.9 that has a material type is not typed here)
author               item-id.author-of-article when an article title is given, else author
title .. pages       item-id.title, volume-issue, edition, title-of-article,
                     place-of-publication, publisher, publication-date (and
                     publication-date-of-component when an article title is given), pagination
issn                 item-id.iSSN, 8 characters without the hyphen
isbn                 item-id.iSBN when it is an ISBN-10 or a 978 ISBN-13 (converted: iSBN is
                     SIZE(10)); an ISBN-13 also as ``isbn:<13 digits>`` in
                     additional-no-letters, so that the reader's number comes back as typed
doi                  item-id.additional-no-letters ``doi:<doi>`` (space-separated from the ISBN)
calis_oid            item-id.system-no: the LAC System-Number EXTERNAL, system other, record
                     number ``CALIS:<oid>``
valid_until          search-type.expiry-flag other-date, expiry-date
urgency              search-type.level-of-service ``N`` (normal) or ``U`` (urgent)
delivery             delivery-service: e-mail -> electronic-delivery "e-mail" to the reader's
                     address (SMTP); the others -> physical-delivery text (:data:`SHIP_VIA`)
cost_limit           cost-info-type.maximum-cost in CNY
reference            client-id.client-identifier
name                 client-id.client-name
address, postcode,   delivery-address (postal-address: name, extended-postal-delivery-address,
email                postal-code; electronic-address: SMTP, e-mail) when the supplier delivers
                     to the reader (CALIS central mode); otherwise the requesting library's
                     own address is its business and no delivery-address is sent
phone, fax, notes,   requester-note, after the caller's note and `` / ``:
language,            ``电话/phone: ...; 传真/fax: ...; 电子信箱/e-mail: ...; 语种/language: ...;
holding_library,     文献类型/document-type: ...; 收藏馆/holding-library: ...; 备注/notes: ...``
document_type,       (only what is filled; e-mail only when nothing else carries it, the
email                document type only when item-type cannot tell it). Readable by staff of
                     any system, and parseable because only the notes, which come last, may
                     contain ``;``
===================  ==========================================================================

:func:`from_request` reads that back. ``from_request(to_request(form, ...)) == form`` for every
form :func:`read_form` accepts, with one exception by design: without ``deliver_to_reader``
the reader's address and postcode are not sent (the supplier ships to the library) and come
back empty. The caller's own requester-note is not part of the form and is dropped; it must
not itself hold a reader's part (a note copied from another such request), or that part is
the one read.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, TypeVar

from isoill.apdu.apdus import ILLRequest
from isoill.apdu.enums import (
    ExpiryFlag,
    ILLServiceType,
    ItemType,
    LACSystem,
    MessageRequirement,
    Preference,
)
from isoill.apdu.types import (
    Amount,
    ClientId,
    CostInfoType,
    DeliveryAddress,
    DeliveryService,
    ElectronicDeliveryService,
    ItemId,
    PersonName,
    PostalAddress,
    RequesterOptionalMessagesType,
    SearchType,
    SendToListEntry,
    SystemAddress,
    SystemId,
    SystemNo,
    SystemNoEntry,
    ThirdPartyInfoType,
    TransactionId,
)
from isoill.errors import IsoillError
from isoill.machine.reports import service_date_time
from isoill.mapping.check_digits import isbn10_check, isbn13_check, issn_check
from isoill.multilingual import Said

__all__ = [
    "CALIS_PREFIX",
    "CURRENCY",
    "FIELD_LABELS",
    "LANGUAGE_NAMES",
    "LIMITS",
    "MAX_LENGTH",
    "REQUIRED",
    "SHIP_VIA",
    "VALUE_LABELS",
    "Delivery",
    "DocumentType",
    "FormError",
    "ReaderForm",
    "ServiceType",
    "Urgency",
    "from_request",
    "is_email",
    "isbn10_to_13",
    "isbn13_to_10",
    "normalise_doi",
    "normalise_isbn",
    "normalise_issn",
    "read_form",
    "to_fields",
    "to_request",
]


class FormError(IsoillError, ValueError):
    """A form that cannot be accepted; ``reasons`` lists every problem, each naming its
    field (the form's field name, so a page can mark it)."""


class ServiceType(StrEnum):
    """服务方式."""

    COPY = "copy"  # 复制(非返还)
    LOAN = "loan"  # 借调(返还)


class DocumentType(StrEnum):
    """文献类型."""

    JOURNAL_ARTICLE = "journal-article"  # 期刊论文
    BOOK = "book"  # 图书
    THESIS = "thesis"  # 学位论文
    CONFERENCE_PAPER = "conference-paper"  # 会议论文
    REPORT = "report"  # 科技报告
    PATENT = "patent"  # 专利
    STANDARD = "standard"  # 标准
    OTHER = "other"  # 其他


class Delivery(StrEnum):
    """文献传递方式."""

    EMAIL = "email"  # 电子邮件
    POST = "post"  # 平信/挂号
    EXPRESS = "express"  # 快递
    FAX = "fax"  # 传真
    PICKUP = "pickup"  # 自取


class Urgency(StrEnum):
    """急迫程度: urgent costs the reader a rush fee."""

    NORMAL = "normal"  # 普通
    URGENT = "urgent"  # 加急


@dataclass(frozen=True, kw_only=True)
class ReaderForm:
    """One reader's request as typed on the form. Text fields hold what the reader wrote
    (stripped); empty means not given."""

    service: ServiceType
    document_type: DocumentType
    title: str  # 出版物名称 *
    author: str = ""  # 作者
    volume_issue: str = ""  # 卷期号
    edition: str = ""  # 版本信息
    article_title: str = ""  # 文章名称
    place: str = ""  # 出版地
    publisher: str = ""  # 出版者
    year: str = ""  # 出版年
    pages: str = ""  # 页码信息
    issn: str = ""
    isbn: str = ""
    doi: str = ""
    calis_oid: str = ""
    language: str = ""  # 语种: an ISO 639-2 code (eng, chi, jpn ...)
    valid_until: date | None = None  # 有效时间
    delivery: Delivery = Delivery.EMAIL  # 文献传递方式
    cost_limit: Decimal = Decimal(0)  # 费用限制 (CNY) *
    urgency: Urgency = Urgency.NORMAL  # 急迫程度
    reference: str = ""  # 用户参考号, at most 50 characters
    holding_library: str = ""  # 收藏馆名称: a library symbol the reader chose
    name: str = ""  # 姓名 *
    address: str = ""  # 通信地址, at most 100 characters
    postcode: str = ""  # 邮政编码
    email: str = ""  # 电子信箱 *
    phone: str = ""  # 电话号码 *
    fax: str = ""  # 传真号码
    notes: str = ""  # 备注

    def to_json(self) -> dict[str, Any]:
        value: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, date):
                v = v.isoformat()
            elif isinstance(v, Decimal):
                v = str(v)
            value[f.name] = v
        return value

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> ReaderForm:
        known = {f.name for f in dataclasses.fields(cls)}
        args = {k: v for k, v in value.items() if k in known}
        args["service"] = ServiceType(args["service"])
        args["document_type"] = DocumentType(args["document_type"])
        if "delivery" in args:
            args["delivery"] = Delivery(args["delivery"])
        if "urgency" in args:
            args["urgency"] = Urgency(args["urgency"])
        if args.get("cost_limit") is not None:
            args["cost_limit"] = Decimal(str(args["cost_limit"]))
        if args.get("valid_until"):
            args["valid_until"] = date.fromisoformat(args["valid_until"])
        return cls(**args)


# --- labels ----------------------------------------------------------------------------------

#: Each field's label on the Tsinghua form and in English, for pages and mails that staff and
#: readers of either language read.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "service": ("服务方式", "Service"),
    "document_type": ("文献类型", "Document type"),
    "title": ("出版物名称", "Publication title"),
    "author": ("作者", "Author"),
    "volume_issue": ("卷期号", "Volume and issue"),
    "edition": ("版本信息", "Edition"),
    "article_title": ("文章名称", "Article title"),
    "place": ("出版地", "Place of publication"),
    "publisher": ("出版者", "Publisher"),
    "year": ("出版年", "Year of publication"),
    "pages": ("页码信息", "Pages"),
    "issn": ("ISSN", "ISSN"),
    "isbn": ("ISBN", "ISBN"),
    "doi": ("DOI", "DOI"),
    "calis_oid": ("CALIS-OID", "CALIS-OID"),
    "language": ("语种", "Language"),
    "valid_until": ("有效时间", "Valid until"),
    "delivery": ("文献传递方式", "Delivery"),
    "cost_limit": ("费用限制", "Cost limit"),
    "urgency": ("急迫程度", "Urgency"),
    "reference": ("用户参考号", "Your reference"),
    "holding_library": ("收藏馆名称", "Holding library"),
    "name": ("姓名", "Name"),
    "address": ("通信地址", "Postal address"),
    "postcode": ("邮政编码", "Postcode"),
    "email": ("电子信箱", "E-mail"),
    "phone": ("电话号码", "Phone"),
    "fax": ("传真号码", "Fax"),
    "notes": ("备注", "Notes"),
}

#: Each enum value's words in Chinese and English.
VALUE_LABELS: dict[StrEnum, tuple[str, str]] = {
    ServiceType.COPY: ("复制(非返还)", "copy (non-returnable)"),
    ServiceType.LOAN: ("借调(返还)", "loan (returnable)"),
    DocumentType.JOURNAL_ARTICLE: ("期刊论文", "journal article"),
    DocumentType.BOOK: ("图书", "book"),
    DocumentType.THESIS: ("学位论文", "thesis"),
    DocumentType.CONFERENCE_PAPER: ("会议论文", "conference paper"),
    DocumentType.REPORT: ("科技报告", "technical report"),
    DocumentType.PATENT: ("专利", "patent"),
    DocumentType.STANDARD: ("标准", "standard"),
    DocumentType.OTHER: ("其他", "other"),
    Delivery.EMAIL: ("电子邮件", "e-mail"),
    Delivery.POST: ("邮寄", "post"),
    Delivery.EXPRESS: ("快递", "express"),
    Delivery.FAX: ("传真", "fax"),
    Delivery.PICKUP: ("自取", "collect in person"),
    Urgency.NORMAL: ("普通", "normal"),
    Urgency.URGENT: ("加急", "urgent (rush fee)"),
}

#: Language names readers type instead of a code, read as the ISO 639-2 code.
LANGUAGE_NAMES: dict[str, str] = {
    "英语": "eng",
    "英文": "eng",
    "english": "eng",
    "中文": "chi",
    "汉语": "chi",
    "chinese": "chi",
    "日语": "jpn",
    "日文": "jpn",
    "japanese": "jpn",
    "俄语": "rus",
    "俄文": "rus",
    "russian": "rus",
    "德语": "ger",
    "德文": "ger",
    "german": "ger",
    "法语": "fre",
    "法文": "fre",
    "french": "fre",
    "韩语": "kor",
    "朝鲜语": "kor",
    "korean": "kor",
}

# --- limits ----------------------------------------------------------------------------------

#: Fields a form cannot go without (the form's asterisks, plus what a request needs).
REQUIRED = ("service", "document_type", "title", "cost_limit", "name", "email", "phone")
#: The most any field may hold, in characters.
MAX_LENGTH = 500
#: Tighter bounds: the form's own (reference 50, address 100), what the wire allows (a CALIS
#: OID must fit a 50-character record number after ``CALIS:``) and what is plausible.
LIMITS: dict[str, int] = {
    "reference": 50,
    "address": 100,
    "name": 100,
    "postcode": 20,
    "phone": 50,
    "fax": 50,
    "email": 254,
    "doi": 200,
    "calis_oid": 44,
    "holding_library": 100,
}
# Fields typed in a text area: line breaks are content there, control characters elsewhere.
_MULTILINE = frozenset({"address", "notes"})

#: The currency of the form's cost limit and of every fee it talks about.
CURRENCY = "CNY"
# The most an ISO Amount can say: monetary-value is at most ten characters.
_MAX_COST = Decimal("9999999.99")

#: delivery -> physical-delivery text. E-mail is an electronic delivery instead.
SHIP_VIA: dict[Delivery, str] = {
    Delivery.POST: "Post",
    Delivery.EXPRESS: "Express mail",
    Delivery.FAX: "Fax",
    Delivery.PICKUP: "Pickup",
}
# How other systems write a delivery method, compared after NFKC and case folding.
_DELIVERY_WORDS: dict[str, Delivery] = {
    "post": Delivery.POST,
    "mail": Delivery.POST,
    "postal mail": Delivery.POST,
    "registered mail": Delivery.POST,
    "邮寄": Delivery.POST,
    "平信": Delivery.POST,
    "挂号": Delivery.POST,
    "書留": Delivery.POST,
    "express": Delivery.EXPRESS,
    "express mail": Delivery.EXPRESS,
    "courier": Delivery.EXPRESS,
    "快递": Delivery.EXPRESS,
    "速達": Delivery.EXPRESS,
    "fax": Delivery.FAX,
    "facsimile": Delivery.FAX,
    "传真": Delivery.FAX,
    "pickup": Delivery.PICKUP,
    "pick up": Delivery.PICKUP,
    "自取": Delivery.PICKUP,
    "e-mail": Delivery.EMAIL,
    "email": Delivery.EMAIL,
    "smtp": Delivery.EMAIL,
    "电子邮件": Delivery.EMAIL,
}
_EMAIL_DESCRIPTION = "e-mail"
_SMTP = "SMTP"
_LEVEL_OF_SERVICE = {Urgency.NORMAL: "N", Urgency.URGENT: "U"}

#: Prefix of a CALIS OID in the LAC system number (system other names its system in the
#: record number).
CALIS_PREFIX = "CALIS:"

# The reader's part of the requester-note: (field, label) in the order written. Only the last
# (notes) may contain ';', which is what makes the part readable back.
_NOTE_KEYS: tuple[tuple[str, str], ...] = (
    ("phone", "电话/phone"),
    ("fax", "传真/fax"),
    ("email", "电子信箱/e-mail"),
    ("language", "语种/language"),
    ("document_type", "文献类型/document-type"),
    ("holding_library", "收藏馆/holding-library"),
    ("notes", "备注/notes"),
)
_NOTE_START = _NOTE_KEYS[0][1] + ":"
_NOTE_AFTER = " / "

_ITEM_TYPES = {DocumentType.JOURNAL_ARTICLE: ItemType.SERIAL, DocumentType.BOOK: ItemType.MONOGRAPH}
_DOCUMENT_TYPES = {
    ItemType.SERIAL: DocumentType.JOURNAL_ARTICLE,
    ItemType.MONOGRAPH: DocumentType.BOOK,
}


# --- standard numbers ------------------------------------------------------------------------

_HYPHENS = re.compile(r"[\s\-\u2010-\u2015]")
_ISSN = re.compile(r"[0-9]{7}[0-9X]")
_ISBN10 = re.compile(r"[0-9]{9}[0-9X]")
_ISBN13 = re.compile(r"97[89][0-9]{10}")
_DOI = re.compile(r"10\.[^\s/]+/\S+")
_DOI_PREFIXES = ("https://doi.org/", "http://doi.org/", "https://dx.doi.org/", "http://dx.doi.org/")


def _compact(text: str, label: str) -> str:
    """A standard number without its label, hyphens and spaces, full-width digits folded."""
    value = unicodedata.normalize("NFKC", text).strip()
    if value[: len(label)].upper() == label:
        value = value[len(label) :].lstrip(" :")
    return _HYPHENS.sub("", value).upper()


def normalise_issn(text: str) -> str:
    """``NNNN-NNNC`` for an ISSN typed with or without hyphen, label or full-width digits.
    Raises ValueError (message without the field name) when it is not one: a mistyped
    number would find the wrong journal."""
    compact = _compact(text, "ISSN")
    if not _ISSN.fullmatch(compact):
        raise ValueError(
            _both(
                f"{text} is not an ISSN (7 digits and a check digit)",
                f"{text} 不是ISSN (7位数字加1位校验位)",
            )
        )
    if issn_check(compact[:7]) != compact[7]:
        raise ValueError(
            _both(f"{text} is not an ISSN (check digit)", f"{text} 不是ISSN (校验位不符)")
        )
    return f"{compact[:4]}-{compact[4:]}"


def normalise_isbn(text: str) -> str:
    """The ISBN-10 or ISBN-13 as bare digits (final X upper case). Hyphenation is not kept:
    placing the hyphens needs the ISBN agency's range tables. Raises ValueError."""
    compact = _compact(text, "ISBN")
    if _ISBN10.fullmatch(compact):
        if isbn10_check(compact[:9]) != compact[9]:
            raise ValueError(
                _both(f"{text} is not an ISBN (check digit)", f"{text} 不是ISBN (校验位不符)")
            )
        return compact
    if _ISBN13.fullmatch(compact):
        if isbn13_check(compact[:12]) != compact[12]:
            raise ValueError(
                _both(f"{text} is not an ISBN (check digit)", f"{text} 不是ISBN (校验位不符)")
            )
        return compact
    raise ValueError(
        _both(
            f"{text} is not an ISBN (10 digits, or 13 starting 978 or 979)",
            f"{text} 不是ISBN (10位, 或以978或979开头的13位)",
        )
    )


def isbn10_to_13(isbn: str) -> str:
    """The 978 ISBN-13 of a (valid, compact) ISBN-10."""
    body = "978" + isbn[:9]
    return body + isbn13_check(body)


def isbn13_to_10(isbn: str) -> str | None:
    """The ISBN-10 of a (valid, compact) ISBN-13, or None for a 979 one, which has none."""
    if not isbn.startswith("978"):
        return None
    return isbn[3:12] + isbn10_check(isbn[3:12])


def normalise_doi(text: str) -> str:
    """The DOI itself, without ``doi:`` or a resolver address in front. Raises ValueError."""
    value = text.strip()
    lowered = value.lower()
    if lowered.startswith("doi:"):
        value = value[4:].strip()
    else:
        for prefix in _DOI_PREFIXES:
            if lowered.startswith(prefix):
                value = value[len(prefix) :]
                break
    if not _DOI.fullmatch(value):
        raise ValueError(
            _both(
                f"{text} is not a DOI (10.<registrant>/<suffix>, no spaces)",
                f"{text} 不是DOI (10.<注册者>/<后缀>, 不含空格)",
            )
        )
    return value


# --- reading a posted form -------------------------------------------------------------------

_E = TypeVar("_E", bound=StrEnum)
# local@domain: the local part a dot-atom, as mail headers need it unquoted.
_EMAIL = re.compile(
    r"[A-Za-z0-9_%+\-]+(?:\.[A-Za-z0-9_%+\-]+)*@[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?)+"
)
_PHONE_EXTENSION = re.compile(r"转|分机|ext\.?|x", re.IGNORECASE)
_PHONE_PUNCTUATION = re.compile(r"[\s+\-()./#*,]")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]+)?")
_BAD_CHARACTER_CATEGORIES = frozenset({"Cc", "Cs", "Co", "Zl", "Zp"})


def read_form(fields: Mapping[str, str], *, today: date) -> ReaderForm:
    """The form a reader posted (keys are :class:`ReaderForm`'s field names; others are
    ignored, such as the submit button). Text is stripped; enum fields take their values
    (``copy``, ``journal-article`` ...), delivery and urgency default to e-mail and normal.

    Raises :class:`FormError` listing every problem, each ``"<field>: <what is wrong>"``."""
    problems: list[str] = []
    values: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        raw = fields.get(name, "")
        if raw is None:
            raw = ""
        if not isinstance(raw, str):
            problems.append(_problem(name, _both("must be text", "须为文本")))
            continue
        limit = LIMITS.get(name, MAX_LENGTH)
        # A cheap bound first, so that a megabyte of spaces is not stripped and scanned.
        if len(raw) > 4 * limit + 100:
            problems.append(_problem(name, _too_long(limit)))
            continue
        value = _clean(raw, multiline=name in _MULTILINE)
        reader = _READERS.get(name)
        if len(value) > limit:
            problems.append(_problem(name, _too_long(limit)))
        elif any(unicodedata.category(c) in _BAD_CHARACTER_CATEGORIES for c in value if c != "\n"):
            problems.append(_problem(name, _both("contains control characters", "含有控制字符")))
        elif not value:
            if name in REQUIRED:
                problems.append(_problem(name, _both("required", "必填")))
        elif reader is None:
            values[name] = value
        else:
            try:
                values[name] = reader(value, today)
            except ValueError as err:
                problems.append(_problem(name, err.args[0] if err.args else str(err)))
    if problems:
        raise FormError(problems)
    return ReaderForm(**values)


def _both(en: str, zh: str) -> Said:
    """A problem with a field, in English (its ``str``, for the API and logs) and in the
    Chinese the reader pages show."""
    return Said(en, en=en, zh=zh)


def _too_long(limit: int) -> Said:
    return _both(f"at most {limit} characters", f"最多 {limit} 个字符")


def _problem(name: str, what: str) -> Said:
    """``"<field>: <what is wrong>"`` in every language ``what`` has."""
    langs = what.langs if isinstance(what, Said) else {"en": str(what)}
    return Said(f"{name}: {what}", **{k: f"{name}: {v}" for k, v in langs.items()})


def to_fields(form: ReaderForm) -> dict[str, str]:
    """The form as its page posts it: every field as text, what :func:`read_form` reads back
    to the same form (to fill the page again, or to check a stored form)."""
    out: dict[str, str] = {}
    for f in dataclasses.fields(form):
        value = getattr(form, f.name)
        if value is None:
            out[f.name] = ""
        elif isinstance(value, date):
            out[f.name] = value.isoformat()
        elif isinstance(value, Decimal):
            out[f.name] = format(value, "f")
        else:
            out[f.name] = str(value)
    return out


def _clean(raw: str, *, multiline: bool) -> str:
    """Stripped, tabs as spaces, line breaks as ``\\n`` in a text area and as spaces in a
    one-line field (a title pasted from a catalogue often carries one)."""
    value = raw.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    if not multiline:
        value = value.replace("\n", " ")
    return value.strip()


def _enum(cls: type[_E]) -> Callable[[str, date], _E]:
    def read(value: str, _today: date) -> _E:
        key = value.strip().lower()
        for member in cls:
            if member.value == key:
                return member
        known = ", ".join(m.value for m in cls)
        raise ValueError(_both(f"{value} is not one of {known}", f"{value} 不是以下之一: {known}"))

    return read


def _issn(value: str, _today: date) -> str:
    return normalise_issn(value)


def _isbn(value: str, _today: date) -> str:
    return normalise_isbn(value)


def _doi(value: str, _today: date) -> str:
    return normalise_doi(value)


def _calis_oid(value: str, _today: date) -> str:
    if any(c.isspace() for c in value):
        raise ValueError(
            _both(
                f"{value} is not a CALIS record id (no spaces)",
                f"{value} 不是CALIS记录号 (不含空格)",
            )
        )
    return value


def _language(value: str, _today: date) -> str:
    key = unicodedata.normalize("NFKC", value).strip().casefold()
    code = LANGUAGE_NAMES.get(key, key)
    if not re.fullmatch(r"[a-z]{3}", code):
        raise ValueError(
            _both(
                f"{value} is not a language code (ISO 639-2: eng, chi, jpn ...)",
                f"{value} 不是语种代码 (ISO 639-2: eng, chi, jpn ...)",
            )
        )
    return code


def _valid_until(value: str, today: date) -> date:
    text = unicodedata.normalize("NFKC", value)
    if not _DATE.fullmatch(text):
        raise ValueError(
            _both(f"{value} is not a date (YYYY-MM-DD)", f"{value} 不是日期 (YYYY-MM-DD)")
        )
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            _both(f"{value} is not a date (YYYY-MM-DD)", f"{value} 不是日期 (YYYY-MM-DD)")
        ) from None
    if day < today:
        raise ValueError(
            _both(
                f"{day.isoformat()} is in the past (today is {today.isoformat()})",
                f"{day.isoformat()} 已过 (今天是 {today.isoformat()})",
            )
        )
    return day


def _cost_limit(value: str, _today: date) -> Decimal:
    text = unicodedata.normalize("NFKC", value).strip().removesuffix("元").strip()
    if text.startswith("-"):
        raise ValueError(_both(f"{value} is negative", f"{value} 是负数"))
    if not _AMOUNT.fullmatch(text):
        raise ValueError(
            _both(
                f"{value} is not an amount of yuan (as 0, 50 or 12.50)",
                f"{value} 不是以元计的金额 (如 0, 50 或 12.50)",
            )
        )
    _, _, fraction = text.partition(".")
    if len(fraction) > 2:
        raise ValueError(_both(f"{value} has more than 2 decimal places", f"{value} 超过2位小数"))
    try:
        amount = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only plain decimals
        raise ValueError(
            _both(f"{value} is not an amount of yuan", f"{value} 不是以元计的金额")
        ) from None
    if amount > _MAX_COST:
        raise ValueError(
            _both(f"{value} is more than {_MAX_COST} yuan", f"{value} 超过 {_MAX_COST} 元")
        )
    return amount


def _email(value: str, _today: date) -> str:
    if not _EMAIL.fullmatch(value):
        raise ValueError(
            _both(
                f"{value} is not an e-mail address (as name@example.edu.cn)",
                f"{value} 不是电子信箱地址 (如 name@example.edu.cn)",
            )
        )
    return value


def _phone(value: str, _today: date) -> str:
    text = _PHONE_EXTENSION.sub("", unicodedata.normalize("NFKC", value))
    digits = _PHONE_PUNCTUATION.sub("", text)
    if len(digits) < 3 or not re.fullmatch(r"[0-9]+", digits):
        raise ValueError(_both(f"{value} is not a telephone number", f"{value} 不是电话号码"))
    return value


def _holding_library(value: str, _today: date) -> str:
    if ";" in value:
        raise ValueError(_both("one library only (no ';')", "只能填一个图书馆 (不含 ';')"))
    return value


_READERS: dict[str, Callable[[str, date], Any]] = {
    "service": _enum(ServiceType),
    "document_type": _enum(DocumentType),
    "delivery": _enum(Delivery),
    "urgency": _enum(Urgency),
    "issn": _issn,
    "isbn": _isbn,
    "doi": _doi,
    "calis_oid": _calis_oid,
    "language": _language,
    "valid_until": _valid_until,
    "cost_limit": _cost_limit,
    "email": _email,
    "phone": _phone,
    "fax": _phone,
    "holding_library": _holding_library,
}

_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(ReaderForm))


# --- form -> ILL-Request ---------------------------------------------------------------------


def to_request(
    form: ReaderForm,
    *,
    transaction_id: TransactionId,
    requester: SystemId,
    responder: SystemId,
    at: datetime,
    deliver_to_reader: bool,
    send_to: Sequence[SystemId] = (),
    already_tried: Sequence[SystemId] = (),
    requester_note: str | None = None,
) -> ILLRequest:
    """The ILL-Request ``requester`` sends ``responder`` for ``form`` at ``at`` (the module's
    table). ``deliver_to_reader``: the supplier ships straight to the reader (CALIS central
    mode), so the reader's postal and e-mail address travel as the delivery-address.
    ``send_to`` are the libraries still to ask after this one, in order, ``already_tried``
    those asked before; the requester-note is ``requester_note`` followed by the reader's
    contacts and remarks. ``form`` is expected to be one :func:`read_form` accepted."""
    electronic = (
        SystemAddress(telecom_service_identifier=_SMTP, telecom_service_address=form.email)
        if form.email
        else None
    )
    delivery_service: DeliveryService
    if form.delivery is Delivery.EMAIL:
        delivery_service = (
            (
                ElectronicDeliveryService(
                    e_delivery_description=_EMAIL_DESCRIPTION, e_delivery_details=electronic
                ),
            )
            if electronic is not None
            else _EMAIL_DESCRIPTION
        )
    else:
        delivery_service = SHIP_VIA[form.delivery]
    email_carried = electronic is None or deliver_to_reader or form.delivery is Delivery.EMAIL
    loan = form.service is ServiceType.LOAN
    client_id = (
        ClientId(client_name=_some(form.name), client_identifier=_some(form.reference))
        if form.name or form.reference
        else None
    )
    third_party = (
        ThirdPartyInfoType(
            preference=Preference.ORDERED,
            send_to_list=tuple(SendToListEntry(system_id=s) for s in send_to) or None,
            already_tried_list=tuple(already_tried) or None,
        )
        if send_to or already_tried
        else None
    )
    return ILLRequest(
        transaction_id=transaction_id,
        service_date_time=service_date_time(at),
        requester_id=requester,
        responder_id=responder,
        ill_service_type=(ILLServiceType.LOAN,) if loan else (ILLServiceType.COPY_NON_RETURNABLE,),
        requester_optional_messages=RequesterOptionalMessagesType(
            can_send_received=True,
            can_send_returned=loan,
            # The total fee arrives with Shipped: the reader's request cannot be settled
            # without it.
            requester_shipped=MessageRequirement.REQUIRES,
            requester_checked_in=MessageRequirement.DESIRES if loan else MessageRequirement.NEITHER,
        ),
        delivery_address=_delivery_address(form, electronic) if deliver_to_reader else None,
        delivery_service=delivery_service,
        search_type=SearchType(
            level_of_service=_LEVEL_OF_SERVICE[form.urgency],
            expiry_flag=ExpiryFlag.NO_EXPIRY if form.valid_until is None else ExpiryFlag.OTHER_DATE,
            expiry_date=form.valid_until,
        ),
        client_id=client_id,
        item_id=_item_id(form),
        cost_info_type=CostInfoType(
            maximum_cost=Amount(monetary_value=form.cost_limit, currency_code=CURRENCY)
        ),
        third_party_info_type=third_party,
        requester_note=_join_note(requester_note, _reader_note(form, email=not email_carried)),
    )


def _some(text: str) -> str | None:
    """A form's text as an ILL-String: never blank, so empty is absent."""
    return text or None


def _item_id(form: ReaderForm) -> ItemId:
    article = bool(form.article_title)
    numbers: list[str] = []
    isbn: str | None = None
    issn: str | None = None
    if form.isbn:
        if len(form.isbn) == 10:
            isbn = form.isbn
        else:
            isbn = isbn13_to_10(form.isbn) if _ISBN13.fullmatch(form.isbn) else None
            numbers.append(f"isbn:{form.isbn}")
    if form.issn:
        compact = form.issn.replace("-", "")
        if len(compact) == 8:
            issn = compact
        else:
            numbers.append(f"issn:{form.issn}")
    if form.doi:
        numbers.append(f"doi:{form.doi}")
    return ItemId(
        item_type=_ITEM_TYPES.get(form.document_type, ItemType.OTHER),
        author=None if article else _some(form.author),
        title=_some(form.title),
        place_of_publication=_some(form.place),
        publisher=_some(form.publisher),
        volume_issue=_some(form.volume_issue),
        edition=_some(form.edition),
        publication_date=_some(form.year),
        publication_date_of_component=_some(form.year) if article else None,
        author_of_article=_some(form.author) if article else None,
        title_of_article=_some(form.article_title),
        pagination=_some(form.pages),
        isbn=isbn,
        issn=issn,
        system_no=(
            SystemNo(
                entries=(
                    SystemNoEntry(system=LACSystem.OTHER, record_no=CALIS_PREFIX + form.calis_oid),
                )
            )
            if form.calis_oid
            else None
        ),
        additional_no_letters=" ".join(numbers) or None,
    )


def _delivery_address(form: ReaderForm, electronic: SystemAddress | None) -> DeliveryAddress | None:
    postal = (
        PostalAddress(
            name_of_person_or_institution=PersonName(form.name) if form.name else None,
            extended_postal_delivery_address=_some(form.address),
            postal_code=_some(form.postcode),
        )
        if form.name or form.address or form.postcode
        else None
    )
    if postal is None and electronic is None:
        return None
    return DeliveryAddress(postal_address=postal, electronic_address=electronic)


def _reader_note(form: ReaderForm, *, email: bool) -> str:
    """The reader's part of the requester-note (see the module's table)."""
    values = {
        "phone": form.phone,
        "fax": form.fax,
        "email": form.email if email else "",
        "language": form.language,
        # Only what item-type cannot say: serial, monograph and other say the rest.
        "document_type": (
            ""
            if form.document_type in _ITEM_TYPES or form.document_type is DocumentType.OTHER
            else form.document_type.value
        ),
        "holding_library": form.holding_library,
        "notes": form.notes,
    }
    parts = [_NOTE_START + (f" {form.phone}" if form.phone else "")]
    parts.extend(f"{label}: {values[key]}" for key, label in _NOTE_KEYS[1:] if values[key])
    return "; ".join(parts)


def _join_note(note: str | None, reader: str) -> str:
    note = None if note is None else note.strip() or None
    return reader if note is None else f"{note}{_NOTE_AFTER}{reader}"


# --- ILL-Request -> form ---------------------------------------------------------------------


def from_request(request: ILLRequest) -> ReaderForm:
    """The form staff see for ``request``: the inverse of :func:`to_request` for its
    requests (see the module's docstring for what cannot come back), and a best reading of
    any other system's. What such a request says that has no field on the form (a subtitle,
    an OCLC number, a delivery method the form does not offer, a maximum cost in another
    currency ...) is added to the notes, so that staff still see it. Its name, address and
    e-mail are whoever it names as client and delivery address, which for a library that
    delivers to itself is that library."""
    item = request.item_id
    _, reader = _split_note(request.requester_note)
    extras: list[str] = []
    numbers = _read_numbers(item, extras)
    email = _read_email(request)
    delivery = _read_delivery(request.delivery_service, extras)
    client = request.client_id
    postal = request.delivery_address.postal_address if request.delivery_address else None
    name = (client.client_name if client else None) or (
        postal.name_of_person_or_institution.value
        if postal is not None and postal.name_of_person_or_institution is not None
        else ""
    )
    search = request.search_type
    cost = _read_cost(request, extras)
    for label, value in (
        ("副题名/subtitle", item.sub_title),
        ("丛书/series", item.series_title_number),
        ("索书号/call number", item.call_number),
        ("主办单位/sponsoring body", item.sponsoring_body),
        ("出处/verification", item.verification_reference_source),
        ("读者身份/client status", client.client_status if client else None),
        ("版权声明/copyright compliance", request.copyright_compliance),
    ):
        if value:
            extras.append(f"{label}: {value}")
    if reader is None:
        # Another system's request: its whole note is for staff to read.
        notes = "\n".join(p for p in (request.requester_note, *extras) if p)
        reader = {}
    else:
        notes = "\n".join(p for p in (reader.get("notes", ""), *extras) if p)
    return ReaderForm(
        service=(
            ServiceType.COPY
            if ILLServiceType.COPY_NON_RETURNABLE in request.ill_service_type
            else ServiceType.LOAN
        ),
        document_type=_read_document_type(item, reader.get("document_type", "")),
        title=item.title or "",
        author=item.author_of_article or item.author or "",
        volume_issue=item.volume_issue or "",
        edition=item.edition or "",
        article_title=item.title_of_article or "",
        place=item.place_of_publication or "",
        publisher=item.publisher or "",
        year=item.publication_date or item.publication_date_of_component or "",
        pages=item.pagination or "",
        issn=numbers.get("issn", ""),
        isbn=numbers.get("isbn", ""),
        doi=numbers.get("doi", ""),
        calis_oid=numbers.get("calis_oid", ""),
        language=reader.get("language", ""),
        valid_until=_read_valid_until(search),
        delivery=delivery,
        cost_limit=cost,
        urgency=(
            Urgency.URGENT
            if search is not None and (search.level_of_service or "").upper() == "U"
            else Urgency.NORMAL
        ),
        reference=(client.client_identifier or "") if client else "",
        holding_library=reader.get("holding_library", ""),
        name=name,
        address=_read_address(postal),
        postcode=(postal.postal_code or "") if postal is not None else "",
        email=email or reader.get("email", ""),
        phone=reader.get("phone", ""),
        fax=reader.get("fax", ""),
        notes=notes,
    )


def requester_note(request: ILLRequest) -> str | None:
    """The requesting library's own note in ``request``'s requester-note, without the
    reader's contacts and remarks that :func:`to_request` adds (:func:`from_request` puts
    those on the form)."""
    return _split_note(request.requester_note)[0]


def _split_note(note: str | None) -> tuple[str | None, dict[str, str] | None]:
    """(the caller's note, the reader's part by field) of a requester-note, or (note, None)
    when it has no reader's part: the first ``电话/phone:`` at the start or after `` / ``
    from which the rest reads as :func:`_reader_note` writes it."""
    if note is None:
        return None, None
    start = note.find(_NOTE_START)
    while start != -1:
        if start == 0 or note[:start].endswith(_NOTE_AFTER):
            reader = _parse_reader_note(note[start + len(_NOTE_START) :])
            if reader is not None:
                caller = note[: start - len(_NOTE_AFTER)] if start else None
                return caller, reader
        start = note.find(_NOTE_START, start + 1)
    return note, None


def _parse_reader_note(rest: str) -> dict[str, str] | None:
    rest = rest.removeprefix(" ")
    phone, sep, rest = rest.partition(";")
    if _NOTE_START in phone:
        # A caller's note that itself reads "电话/phone: ..." before the reader's part.
        return None
    values = {"phone": phone}
    keys = list(_NOTE_KEYS[1:])
    while sep:
        for index, (key, label) in enumerate(keys):
            marker = f" {label}: "
            if rest.startswith(marker):
                rest = rest[len(marker) :]
                if key == "notes":
                    values[key], sep = rest, ""
                else:
                    values[key], sep, rest = rest.partition(";")
                del keys[: index + 1]
                break
        else:
            return None
    return values


def _read_numbers(item: ItemId, extras: list[str]) -> dict[str, str]:
    """issn, isbn, doi and calis_oid from wherever they are in ``item``."""
    found: dict[str, str] = {}
    others: list[str] = []
    for token in (item.additional_no_letters or "").split():
        label, sep, value = token.partition(":")
        key = label.lower()
        if sep and value and key in ("doi", "isbn", "issn") and key not in found:
            found[key] = value
        elif token.startswith("10.") and "/" in token and "doi" not in found:
            found["doi"] = token
        else:
            others.append(token)
    if others:
        rest = " ".join(others)
        try:
            isbn = normalise_isbn(rest)
        except ValueError:
            extras.append(f"其他编号/other number: {rest}")
        else:
            found.setdefault("isbn", isbn)
    if "isbn" not in found and item.isbn:
        try:
            found["isbn"] = normalise_isbn(item.isbn)
        except ValueError:
            found["isbn"] = item.isbn
    if "issn" not in found and item.issn:
        compact = item.issn.upper()
        found["issn"] = f"{compact[:4]}-{compact[4:]}" if len(compact) == 8 else compact
    system_no = item.system_no
    if isinstance(system_no, SystemNo):
        for entry in system_no.entries:
            if (
                entry.system is LACSystem.OTHER
                and entry.record_no.startswith(CALIS_PREFIX)
                and "calis_oid" not in found
            ):
                found["calis_oid"] = entry.record_no[len(CALIS_PREFIX) :]
            else:
                extras.append(f"系统号/system number: {entry.system.name} {entry.record_no}")
    return found


def _read_document_type(item: ItemId, written: str) -> DocumentType:
    try:
        return DocumentType(written)
    except ValueError:
        pass
    if item.item_type is not None and item.item_type in _DOCUMENT_TYPES:
        return _DOCUMENT_TYPES[item.item_type]
    if item.item_type is None:
        if item.issn or item.title_of_article:
            return DocumentType.JOURNAL_ARTICLE
        if item.isbn:
            return DocumentType.BOOK
    return DocumentType.OTHER


def is_email(text: str | None) -> bool:
    """Whether ``text`` is an e-mail address of the shape :func:`read_form` accepts (plain
    ASCII ``local@domain.tld``: one that any mail system takes, in a header or on the wire)."""
    return text is not None and len(text) <= LIMITS["email"] and bool(_EMAIL.fullmatch(text))


def _read_email(request: ILLRequest) -> str:
    """The reader's e-mail address: the delivery-address's, else the e-mail delivery's. An
    address that is not one (an Ariel IP address ...) is none: mail would go nowhere."""
    address = request.delivery_address
    electronic = None if address is None else address.electronic_address
    if electronic is not None and is_email(electronic.telecom_service_address):
        return electronic.telecom_service_address or ""
    if isinstance(request.delivery_service, tuple):
        for service in request.delivery_service:
            details = service.e_delivery_details
            if isinstance(details, SystemAddress) and is_email(details.telecom_service_address):
                return details.telecom_service_address or ""
    return ""


def _delivery_word(text: str | None) -> Delivery | None:
    if text is None:
        return None
    return _DELIVERY_WORDS.get(" ".join(unicodedata.normalize("NFKC", text).casefold().split()))


def _read_delivery(service: DeliveryService | None, extras: list[str]) -> Delivery:
    if service is None:
        return Delivery.EMAIL
    if isinstance(service, str):
        method = _delivery_word(service)
        if method is None:
            extras.append(f"传递方式/delivery: {service}")
            return Delivery.POST
        return method
    for electronic in service:
        details = electronic.e_delivery_details
        identifier = (
            details.telecom_service_identifier if isinstance(details, SystemAddress) else None
        )
        if (
            _delivery_word(electronic.e_delivery_description) is Delivery.EMAIL
            or _delivery_word(identifier) is Delivery.EMAIL
        ):
            return Delivery.EMAIL
    described = [e.e_delivery_description or e.name_or_code or "electronic" for e in service]
    extras.append(f"传递方式/delivery: {', '.join(described) or 'electronic'}")
    return Delivery.EMAIL


def _read_cost(request: ILLRequest, extras: list[str]) -> Decimal:
    cost = request.cost_info_type
    amount = None if cost is None else cost.maximum_cost
    if amount is None:
        return Decimal(0)
    currency = (amount.currency_code or CURRENCY).upper()
    if currency in (CURRENCY, "RMB"):
        return amount.monetary_value
    # The form's limit is in yuan; a limit in another currency is not one the reader set.
    extras.append(f"最高费用/maximum cost: {amount.monetary_value} {currency}")
    return Decimal(0)


def _read_valid_until(search: SearchType | None) -> date | None:
    if search is None:
        return None
    if search.expiry_flag is ExpiryFlag.OTHER_DATE:
        when = search.expiry_date
    elif search.expiry_flag is ExpiryFlag.NEED_BEFORE_DATE:
        when = search.need_before_date
    else:
        return None
    return when if isinstance(when, date) else None


_POSTAL_PARTS = (
    "extended_postal_delivery_address",
    "street_and_number",
    "post_office_box",
    "city",
    "region",
    "country",
)


def _read_address(postal: PostalAddress | None) -> str:
    if postal is None:
        return ""
    lines = (getattr(postal, part) for part in _POSTAL_PARTS)
    return "\n".join(line for line in lines if line)
