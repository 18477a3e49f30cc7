"""The shared types of ISO 10161-1 (everything an APDU is built from) as immutable values.

Each SEQUENCE of the standard is a frozen dataclass whose field names are the standard's
component names in Python spelling (``item-id`` -> ``item_id``, ``iLL-service-type`` ->
``ill_service_type``). The codec binds every field to its ASN.1 component by that name and
refuses to start if one is missing on either side.

Representation choices, made once here so that every user sees the same thing:

* ILL-String is ``str``; an :class:`EDIFACTString` (a ``str`` subclass) is kept when the peer
  used one, so that it goes back out the same way.
* ISO-Date and ISO-Time are ``datetime.date`` / ``datetime.time`` where the peer's text parses,
  and the peer's exact text otherwise: a lenient peer's ``"2000-01-01"`` survives a round trip
  instead of being rejected or silently "corrected".
* A CHOICE is the union of its alternatives' Python types, listed in the standard's order.
  Where two alternatives would both be ``str`` (symbol or name of a person or institution),
  each alternative gets a small wrapper class, so that the value says which one it is.
* OPTIONAL components are ``None`` when absent; DEFAULT components carry their default value.
  An absent SEQUENCE OF is ``None``, a present but empty one is ``()``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import ClassVar

from isoill.apdu.enums import (
    Conditions,
    CurrentState,
    ExpiryFlag,
    GeneralProblem,
    ILLAPDUType,
    ILLServiceType,
    IntermediaryProblem,
    ItemType,
    LACSystem,
    MediumType,
    MessageRequirement,
    MostRecentService,
    Preference,
    ReasonLocsProvided,
    ReasonNotAvailable,
    ReasonUnfilled,
    ReasonWillSupply,
    ReportSource,
    ShippedConditions,
    SupplyMediumType,
    TransactionIdProblem,
    TransactionResults,
    UnableToPerform,
)


class EDIFACTString(str):
    """An ILL-String that travelled as EDIFACTString (VisibleString, restricted alphabet)."""

    __slots__ = ()


EDIFACT_ALPHABET = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz1234567890 .,-()/=!\"%&*;<>'+:?"
)


# ISO-Date and ISO-Time: parsed where possible, the peer's exact text otherwise.
ISODate = date | str
ISOTime = time | str


def parse_iso_date(text: str) -> ISODate:
    """YYYYMMDD -> date; anything else is kept as the peer wrote it."""
    if len(text) == 8 and text.isdigit():
        try:
            return date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            pass
    return text


def format_iso_date(value: ISODate) -> str:
    if isinstance(value, date):
        return f"{value.year:04d}{value.month:02d}{value.day:02d}"
    return value


def parse_iso_time(text: str) -> ISOTime:
    """HHMMSS -> time; anything else is kept as the peer wrote it."""
    if len(text) == 6 and text.isdigit():
        try:
            return time(int(text[:2]), int(text[2:4]), int(text[4:]))
        except ValueError:
            pass
    return text


def format_iso_time(value: ISOTime) -> str:
    if isinstance(value, time):
        return f"{value.hour:02d}{value.minute:02d}{value.second:02d}"
    return value


# --- identities --------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonSymbol:
    value: str


@dataclass(frozen=True)
class InstitutionSymbol:
    value: str


@dataclass(frozen=True)
class PersonName:
    value: str


@dataclass(frozen=True)
class InstitutionName:
    value: str


PersonOrInstitutionSymbol = PersonSymbol | InstitutionSymbol
NameOfPersonOrInstitution = PersonName | InstitutionName


@dataclass(frozen=True, kw_only=True)
class SystemId:
    """A library or person. The standard wants at least one of the two; YAZ sends neither
    in an empty initial-requester-id, so the codec accepts both absent."""

    person_or_institution_symbol: PersonOrInstitutionSymbol | None = None
    name_of_person_or_institution: NameOfPersonOrInstitution | None = None

    @classmethod
    def institution(cls, symbol: str, name: str | None = None) -> SystemId:
        """The usual case: an institution symbol such as ``OCLC:XYZ`` or ``NUC:ABCD``."""
        return cls(
            person_or_institution_symbol=InstitutionSymbol(symbol),
            name_of_person_or_institution=InstitutionName(name) if name is not None else None,
        )

    @property
    def symbol(self) -> str | None:
        sym = self.person_or_institution_symbol
        return None if sym is None else sym.value

    @property
    def name(self) -> str | None:
        nam = self.name_of_person_or_institution
        return None if nam is None else nam.value


@dataclass(frozen=True, kw_only=True)
class SystemAddress:
    """E.g. telecom-service-identifier ``TCP/IP`` and address ``ill.example.edu:499``."""

    telecom_service_identifier: str | None = None
    telecom_service_address: str | None = None


@dataclass(frozen=True, kw_only=True)
class TransactionId:
    transaction_group_qualifier: str
    transaction_qualifier: str
    initial_requester_id: SystemId | None = None
    sub_transaction_qualifier: str | None = None


@dataclass(frozen=True, kw_only=True)
class DateTimeOfService:
    date: ISODate
    time: ISOTime | None = None


@dataclass(frozen=True, kw_only=True)
class ServiceDateTime:
    date_time_of_this_service: DateTimeOfService
    date_time_of_original_service: DateTimeOfService | None = None

    @classmethod
    def now(cls) -> ServiceDateTime:
        """Local date and time, to the second: the standard wants the time of whoever
        invokes the service, and requires it for a transaction's second service of a day."""
        moment = datetime.now().replace(microsecond=0)
        return cls(
            date_time_of_this_service=DateTimeOfService(date=moment.date(), time=moment.time())
        )


# --- addresses and delivery --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PostalAddress:
    name_of_person_or_institution: NameOfPersonOrInstitution | None = None
    extended_postal_delivery_address: str | None = None
    street_and_number: str | None = None
    post_office_box: str | None = None
    city: str | None = None
    region: str | None = None
    country: str | None = None
    postal_code: str | None = None


@dataclass(frozen=True, kw_only=True)
class DeliveryAddress:
    postal_address: PostalAddress | None = None
    electronic_address: SystemAddress | None = None


@dataclass(frozen=True, kw_only=True)
class EDeliveryService:
    """Electronic-Delivery-Service.e-delivery-service: the service's OID and its parameters
    (raw BER of the ANY DEFINED BY e-delivery-mode)."""

    e_delivery_mode: str
    e_delivery_parameters: bytes


@dataclass(frozen=True, kw_only=True)
class DocumentType:
    document_type_id: str
    document_type_parameters: bytes


EDeliveryDetails = SystemAddress | SystemId


@dataclass(frozen=True, kw_only=True)
class ElectronicDeliveryService:
    """Protocol version 2 only. Ariel, e-mail, FTP ... (e-delivery-description is the
    human-readable name many systems rely on)."""

    e_delivery_details: EDeliveryDetails
    e_delivery_service: EDeliveryService | None = None
    document_type: DocumentType | None = None
    e_delivery_description: str | None = None
    name_or_code: str | None = None
    delivery_time: ISOTime | None = None


# Delivery-Service: physical-delivery (a Transportation-Mode, i.e. free text such as
# "Ariel" or "FAX") or electronic-delivery (protocol version 2).
DeliveryService = str | tuple[ElectronicDeliveryService, ...]


# --- request parameters ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RequesterOptionalMessagesType:
    can_send_received: bool = True
    can_send_returned: bool = True
    requester_shipped: MessageRequirement = MessageRequirement.DESIRES
    requester_checked_in: MessageRequirement = MessageRequirement.DESIRES


@dataclass(frozen=True, kw_only=True)
class ResponderOptionalMessagesType:
    can_send_shipped: bool = True
    can_send_checked_in: bool = True
    responder_received: MessageRequirement = MessageRequirement.DESIRES
    responder_returned: MessageRequirement = MessageRequirement.DESIRES


@dataclass(frozen=True, kw_only=True)
class SearchType:
    level_of_service: str | None = None
    need_before_date: ISODate | None = None
    expiry_flag: ExpiryFlag = ExpiryFlag.NO_EXPIRY
    expiry_date: ISODate | None = None


@dataclass(frozen=True, kw_only=True)
class SupplyMediumInfoType:
    supply_medium_type: SupplyMediumType
    medium_characteristics: str | None = None


@dataclass(frozen=True, kw_only=True)
class ClientId:
    client_name: str | None = None
    client_status: str | None = None
    client_identifier: str | None = None


_AMOUNT_TEXT = re.compile(r"[0-9 .,]{1,10}")


@dataclass(frozen=True, kw_only=True)
class Amount:
    """A sum of money. monetary-value travels as text of digits, space, '.' and ','
    (at most 10 characters); here it is a Decimal, with the ISO 4217 currency code."""

    monetary_value: Decimal
    currency_code: str | None = None

    @staticmethod
    def parse_monetary_value(text: str) -> Decimal:
        """Read the wire text. Spaces are digit grouping; with both '.' and ',' present the
        later one is the decimal mark; a lone ',' followed by one or two digits is a decimal
        comma ("35,50"), otherwise a thousands separator ("1,000")."""
        digits = text.replace(" ", "")
        if "," in digits and "." in digits:
            if digits.rfind(",") > digits.rfind("."):
                digits = digits.replace(".", "").replace(",", ".")
            else:
                digits = digits.replace(",", "")
        elif "," in digits:
            head, _, tail = digits.rpartition(",")
            if digits.count(",") == 1 and len(tail) in (1, 2):
                digits = head + "." + tail
            else:
                digits = digits.replace(",", "")
        try:
            value = Decimal(digits)
        except InvalidOperation:
            raise ValueError(f"monetary-value {text!r} is not an amount") from None
        if not value.is_finite():
            raise ValueError(f"monetary-value {text!r} is not an amount")
        return value

    @staticmethod
    def format_monetary_value(value: Decimal) -> str:
        """Plain decimal text. A fraction whose ``0.`` form is one character too long is
        written ``.000000001``, as a peer may send it, so that every amount read from ten
        characters fits in ten again."""
        text = format(value, "f")
        if len(text) == 11 and text.startswith("0."):
            text = text[1:]
        if not _AMOUNT_TEXT.fullmatch(text):
            raise ValueError(
                f"monetary-value {text!r} must be 1 to 10 characters of digits, space, '.' "
                "and ',' (no sign)"
            )
        return text


@dataclass(frozen=True, kw_only=True)
class CostInfoType:
    account_number: str | None = None
    maximum_cost: Amount | None = None
    reciprocal_agreement: bool = False
    will_pay_fee: bool = False
    payment_provided: bool = False


@dataclass(frozen=True, kw_only=True)
class SendToListEntry:
    system_id: SystemId
    account_number: str | None = None
    system_address: SystemAddress | None = None


@dataclass(frozen=True, kw_only=True)
class ThirdPartyInfoType:
    permission_to_forward: bool = False
    permission_to_chain: bool = False
    permission_to_partition: bool = False
    permission_to_change_send_to_list: bool = False
    initial_requester_address: SystemAddress | None = None
    preference: Preference = Preference.UNORDERED
    send_to_list: tuple[SendToListEntry, ...] | None = None
    already_tried_list: tuple[SystemId, ...] | None = None


# --- EXTERNAL and extensions -------------------------------------------------------------


class ExternalValue:
    """Base of the typed EXTERNALs: a subclass names its OID and ASN.1 type and is
    registered with :func:`isoill.apdu.externals.register_external`."""

    __slots__ = ()
    oid: ClassVar[str]
    asn1_type: ClassVar[str]


@dataclass(frozen=True)
class UnknownExternal:
    """An EXTERNAL isoill has no type for: kept as the exact bytes received (the whole
    EXTERNAL TLV), so that relaying it changes nothing."""

    direct_reference: str | None
    ber: bytes


External = ExternalValue | UnknownExternal


@dataclass(frozen=True, kw_only=True)
class Extension:
    """identifier 1 means "implementor extension, item is an EXTERNAL" (ILL ASMA
    clarification 02); any other identifier's item is kept as raw BER bytes."""

    identifier: int
    item: External | bytes
    critical: bool = False


# --- item description --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ItemId:
    item_type: ItemType | None = None
    held_medium_type: MediumType | None = None
    call_number: str | None = None
    author: str | None = None
    title: str | None = None
    sub_title: str | None = None
    sponsoring_body: str | None = None
    place_of_publication: str | None = None
    publisher: str | None = None
    series_title_number: str | None = None
    volume_issue: str | None = None
    edition: str | None = None
    publication_date: str | None = None
    publication_date_of_component: str | None = None
    author_of_article: str | None = None
    title_of_article: str | None = None
    pagination: str | None = None
    national_bibliography_no: External | None = None
    isbn: str | None = None
    issn: str | None = None
    system_no: External | None = None
    additional_no_letters: str | None = None
    verification_reference_source: str | None = None


# --- answers and results -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class LocationInfo:
    location_id: SystemId
    location_address: SystemAddress | None = None
    location_note: str | None = None


@dataclass(frozen=True, kw_only=True)
class ConditionalResults:
    conditions: Conditions
    date_for_reply: ISODate | None = None
    locations: tuple[LocationInfo, ...] | None = None
    proposed_delivery_service: DeliveryService | None = None


@dataclass(frozen=True, kw_only=True)
class RetryResults:
    reason_not_available: ReasonNotAvailable | None = None
    retry_date: ISODate | None = None
    locations: tuple[LocationInfo, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class UnfilledResults:
    reason_unfilled: ReasonUnfilled
    locations: tuple[LocationInfo, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class LocationsResults:
    locations: tuple[LocationInfo, ...]
    reason_locs_provided: ReasonLocsProvided | None = None


@dataclass(frozen=True, kw_only=True)
class WillSupplyResults:
    reason_will_supply: ReasonWillSupply
    supply_date: ISODate | None = None
    return_to_address: PostalAddress | None = None
    locations: tuple[LocationInfo, ...] | None = None
    electronic_delivery_service: ElectronicDeliveryService | None = None


@dataclass(frozen=True, kw_only=True)
class HoldPlacedResults:
    estimated_date_available: ISODate
    hold_placed_medium_type: MediumType | None = None
    locations: tuple[LocationInfo, ...] | None = None


@dataclass(frozen=True, kw_only=True)
class EstimateResults:
    cost_estimate: str
    locations: tuple[LocationInfo, ...] | None = None


ResultsExplanation = (
    ConditionalResults
    | RetryResults
    | UnfilledResults
    | LocationsResults
    | WillSupplyResults
    | HoldPlacedResults
    | EstimateResults
)

# Which results-explanation alternative goes with which transaction-results value.
RESULTS_EXPLANATION_FOR: dict[TransactionResults, type[ResultsExplanation]] = {
    TransactionResults.CONDITIONAL: ConditionalResults,
    TransactionResults.RETRY: RetryResults,
    TransactionResults.UNFILLED: UnfilledResults,
    TransactionResults.LOCATIONS_PROVIDED: LocationsResults,
    TransactionResults.WILL_SUPPLY: WillSupplyResults,
    TransactionResults.HOLD_PLACED: HoldPlacedResults,
    TransactionResults.ESTIMATE: EstimateResults,
}


# --- shipping ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class DateDue:
    date_due_field: ISODate
    renewable: bool = True


@dataclass(frozen=True, kw_only=True)
class UnitsPerMediumType:
    medium: SupplyMediumType
    no_of_units: int


# Supply-Details.shipped-via: physical-delivery (Transportation-Mode text) or, in protocol
# version 2, one electronic-delivery service.
ShippedVia = str | ElectronicDeliveryService


@dataclass(frozen=True, kw_only=True)
class SupplyDetails:
    date_shipped: ISODate | None = None
    date_due: DateDue | None = None
    chargeable_units: int | None = None
    cost: Amount | None = None
    shipped_conditions: ShippedConditions | None = None
    shipped_via: ShippedVia | None = None
    insured_for: Amount | None = None
    return_insurance_require: Amount | None = None
    no_of_units_per_medium: tuple[UnitsPerMediumType, ...] | None = None


# --- damage, status, errors --------------------------------------------------------------


@dataclass(frozen=True)
class CompleteDocument:
    """Damaged-Details.damaged-portion: the whole document (the standard's NULL)."""


DamagedPortion = CompleteDocument | tuple[int, ...]


@dataclass(frozen=True, kw_only=True)
class DamagedDetails:
    damaged_portion: DamagedPortion
    document_type_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class HistoryReport:
    date_of_last_transition: ISODate
    most_recent_service: MostRecentService
    date_of_most_recent_service: ISODate
    initiator_of_most_recent_service: SystemId
    date_requested: ISODate | None = None
    author: str | None = None
    title: str | None = None
    author_of_article: str | None = None
    title_of_article: str | None = None
    shipped_service_type: ILLServiceType | None = None
    transaction_results: TransactionResults | None = None
    most_recent_service_note: str | None = None


@dataclass(frozen=True, kw_only=True)
class StatusReport:
    user_status_report: HistoryReport
    provider_status_report: CurrentState


@dataclass(frozen=True, kw_only=True)
class StateTransitionProhibited:
    apdu_type: ILLAPDUType
    current_state: CurrentState


ProviderErrorReport = GeneralProblem | TransactionIdProblem | StateTransitionProhibited


@dataclass(frozen=True, kw_only=True)
class AlreadyForwarded:
    responder_id: SystemId
    responder_address: SystemAddress | None = None


# User-Error-Report: already-forwarded, intermediary-problem, security-problem (text),
# unable-to-perform.
UserErrorReport = AlreadyForwarded | IntermediaryProblem | str | UnableToPerform


@dataclass(frozen=True, kw_only=True)
class ErrorReport:
    correlation_information: str
    report_source: ReportSource
    user_error_report: UserErrorReport | None = None
    provider_error_report: ProviderErrorReport | None = None


# --- EXTERNALs isoill knows --------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class OCLCILLRequestExtension(ExternalValue):
    """OCLC's ILL-Request extension (1.0.10161.13.2). paymentMethod ``IFM`` asks for
    OCLC's ILL Fee Management and then requires a maximum-cost in USD."""

    oid: ClassVar[str] = "1.0.10161.13.2"
    asn1_type: ClassVar[str] = "OCLCILLRequestExtension"

    client_department: str | None = None
    payment_method: str | None = None
    uniform_title: str | None = None
    dissertation: str | None = None
    issue_number: str | None = None
    volume: str | None = None
    affiliations: str | None = None
    source: str | None = None


@dataclass(frozen=True, kw_only=True)
class SystemNoEntry:
    system: LACSystem
    record_no: str


@dataclass(frozen=True, kw_only=True)
class SystemNo(ExternalValue):
    """Library and Archives Canada system number (1.2.124.10161.2); OCLC puts its record
    number here (system oclc) in Item-Id.system-no."""

    oid: ClassVar[str] = "1.2.124.10161.2"
    asn1_type: ClassVar[str] = "SystemNo"

    entries: tuple[SystemNoEntry, ...]
