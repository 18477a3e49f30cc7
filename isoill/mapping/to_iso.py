"""A NACSIS-ILL record ordered from an OCLC library: the ILL-Request the GIF link sends.

NII does not publish its gateway's field mapping (ill-systems.md §4 q.2), so the table below is
this project's, built from the GIF guide's request table (seed §2.4), NACSIS's rules N-1..N-12
and what OCLC Direct Request accepts (O-1..O-6). The rules are checks, not advice: on the real
link a request that breaks one comes back an hour later as a transfer error (新着照会), or is
quietly turned into something else by OCLC (a copy without article data becomes a loan). Here
the record is refused before anything is sent, with every reason at once, because staff fix a
record in one pass and a "first error only" report costs them a round trip per mistake.

==================  =============================================================================
NACSIS              ILL-Request
==================  =============================================================================
ID, HMLISO, ODATE   transaction-id: group-qualifier = ID, qualifier = ``<HMLISO>/<ODATE>``,
                    initial-requester-id = the requester. NII's "ISO processing ID" is exactly
                    these three (N-11): a record re-ordered to another lender or on another day is
                    a new transaction, re-sending the same three is a duplicate. Grouping by
                    record ID keeps every attempt of one record together. No ID: refused. No
                    ODATE: the order's date (ORDER is when NACSIS fills it). A lender code
                    holding ``/`` is refused, since it could not be told from ODATE again.
ODATE               service-date-time.date-time-of-original-service, when it is YYYYMMDD
OMLID               requester-id and initial-requester-id (institution symbol, via the directory)
HMLISO              responder-id (via the directory); without HMLISO the first holding's HMLID
SRVCE               iLL-service-type: COPY -> copy-non-returnable, LOAN -> loan. Required.
BIBNT               item-id.title (OCLC refuses a request without one)
STDNO               ISSN (8 characters once hyphens and spaces are gone, check digit verified) ->
                    item-id.iSSN, item-type serial; ISBN-10 -> iSBN, monograph; ISBN-13 ->
                    additional-no-letters as typed (iSBN is SIZE(10)), plus the ISBN-10 in iSBN
                    when the prefix is 978; anything else -> additional-no-letters as typed. A
                    wrong check digit is refused: a mistyped number finds the wrong item.
VLNO, PAGE, YEAR    item-id.volume-issue, pagination, publication-date
ARTCL               item-id.title-of-article; required for a copy (N-7)
OADRS               delivery-address.postal-address: its lines fill extended-postal-delivery-
                    address, street-and-number, city, region, country, postal-code in turn (OCLC
                    prints them back in that order as SHIP TO lines, which is what a label
                    needs). Required (OCLC refuses a request without a postal address).
SPVIA               delivery-service (N-5, required): 速達/express -> physical "Express mail",
                    書留/registered -> "Registered mail", FAX -> "Fax", Ariel -> electronic-
                    delivery (protocol version 2) to the Ariel address
CLNT, CLNTP         client-id.client-name, client-status; CLNTP also as the OCLC extension's
                    clientDepartment, which OCLC shows as PDEPT
CMMNT MAX-COST=     cost-info-type.maximum-cost (N-6, required)
CMMNT ISO-CC=       copyright-compliance ``ccg`` / ``ccl`` (N-4, required for a copy)
CMMNT PAYMENT=IFM   OCLC request extension paymentMethod ``IFM`` (N-6, required); IFM needs
                    MAX-COST in USD (O-2)
CMMNT NOTE=ARIEL=   delivery-address.electronic-address ``Ariel`` + address (also the electronic
                    delivery's address). Without it an Ariel order takes the address from OADRS
                    when OADRS shows one (``ARIEL=<addr>`` or an IPv4 address), else is refused.
CMMNT NEED-BEFORE=  search-type.need-before-date, expiry-flag need-Before-Date; not before the
                    order date (O-3)
CMMNT EXPIRY-DATE=  search-type.expiry-date, expiry-flag other-Date
CMMNT NOTE=, text   requester-note, in CMMNT syntax (``NOTE=...`` and the free text, as
OSTAF               cmmnt.write puts them), then ``OSTAF=<staff contact>``
==================  =============================================================================

Copyright compliance is sent lower case, ``ccg``/``ccl``: OCLC's gateway accepts only those two
values (O-1, case-insensitive), and NACSIS's ``US:`` prefix, which the NII gateway presumably
strips (ill-systems.md §1.5), is not one of them.

Every transferred field but TYPE and SPVIA must be single-byte (N-8,
:func:`isoill.mapping.record.single_byte_problems`) once full-width typing is made single-byte
(:func:`isoill.mapping.record.normalised`, NFKC), and every CMMNT token must read
(:func:`isoill.mapping.cmmnt.read`'s problems are reported as they are).

Tokens a lender writes (COND, REPLY, UNFILL, RETRY, CODE, DUE-DATE, OCLC-ILLNUM) are refused
in an order's CMMNT: only the newest CMMNT travels (ISO3 3.19), and a left-over answer would
otherwise vanish without trace. ACCT, TYPE, BIBID, OLDF, OLDAF, PRMT have no ISO counterpart the
link is known to use and stay local.

:func:`record_from_request` is the way back: every field the table maps comes back, CMMNT in
:func:`isoill.mapping.cmmnt.write`'s canonical form, SPVIA in the guide's spelling (速達, 書留,
FAX, Ariel), STDNO as ``NNNN-NNNN`` for an ISSN and ten characters for an ISBN-10, the Ariel
address as NOTE=ARIEL= even when the order found it in OADRS, and HMLISO for the lender even
when the order took a holding's HMLID.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

from isoill.apdu.apdus import ILLRequest
from isoill.apdu.enums import ExpiryFlag, ILLServiceType, ItemType, MessageRequirement
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
    PostalAddress,
    RequesterOptionalMessagesType,
    SearchType,
    ServiceDateTime,
    SystemAddress,
    SystemId,
    TransactionId,
    format_iso_date,
    parse_iso_date,
)
from isoill.mapping import cmmnt
from isoill.mapping.check_digits import isbn10_check, isbn13_check, issn_check
from isoill.mapping.cmmnt import Comment, MaxCost
from isoill.mapping.directory import Directory, nacsis_code, oclc_symbol
from isoill.mapping.messages import prefixed, reason_of, say
from isoill.mapping.record import (
    Record,
    RecordError,
    Service,
    normalised,
    single_byte_problems,
)

__all__ = [
    "ARIEL",
    "SHIP_VIA",
    "SPVIA_VALUES",
    "TRANSACTION_SEPARATOR",
    "oclc_extension",
    "optional_messages",
    "order_request",
    "postal_address",
    "postal_lines",
    "read_spvia",
    "record_from_request",
]

#: SPVIA as the GIF guide writes it -> the OCLC SHIP VIA text of a physical delivery. Ariel is
#: not here: it is an electronic delivery.
SHIP_VIA = {"速達": "Express mail", "書留": "Registered mail", "FAX": "Fax"}
ARIEL = "Ariel"
SPVIA_VALUES = (*SHIP_VIA, ARIEL)
# How staff (and OCLC lenders) write each method, compared after NFKC and case folding.
_SPVIA_WORDS = {
    "速達": "速達",
    "express": "速達",
    "express mail": "速達",
    "書留": "書留",
    "registered": "書留",
    "registered mail": "書留",
    "fax": "FAX",
    "facsimile": "FAX",
    "ariel": ARIEL,
}

#: Between HMLISO and ODATE in the transaction-qualifier.
TRANSACTION_SEPARATOR = "/"


def lender_and_odate(transaction_id: TransactionId) -> tuple[str, str] | None:
    """HMLISO and ODATE from a transaction-id as NII builds it (``HMLISO/ODATE`` in the
    transaction-qualifier); None for one built otherwise."""
    lender, separator, odate = transaction_id.transaction_qualifier.partition(TRANSACTION_SEPARATOR)
    return (lender, odate) if separator else None


# Where OADRS's lines go, in order.
_LINE_FIELDS = (
    "extended_postal_delivery_address",
    "street_and_number",
    "city",
    "region",
    "country",
    "postal_code",
)
# Every printable part of a postal address, in the standard's order.
_POSTAL_PARTS = (
    "extended_postal_delivery_address",
    "street_and_number",
    "post_office_box",
    "city",
    "region",
    "country",
    "postal_code",
)

_ARIEL_IN_ADDRESS = re.compile(
    r"ARIEL\s*[=:]\s*(?P<named>[^\s,;/()<>\"']+)|(?<![\d.])(?P<ip>(?:\d{1,3}\.){3}\d{1,3})(?![\d.])",
    re.IGNORECASE,
)
_STANDARD_NUMBER_LABEL = re.compile(r"^(?:ISSN|ISBN)\s*:?\s*", re.IGNORECASE)

# A lender's tokens: they answer a request and have no place in one.
_ANSWER_TOKENS = {
    "oclc_illnum": "OCLC-ILLNUM",
    "condition": "COND",
    "reply": "REPLY",
    "unfilled": "UNFILL",
    "retry": "RETRY",
    "code": "CODE",
    "due_date": "DUE-DATE",
}


# --- record -> request ---------------------------------------------------------------------


def order_request(
    record: Record, *, directory: Directory | None = None, at: datetime | None = None
) -> ILLRequest:
    """The ILL-Request that ORDER sends for ``record`` at ``at`` (now by default).

    Raises :class:`RecordError` listing every rule the record breaks."""
    moment = (at or datetime.now()).replace(microsecond=0)
    record, _ = normalised(record)
    problems = list(single_byte_problems(record))
    reading = cmmnt.read(record.CMMNT)
    problems.extend(prefixed("CMMNT", problem) for problem in reading.problems)
    comment = reading.comment

    service = _service(record, problems)
    item_id = _item_id(record, problems)
    requester = _requester(record, directory, problems)
    lender_code = _lender_code(record, problems)
    odate = _text(record.ODATE) or moment.strftime("%Y%m%d")
    if _text(record.ID) is None:
        problems.append(say("order-no-id"))
    delivery_address, delivery_service = _delivery(record, comment, reading, problems)
    cost = _cost(comment, reading, problems)
    copyright_compliance = _copyright(service, comment, reading, problems)
    search_type = _search_type(comment, moment.date(), problems)
    _refuse_answers(comment, problems)
    if problems:
        raise RecordError(problems)

    assert record.ID is not None and lender_code is not None and requester is not None
    original = parse_iso_date(odate)
    return ILLRequest(
        transaction_id=TransactionId(
            initial_requester_id=requester,
            transaction_group_qualifier=record.ID.strip(),
            transaction_qualifier=f"{lender_code}{TRANSACTION_SEPARATOR}{odate}",
        ),
        service_date_time=ServiceDateTime(
            date_time_of_this_service=DateTimeOfService(date=moment.date(), time=moment.time()),
            date_time_of_original_service=(
                DateTimeOfService(date=original) if isinstance(original, date) else None
            ),
        ),
        requester_id=requester,
        responder_id=_institution(directory, lender_code),
        ill_service_type=(
            (ILLServiceType.COPY_NON_RETURNABLE,)
            if service is Service.COPY
            else (ILLServiceType.LOAN,)
        ),
        requester_optional_messages=optional_messages(service),
        delivery_address=delivery_address,
        delivery_service=delivery_service,
        search_type=search_type,
        client_id=_client_id(record),
        item_id=item_id,
        cost_info_type=cost,
        copyright_compliance=copyright_compliance,
        requester_note=_requester_note(record, comment),
        ill_request_extensions=(
            Extension(
                identifier=1,
                critical=False,
                item=OCLCILLRequestExtension(
                    payment_method="IFM", client_department=_text(record.CLNTP)
                ),
            ),
        ),
    )


def _text(value: str | None) -> str | None:
    """A field's text as it may travel: ILL-Strings have no leading or trailing spaces and
    are never blank, so a blank field is an absent one."""
    if value is None:
        return None
    return value.strip() or None


def _service(record: Record, problems: list[str]) -> Service | None:
    if record.SRVCE is None:
        problems.append(say("order-no-srvce"))
    elif record.SRVCE is Service.COPY and _text(record.ARTCL) is None:
        problems.append(say("order-no-artcl"))
    return record.SRVCE


def optional_messages(service: Service | None) -> RequesterOptionalMessagesType:
    """NACSIS sends Received (RECEIVE/BORROW) and, for a loan, Returned (SENDBACK); it needs
    Shipped to move a record to 発送, and a loan ends with the lender's Checked-In (N-34)."""
    loan = service is Service.LOAN
    return RequesterOptionalMessagesType(
        can_send_received=True,
        can_send_returned=loan,
        requester_shipped=MessageRequirement.REQUIRES,
        requester_checked_in=MessageRequirement.DESIRES if loan else MessageRequirement.NEITHER,
    )


def _institution(directory: Directory | None, code: str) -> SystemId:
    symbol = oclc_symbol(directory, code)
    entry = None if directory is None else directory.by_oclc(symbol)
    return SystemId.institution(symbol, None if entry is None else entry.name)


def _requester(record: Record, directory: Directory | None, problems: list[str]) -> SystemId | None:
    code = _text(record.OMLID)
    if code is None:
        problems.append(say("order-no-omlid"))
        return None
    return _institution(directory, code)


def _lender_code(record: Record, problems: list[str]) -> str | None:
    code = _text(record.HMLISO)
    field = "HMLISO"
    if code is None and record.HOLDINGS:
        code, field = _text(record.HOLDINGS[0].HMLID), "HMLID.1"
    if code is None:
        problems.append(say("order-no-lender"))
    elif TRANSACTION_SEPARATOR in code:
        problems.append(
            say(
                "order-lender-separator",
                field=field,
                code=repr(code),
                sep=repr(TRANSACTION_SEPARATOR),
            )
        )
    return code


# --- the item ------------------------------------------------------------------------------


def _item_id(record: Record, problems: list[str]) -> ItemId:
    title = _text(record.BIBNT)
    if title is None:
        problems.append(say("order-no-bibnt"))
    numbers = _standard_number(record.STDNO, problems)
    return ItemId(
        title=title,
        volume_issue=_text(record.VLNO),
        pagination=_text(record.PAGE),
        publication_date=_text(record.YEAR),
        title_of_article=_text(record.ARTCL),
        **numbers,
    )


def _standard_number(value: str | None, problems: list[str]) -> dict[str, Any]:
    text = _text(value)
    if text is None:
        return {}
    compact = _STANDARD_NUMBER_LABEL.sub("", re.sub(r"[\s-]", "", text)).upper()
    if re.fullmatch(r"\d{7}[\dX]", compact):
        check = issn_check(compact[:7])
        if compact[7] != check:
            problems.append(say("order-check-digit", number=text, kind="ISSN", check=check))
        return {"issn": compact, "item_type": ItemType.SERIAL}
    if re.fullmatch(r"\d{9}[\dX]", compact):
        check = isbn10_check(compact[:9])
        if compact[9] != check:
            problems.append(say("order-check-digit", number=text, kind="ISBN", check=check))
        return {"isbn": compact, "item_type": ItemType.MONOGRAPH}
    if re.fullmatch(r"97[89]\d{10}", compact):
        check = isbn13_check(compact[:12])
        if compact[12] != check:
            problems.append(say("order-check-digit", number=text, kind="ISBN", check=check))
        short = compact[3:12] + isbn10_check(compact[3:12])
        return {
            "additional_no_letters": text,
            "isbn": short if compact.startswith("978") else None,
            "item_type": ItemType.MONOGRAPH,
        }
    return {"additional_no_letters": text}


# --- delivery ------------------------------------------------------------------------------


def read_spvia(text: str | None) -> str | None:
    """The guide's spelling of a shipping method (速達, 書留, FAX, Ariel) however it was
    typed: Japanese or English, any case, full-width or not. None when it is none of them."""
    if text is None:
        return None
    key = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    return _SPVIA_WORDS.get(key)


def postal_lines(address: PostalAddress) -> list[str]:
    """The address as the lines of a label, in the standard's order (name first)."""
    lines = (
        []
        if address.name_of_person_or_institution is None
        else [address.name_of_person_or_institution.value]
    )
    lines.extend(v for v in (getattr(address, f) for f in _POSTAL_PARTS) if v is not None)
    return lines


def postal_address(lines: list[str]) -> PostalAddress:
    """Lines of an address (blank ones dropped) as a Postal-Address: one part per line, in
    the order a label prints them. Raises ValueError beyond six lines."""
    kept = [line.strip() for line in lines if line.strip()]
    if len(kept) > len(_LINE_FIELDS):
        raise ValueError(say("address-lines", most=len(_LINE_FIELDS), lines=len(kept)))
    parts: dict[str, Any] = dict(zip(_LINE_FIELDS, kept, strict=False))
    return PostalAddress(**parts)


def _delivery(
    record: Record, comment: Comment, reading: cmmnt.Reading, problems: list[str]
) -> tuple[DeliveryAddress | None, DeliveryService | None]:
    postal = None
    oadrs = _text(record.OADRS)
    if oadrs is None:
        problems.append(say("order-no-oadrs"))
    else:
        try:
            postal = postal_address(oadrs.splitlines())
        except ValueError as err:
            problems.append(prefixed("OADRS", reason_of(err)))
    ariel_address = comment.ariel
    method = read_spvia(record.SPVIA)
    service: DeliveryService | None = None
    if _text(record.SPVIA) is None:
        problems.append(say("order-no-spvia"))
    elif method is None:
        problems.append(say("order-bad-spvia", spvia=repr(record.SPVIA)))
    elif method == ARIEL:
        if ariel_address is None and oadrs is not None:
            found = _ARIEL_IN_ADDRESS.search(oadrs)
            ariel_address = None if found is None else found.group("named") or found.group("ip")
        if ariel_address is None:
            if not _mentions(reading, "NOTE=ARIEL"):
                problems.append(say("order-no-ariel"))
        else:
            service = (
                ElectronicDeliveryService(
                    e_delivery_description=ARIEL, e_delivery_details=_ariel(ariel_address)
                ),
            )
    else:
        service = SHIP_VIA[method]
    electronic = None if ariel_address is None else _ariel(ariel_address)
    if postal is None and electronic is None:
        return None, service
    return DeliveryAddress(postal_address=postal, electronic_address=electronic), service


def _ariel(address: str) -> SystemAddress:
    return SystemAddress(telecom_service_identifier=ARIEL, telecom_service_address=address)


def _mentions(reading: cmmnt.Reading, key: str) -> bool:
    """Whether CMMNT has a ``key=`` token that was refused: it was written, just wrongly,
    and its problem is reported already (cmmnt names the token first in each problem)."""
    return any(problem.lstrip("'\"").startswith(f"{key}=") for problem in reading.problems)


# --- cost, copyright, dates ----------------------------------------------------------------


def _cost(comment: Comment, reading: cmmnt.Reading, problems: list[str]) -> CostInfoType | None:
    if comment.payment is None and not _mentions(reading, "PAYMENT"):
        problems.append(say("order-no-payment"))
    maximum = comment.max_cost
    if maximum is None:
        if not _mentions(reading, "MAX-COST"):
            problems.append(say("order-no-max-cost"))
        return None
    if maximum.currency != "USD":
        problems.append(say("order-max-cost-usd", maximum=maximum))
    return CostInfoType(
        maximum_cost=Amount(monetary_value=maximum.amount, currency_code=maximum.currency)
    )


def _copyright(
    service: Service | None, comment: Comment, reading: cmmnt.Reading, problems: list[str]
) -> str | None:
    value = comment.copyright_compliance
    if value is None:
        if service is Service.COPY and not _mentions(reading, "ISO-CC"):
            problems.append(say("order-no-copyright"))
        return None
    return value.lower()


def _search_type(comment: Comment, today: date, problems: list[str]) -> SearchType | None:
    need, expiry = comment.need_before, comment.expiry_date
    if need is not None and need < today:
        problems.append(
            say("order-need-before-past", need=f"{need:%Y%m%d}", today=f"{today:%Y%m%d}")
        )
    if need is None and expiry is None:
        return None
    return SearchType(
        need_before_date=need,
        expiry_flag=ExpiryFlag.OTHER_DATE if expiry is not None else ExpiryFlag.NEED_BEFORE_DATE,
        expiry_date=expiry,
    )


def _refuse_answers(comment: Comment, problems: list[str]) -> None:
    for name, key in _ANSWER_TOKENS.items():
        if getattr(comment, name) is not None:
            problems.append(say("order-answer-token", key=key))


# --- client and notes ----------------------------------------------------------------------


def _client_id(record: Record) -> ClientId | None:
    name, status = _text(record.CLNT), _text(record.CLNTP)
    if name is None and status is None:
        return None
    return ClientId(client_name=name, client_status=status)


_OSTAF = "OSTAF="
_OSTAF_AFTER = f" / {_OSTAF}"


def _requester_note(record: Record, comment: Comment) -> str | None:
    body = cmmnt.write(Comment(notes=comment.notes, free_text=comment.free_text))
    staff = _text(record.OSTAF)
    parts = [part for part in (body, None if staff is None else _OSTAF + staff) if part]
    return " / ".join(parts) or None


def _split_note(note: str | None) -> tuple[Comment, str | None]:
    """The notes, free text and OSTAF that :func:`_requester_note` put together."""
    if note is None:
        return Comment(), None
    body, staff = note, None
    if note.startswith(_OSTAF):
        body, staff = "", note[len(_OSTAF) :]
    elif _OSTAF_AFTER in note:
        body, _, staff = note.partition(_OSTAF_AFTER)
    return cmmnt.read(body).comment, staff


def oclc_extension(request: ILLRequest) -> OCLCILLRequestExtension | None:
    """The OCLC request extension among ``request``'s extensions, if any."""
    for extension in request.ill_request_extensions or ():
        if isinstance(extension.item, OCLCILLRequestExtension):
            return extension.item
    return None


# --- request -> record ---------------------------------------------------------------------


def record_from_request(request: ILLRequest, *, directory: Directory | None = None) -> Record:
    """The record fields ``request`` carries, as :func:`order_request` mapped them."""
    transaction = request.transaction_id
    lender: str | None
    odate: str | None
    parts = lender_and_odate(transaction)
    if parts is not None:
        lender, odate = parts
    else:
        lender = request.responder_id.symbol if request.responder_id else None
        original = request.service_date_time.date_time_of_original_service
        odate = None if original is None else format_iso_date(original.date)
    requester = request.requester_id or transaction.initial_requester_id
    borrower = None if requester is None or requester.symbol is None else requester.symbol
    item = request.item_id
    extension = oclc_extension(request)
    notes, staff = _split_note(request.requester_note)
    client = request.client_id
    comment = Comment(
        max_cost=_max_cost(request),
        copyright_compliance=_read_copyright(request.copyright_compliance),
        payment="IFM" if _is_ifm(extension) else None,
        notes=notes.notes,
        ariel=_ariel_address(request),
        need_before=_date(request.search_type.need_before_date) if request.search_type else None,
        expiry_date=(
            _date(request.search_type.expiry_date)
            if request.search_type and request.search_type.expiry_flag is ExpiryFlag.OTHER_DATE
            else None
        ),
        free_text=notes.free_text,
    )
    postal = request.delivery_address.postal_address if request.delivery_address else None
    return Record(
        ID=transaction.transaction_group_qualifier or None,
        SRVCE=_read_service(request.ill_service_type),
        OMLID=None if borrower is None else nacsis_code(directory, borrower),
        HMLISO=lender or None,
        BIBNT=item.title,
        STDNO=_read_standard_number(item),
        VLNO=item.volume_issue,
        PAGE=item.pagination,
        YEAR=item.publication_date,
        ARTCL=item.title_of_article,
        CLNT=None if client is None else client.client_name,
        CLNTP=(
            client.client_status
            if client is not None and client.client_status is not None
            else (None if extension is None else extension.client_department)
        ),
        ODATE=odate or None,
        CMMNT=cmmnt.write(comment) or None,
        OSTAF=staff,
        OADRS=("\n".join(postal_lines(postal)) or None) if postal is not None else None,
        SPVIA=_read_delivery(request.delivery_service),
    )


def _read_service(types: tuple[ILLServiceType, ...]) -> Service | None:
    if ILLServiceType.COPY_NON_RETURNABLE in types:
        return Service.COPY
    if ILLServiceType.LOAN in types:
        return Service.LOAN
    return None


def _read_standard_number(item: ItemId) -> str | None:
    if item.additional_no_letters is not None:
        return item.additional_no_letters
    if item.issn is not None:
        return f"{item.issn[:4]}-{item.issn[4:]}" if len(item.issn) == 8 else item.issn
    return item.isbn


def _max_cost(request: ILLRequest) -> MaxCost | None:
    cost = request.cost_info_type
    amount = None if cost is None else cost.maximum_cost
    if amount is None or amount.currency_code is None:
        return None
    return MaxCost(amount.currency_code.upper(), amount.monetary_value)


def _read_copyright(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip().upper().removeprefix("US:")
    return text if text in ("CCG", "CCL") else None


def _is_ifm(extension: OCLCILLRequestExtension | None) -> bool:
    method = None if extension is None else extension.payment_method
    return method is not None and method.strip().upper() == "IFM"


def _is_ariel(address: SystemAddress | None) -> bool:
    identifier = None if address is None else address.telecom_service_identifier
    return identifier is not None and read_spvia(identifier) == ARIEL


def _ariel_address(request: ILLRequest) -> str | None:
    electronic = request.delivery_address.electronic_address if request.delivery_address else None
    if _is_ariel(electronic):
        assert electronic is not None
        return electronic.telecom_service_address
    if isinstance(request.delivery_service, tuple):
        for service in request.delivery_service:
            details = service.e_delivery_details
            if isinstance(details, SystemAddress) and _is_ariel(details):
                return details.telecom_service_address
    return None


def _read_delivery(service: DeliveryService | None) -> str | None:
    if service is None:
        return None
    if isinstance(service, str):
        return read_spvia(service) or service
    for electronic in service:
        details = electronic.e_delivery_details
        if read_spvia(electronic.e_delivery_description) == ARIEL or (
            isinstance(details, SystemAddress) and _is_ariel(details)
        ):
            return ARIEL
        if electronic.e_delivery_description is not None:
            return electronic.e_delivery_description
    return None


def _date(value: date | str | None) -> date | None:
    return value if isinstance(value, date) else None
