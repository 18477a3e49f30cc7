"""An APDU as OCLC's ILL workform shows it, and a request built back from workform fields.

OCLC staff, OCLC's documentation and the GIF guide all speak of a request by its workform
labels (SHIP VIA, MAXCOST, COPYRT COMPLIANCE ...), not by ISO element names; a Japanese library
checking what its lender will see, or reading what an OCLC library asked for, needs that view.
Labels are written without the colons and spaces of the old ``:SHIP VIA:`` style (SHIPVIA,
MAXCOST, COPYRTCOMPLIANCE, as the GIF guide names them; ill-systems.md §2.1).

Only OCLC Direct Request's chapter 9 rows for the addresses and shipping are published
(ill-systems.md §2.5); the other rows are this project's reading of the element names.

==================  ============================================================================
label               ISO 10161 (``←`` only when building a request from the fields)
==================  ============================================================================
BORROWER            initial-requester-id's institution symbol, else requester-id's (DR ch. 9);
                    ← both
LENDER              responder-id's symbol, then the send-to-list's, comma-separated: OCLC's lender
                    string, tried in order; ← the first is responder-id, the rest an ordered
                    send-to-list
SHIPVIA             delivery-service: physical-delivery text, or the electronic delivery's
                    description (Ariel ...); in a Shipped, shipped-via (DR ch. 9); ← electronic
                    delivery when it names the electronic address's service, else physical
SHIPTO              delivery-address.postal-address, its lines joined by `` / `` (DR ch. 9); a
                    slash standing free inside a line is doubled (``Bldg A // Room 3``)
MAXCOST             cost-info-type.maximum-cost, currency and amount (``USD35.50``), then ``IFM``
                    when the OCLC extension's paymentMethod is IFM: OCLC's IFM statement
COPYRTCOMPLIANCE    copyright-compliance
AFFILIATION         OCLC extension affiliations
PATRON              client-id.client-name
PDEPT               OCLC extension clientDepartment (E13.2)
NEEDBEFORE          search-type.need-before-date, YYYYMMDD
BORROWINGNOTES      requester-note, then ``<service> address: <address>`` for delivery-address.
                    electronic-address (DR ch. 9 puts the electronic address here)
TITLE, AUTHOR       item-id.title, author
ARTICLE             item-id.title-of-article; ← a request with an article is a copy request, one
                    without a loan, as OCLC itself decides (N-7)
VOLUME              OCLC extension volume, else item-id.volume-issue (E13.2: OCLC copies the ISO
                    string whole into its volume field); ← volume-issue
ISSUE               OCLC extension issueNumber
DATE, PAGES         item-id.publication-date, pagination
ISSN, ISBN          item-id.iSSN, iSBN
VERIFIED            item-id.verification-reference-source
LENDCHG             Shipped: supply-details.cost, then ``IFM`` when the responder-note or an OCLC
                    extension says IFM (the lender's IFM statement, N-16)
DUEDATE             Shipped: supply-details.date-due
ILLNUM              the OCLC ILL number when known: an ``OCLC-ILLNUM=`` in the note (as NACSIS
                    shows it, N-29), or a transaction-id of group ``OCLC`` (how
                    :func:`request_from_oclc_fields` files it); ← that transaction-id
==================  ============================================================================

Not on the workform, so lost on the way back: item-id.additional-no-letters (where an ISBN-13
or another number goes; an ISBN-13 with an ISBN-10 still shows as ISBN), search-type's expiry
date, client-id.client-status, and any other part of the request the table does not name.

Symbols are shown exactly as they travel (no authority prefix is added or removed), so that
the fields give back the same request.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from isoill.apdu.apdus import APDU, ILLRequest, Shipped
from isoill.apdu.enums import ExpiryFlag, ILLServiceType, Preference
from isoill.apdu.types import (
    Amount,
    ClientId,
    CostInfoType,
    DateTimeOfService,
    DeliveryAddress,
    DeliveryService,
    ElectronicDeliveryService,
    Extension,
    ItemId,
    OCLCILLRequestExtension,
    SearchType,
    SendToListEntry,
    ServiceDateTime,
    ShippedVia,
    SystemAddress,
    SystemId,
    ThirdPartyInfoType,
    TransactionId,
    format_iso_date,
    parse_iso_date,
)
from isoill.errors import IsoillError
from isoill.mapping import cmmnt
from isoill.mapping.record import Service
from isoill.mapping.to_iso import oclc_extension, optional_messages, postal_address, postal_lines

__all__ = [
    "OCLC_GROUP",
    "REQUEST_LABELS",
    "SHIPPED_LABELS",
    "FieldError",
    "oclc_fields",
    "request_from_oclc_fields",
]

#: The transaction-group-qualifier of a transaction named by its OCLC ILL number.
OCLC_GROUP = "OCLC"

#: The labels an ILL-Request carries, in workform order.
REQUEST_LABELS = (
    "BORROWER",
    "LENDER",
    "ILLNUM",
    "TITLE",
    "AUTHOR",
    "ARTICLE",
    "VOLUME",
    "ISSUE",
    "DATE",
    "PAGES",
    "ISSN",
    "ISBN",
    "VERIFIED",
    "NEEDBEFORE",
    "PATRON",
    "PDEPT",
    "SHIPTO",
    "SHIPVIA",
    "MAXCOST",
    "COPYRTCOMPLIANCE",
    "AFFILIATION",
    "BORROWINGNOTES",
)
#: The labels a Shipped carries.
SHIPPED_LABELS = ("BORROWER", "LENDER", "ILLNUM", "SHIPVIA", "LENDCHG", "DUEDATE")

_SHIPTO_SEPARATOR = " / "
# A run of slashes standing free in a line: a space or the line's end on each side. Only such
# a run can make a line's text look like the separator.
_FREE_SLASHES = re.compile(r"(?<![^ ])(?P<run>/+)(?![^ ])")
_NOTE_SEPARATOR = " / "
_ELECTRONIC = re.compile(r"(?:^|\s/\s)(?P<service>[^\s/]+) address: (?P<address>\S+)$")
_IFM = re.compile(r"(?<![A-Za-z])IFM(?![A-Za-z])", re.IGNORECASE)
_MONEY = re.compile(
    r"\s*(?P<currency>[A-Za-z]{3})?\s*(?P<amount>\d[\d ,.]*?)?\s*(?P<ifm>IFM)?\s*", re.IGNORECASE
)


class FieldError(IsoillError, ValueError):
    """Workform fields that do not make a request. ``reasons`` names every label and why."""


# --- APDU -> fields ------------------------------------------------------------------------


def oclc_fields(apdu: APDU) -> dict[str, str]:
    """What OCLC's workform shows for ``apdu``: label -> text, absent fields left out."""
    fields: dict[str, str | None] = {
        "BORROWER": _borrower(apdu),
        "LENDER": _lender_string(apdu),
        "ILLNUM": _illnum(apdu),
    }
    if isinstance(apdu, ILLRequest):
        fields.update(_request_fields(apdu))
    elif isinstance(apdu, Shipped):
        fields.update(_shipped_fields(apdu))
    return {label: value for label, value in fields.items() if value}


def _borrower(apdu: APDU) -> str | None:
    initial = apdu.transaction_id.initial_requester_id
    if initial is not None and initial.symbol:
        return initial.symbol
    return None if apdu.requester_id is None else apdu.requester_id.symbol


def _lender_string(apdu: APDU) -> str | None:
    symbols = [] if apdu.responder_id is None else [apdu.responder_id.symbol]
    if isinstance(apdu, ILLRequest) and apdu.third_party_info_type is not None:
        symbols.extend(e.system_id.symbol for e in apdu.third_party_info_type.send_to_list or ())
    return ",".join(s for s in symbols if s) or None


def _illnum(apdu: APDU) -> str | None:
    note = getattr(apdu, "requester_note", None) or getattr(apdu, "responder_note", None)
    number = cmmnt.read(note).comment.oclc_illnum
    if number is not None:
        return number
    transaction = apdu.transaction_id
    if transaction.transaction_group_qualifier == OCLC_GROUP:
        return transaction.transaction_qualifier
    return None


def _request_fields(request: ILLRequest) -> dict[str, str | None]:
    item = request.item_id
    extension = oclc_extension(request) or OCLCILLRequestExtension()
    search = request.search_type
    address = request.delivery_address
    postal = None if address is None else address.postal_address
    maximum = None if request.cost_info_type is None else request.cost_info_type.maximum_cost
    return {
        "TITLE": item.title,
        "AUTHOR": item.author,
        "ARTICLE": item.title_of_article,
        "VOLUME": extension.volume or item.volume_issue,
        "ISSUE": extension.issue_number,
        "DATE": item.publication_date,
        "PAGES": item.pagination,
        "ISSN": item.issn,
        "ISBN": item.isbn,
        "VERIFIED": item.verification_reference_source,
        "NEEDBEFORE": (
            None
            if search is None or search.need_before_date is None
            else format_iso_date(search.need_before_date)
        ),
        "PATRON": None if request.client_id is None else request.client_id.client_name,
        "PDEPT": extension.client_department,
        "SHIPTO": None if postal is None else _write_shipto(postal_lines(postal)),
        "SHIPVIA": _ship_via(request.delivery_service),
        "MAXCOST": _money(maximum, _says_ifm(extension.payment_method)),
        "COPYRTCOMPLIANCE": request.copyright_compliance,
        "AFFILIATION": extension.affiliations,
        "BORROWINGNOTES": _borrowing_notes(request),
    }


def _shipped_fields(shipped: Shipped) -> dict[str, str | None]:
    details = shipped.supply_details
    ifm = _says_ifm(shipped.responder_note) or any(
        isinstance(e.item, OCLCILLRequestExtension) and _says_ifm(e.item.payment_method)
        for e in shipped.shipped_extensions or ()
    )
    return {
        "SHIPVIA": _ship_via(details.shipped_via),
        "LENDCHG": _money(details.cost, ifm),
        "DUEDATE": (
            None if details.date_due is None else format_iso_date(details.date_due.date_due_field)
        ),
    }


def _says_ifm(text: str | None) -> bool:
    return text is not None and _IFM.search(text) is not None


def _money(amount: Amount | None, ifm: bool) -> str | None:
    if amount is None:
        return "IFM" if ifm else None
    text = (amount.currency_code or "") + Amount.format_monetary_value(amount.monetary_value)
    return f"{text} IFM" if ifm else text


def _ship_via(service: DeliveryService | ShippedVia | None) -> str | None:
    if service is None or isinstance(service, str):
        return service
    for electronic in service if isinstance(service, tuple) else (service,):
        details = electronic.e_delivery_details
        if electronic.e_delivery_description is not None:
            return electronic.e_delivery_description
        if isinstance(details, SystemAddress) and details.telecom_service_identifier:
            return details.telecom_service_identifier
    return None


def _borrowing_notes(request: ILLRequest) -> str | None:
    parts = [] if request.requester_note is None else [request.requester_note]
    address = request.delivery_address
    electronic = None if address is None else address.electronic_address
    if electronic is not None and electronic.telecom_service_address:
        service = electronic.telecom_service_identifier or "electronic"
        parts.append(f"{service} address: {electronic.telecom_service_address}")
    return _NOTE_SEPARATOR.join(parts) or None


# --- fields -> request ---------------------------------------------------------------------


def request_from_oclc_fields(
    fields: dict[str, str],
    *,
    transaction_id: TransactionId | None = None,
    at: datetime | None = None,
) -> ILLRequest:
    """The ILL-Request that ``fields`` describe, stamped ``at`` (now by default).

    The workform has no transaction id: give ``transaction_id``, or ILLNUM for one of group
    ``OCLC``. Raises :class:`FieldError` naming every label that cannot be used."""
    problems: list[str] = []
    values = {label: text.strip() for label, text in fields.items() if text and text.strip()}
    for label in values:
        if label in SHIPPED_LABELS and label not in REQUEST_LABELS:
            problems.append(f"{label}: the lender's field of a Shipped; a request has none")
        elif label not in REQUEST_LABELS:
            problems.append(f"{label}: not a workform label of a request")
    get = values.get

    borrower = get("BORROWER")
    requester = None if borrower is None else SystemId.institution(borrower)
    if requester is None:
        problems.append("BORROWER: the borrowing library's symbol is required")
    if transaction_id is None:
        number = get("ILLNUM")
        if number is None:
            problems.append("ILLNUM: needed for the transaction id (or give transaction_id)")
        else:
            transaction_id = TransactionId(
                initial_requester_id=requester,
                transaction_group_qualifier=OCLC_GROUP,
                transaction_qualifier=number,
            )
    responder, third_party = _lenders(get("LENDER"))
    maximum, ifm = _read_money(get("MAXCOST"), problems)
    need_before = _read_date("NEEDBEFORE", get("NEEDBEFORE"), problems)
    delivery_address, delivery_service = _read_delivery(values, problems)
    if problems:
        raise FieldError(problems)
    assert transaction_id is not None

    extension = OCLCILLRequestExtension(
        client_department=get("PDEPT"),
        payment_method="IFM" if ifm else None,
        issue_number=get("ISSUE"),
        affiliations=get("AFFILIATION"),
    )
    service = Service.COPY if get("ARTICLE") else Service.LOAN
    moment = (at or datetime.now()).replace(microsecond=0)
    return ILLRequest(
        transaction_id=transaction_id,
        requester_id=requester,
        responder_id=responder,
        ill_service_type=(
            (ILLServiceType.COPY_NON_RETURNABLE,)
            if service is Service.COPY
            else (ILLServiceType.LOAN,)
        ),
        requester_optional_messages=optional_messages(service),
        delivery_address=delivery_address,
        delivery_service=delivery_service,
        search_type=(
            None
            if need_before is None
            else SearchType(need_before_date=need_before, expiry_flag=ExpiryFlag.NEED_BEFORE_DATE)
        ),
        client_id=None if get("PATRON") is None else ClientId(client_name=get("PATRON")),
        item_id=ItemId(
            title=get("TITLE"),
            author=get("AUTHOR"),
            title_of_article=get("ARTICLE"),
            volume_issue=get("VOLUME"),
            publication_date=get("DATE"),
            pagination=get("PAGES"),
            issn=get("ISSN"),
            isbn=get("ISBN"),
            verification_reference_source=get("VERIFIED"),
        ),
        cost_info_type=None if maximum is None else CostInfoType(maximum_cost=maximum),
        copyright_compliance=get("COPYRTCOMPLIANCE"),
        third_party_info_type=third_party,
        requester_note=_note_without_address(get("BORROWINGNOTES")),
        ill_request_extensions=(
            None
            if extension == OCLCILLRequestExtension()
            else (Extension(identifier=1, critical=False, item=extension),)
        ),
        service_date_time=ServiceDateTime(
            date_time_of_this_service=DateTimeOfService(date=moment.date(), time=moment.time())
        ),
    )


def _lenders(text: str | None) -> tuple[SystemId | None, ThirdPartyInfoType | None]:
    symbols = [] if text is None else [s.strip() for s in text.split(",") if s.strip()]
    if not symbols:
        return None, None
    rest = tuple(SendToListEntry(system_id=SystemId.institution(s)) for s in symbols[1:])
    third_party = (
        ThirdPartyInfoType(preference=Preference.ORDERED, send_to_list=rest) if rest else None
    )
    return SystemId.institution(symbols[0]), third_party


def _read_money(text: str | None, problems: list[str]) -> tuple[Amount | None, bool]:
    if text is None:
        return None, False
    match = _MONEY.fullmatch(text)
    if match is None or not (match["amount"] or match["ifm"]):
        problems.append(f"MAXCOST: {text!r} is not a currency, an amount and perhaps IFM")
        return None, False
    if match["amount"] is None:
        return None, True
    try:
        value = Amount.parse_monetary_value(match["amount"].strip())
    except ValueError as err:
        problems.append(f"MAXCOST: {err}")
        return None, False
    currency = None if match["currency"] is None else match["currency"].upper()
    return Amount(monetary_value=value, currency_code=currency), match["ifm"] is not None


def _read_date(label: str, text: str | None, problems: list[str]) -> date | None:
    if text is None:
        return None
    value = parse_iso_date(text)
    if not isinstance(value, date):
        problems.append(f"{label}: {text!r} is not a date written YYYYMMDD")
        return None
    return value


def _write_shipto(lines: list[str]) -> str:
    """An address's lines as OCLC's one-line SHIPTO, joined by `` / ``, a free-standing slash
    run inside a line written one slash longer (``0 /`` as ``0 //``).

    A line such as ``Bldg A / Room 3`` or ``0 /`` would otherwise split into other lines on the
    way back. The slash is escaped here rather than tidied away where OADRS becomes the
    request: OADRS is the library's address as NACSIS holds it, and a request read back from
    the workform has to give that record back unchanged (:func:`record_from_request`), which
    no rewriting of the line can do. A doubled slash still reads to OCLC staff as a slash in
    the line and not as a line break, and an address without a free-standing slash, nearly
    every one (``c/o``, ``1-2/3``), is written as before, so a SHIPTO typed by staff reads as
    it always did."""
    escaped = (_FREE_SLASHES.sub(lambda m: m["run"] + "/", line) for line in lines)
    return _SHIPTO_SEPARATOR.join(escaped)


def _read_shipto(text: str) -> list[str]:
    """The lines of a SHIPTO, split at `` / ``, each free-standing run of two or more slashes
    one shorter: the lines :func:`_write_shipto` was given. A single free slash, which only a
    SHIPTO typed by hand can hold (``A / / B`` or ``A / B /``), is read as it stands."""
    return [
        _FREE_SLASHES.sub(lambda m: m["run"][1:] or "/", line)
        for line in text.split(_SHIPTO_SEPARATOR)
    ]


def _read_delivery(
    values: dict[str, str], problems: list[str]
) -> tuple[DeliveryAddress | None, DeliveryService | None]:
    postal = None
    if "SHIPTO" in values:
        try:
            postal = postal_address(_read_shipto(values["SHIPTO"]))
        except ValueError as err:
            problems.append(f"SHIPTO: {err}")
    found = _ELECTRONIC.search(values.get("BORROWINGNOTES", ""))
    electronic = (
        None
        if found is None
        else SystemAddress(
            telecom_service_identifier=found["service"], telecom_service_address=found["address"]
        )
    )
    ship_via = values.get("SHIPVIA")
    service: DeliveryService | None = ship_via
    if (
        ship_via is not None
        and electronic is not None
        and ship_via.casefold() == (electronic.telecom_service_identifier or "").casefold()
    ):
        service = (
            ElectronicDeliveryService(
                e_delivery_description=ship_via, e_delivery_details=electronic
            ),
        )
    if postal is None and electronic is None:
        return None, service
    return DeliveryAddress(postal_address=postal, electronic_address=electronic), service


def _note_without_address(text: str | None) -> str | None:
    if text is None:
        return None
    found = _ELECTRONIC.search(text)
    return (text if found is None else text[: found.start()]).strip() or None
