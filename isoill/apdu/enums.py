"""The ENUMERATED types of ISO 10161-1 as Python enums.

Member values are the standard's numbers. Member names are the standard's names in Python
spelling (``copy-non-returnable`` -> ``COPY_NON_RETURNABLE``, ``nOT-SUPPLIED`` ->
``NOT_SUPPLIED``); the exact ASN.1 spelling is ``member.asn1_name``, which is what JSON and
the command line show. The codec checks at start-up that every enum here has exactly the
numbers the ASN.1 gives, so the two cannot drift apart.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Self

# number -> ASN.1 name, per enum; filled in by the codec's binder from the compiled ASN.1.
_ASN1_NAMES: dict[type[ASN1Enum], dict[int, str]] = {}


def set_asn1_names(cls: type[ASN1Enum], names: dict[int, str]) -> None:
    _ASN1_NAMES[cls] = dict(names)


def _names(cls: type[ASN1Enum]) -> dict[int, str]:
    names = _ASN1_NAMES.get(cls)
    if names is None:
        from isoill.apdu.codec import get_codec

        get_codec()  # binding the codec records every enum's ASN.1 names
        names = _ASN1_NAMES.get(cls)
        if names is None:
            raise LookupError(f"{cls.__name__} is not used by the ASN.1 the codec compiles")
    return names


class ASN1Enum(IntEnum):
    """An ENUMERATED type; knows the standard's spelling of its member names."""

    @property
    def asn1_name(self) -> str:
        return _names(type(self))[int(self)]

    @classmethod
    def from_asn1_name(cls, name: str) -> Self:
        """Accept the ASN.1 spelling, or the Python one, of a member name."""
        names = _names(cls)
        for number, asn1_name in names.items():
            if asn1_name == name:
                return cls(number)
        try:
            return cls[name.upper().replace("-", "_")]
        except KeyError:
            raise ValueError(
                f"{name!r} is not a {cls.__name__}; expected one of "
                + ", ".join(sorted(names.values()))
            ) from None


class TransactionType(ASN1Enum):
    SIMPLE = 1
    CHAINED = 2
    PARTITIONED = 3


class ILLServiceType(ASN1Enum):
    LOAN = 1
    COPY_NON_RETURNABLE = 2
    LOCATIONS = 3
    ESTIMATE = 4
    RESPONDER_SPECIFIC = 5


class MessageRequirement(ASN1Enum):
    """requester-SHIPPED, requester-CHECKED-IN, responder-RECEIVED, responder-RETURNED."""

    REQUIRES = 1
    DESIRES = 2
    NEITHER = 3


class ExpiryFlag(ASN1Enum):
    NEED_BEFORE_DATE = 1
    OTHER_DATE = 2
    NO_EXPIRY = 3


class PlaceOnHoldType(ASN1Enum):
    YES = 1
    NO = 2
    ACCORDING_TO_RESPONDER_POLICY = 3


class ItemType(ASN1Enum):
    MONOGRAPH = 1
    SERIAL = 2
    OTHER = 3


class MediumType(ASN1Enum):
    PRINTED = 1
    MICROFORM = 3
    FILM_OR_VIDEO_RECORDING = 4
    AUDIO_RECORDING = 5
    MACHINE_READABLE = 6
    OTHER = 7


class SupplyMediumType(ASN1Enum):
    PRINTED = 1
    PHOTOCOPY = 2
    MICROFORM = 3
    FILM_OR_VIDEO_RECORDING = 4
    AUDIO_RECORDING = 5
    MACHINE_READABLE = 6
    OTHER = 7


class Preference(ASN1Enum):
    """Third-Party-Info-Type.preference: is the send-to-list in order of preference?"""

    ORDERED = 1
    UNORDERED = 2


class TransactionResults(ASN1Enum):
    CONDITIONAL = 1
    RETRY = 2
    UNFILLED = 3
    LOCATIONS_PROVIDED = 4
    WILL_SUPPLY = 5
    HOLD_PLACED = 6
    ESTIMATE = 7


class Conditions(ASN1Enum):
    """Conditional-Results.conditions."""

    COST_EXCEEDS_LIMIT = 13
    CHARGES = 14
    PREPAYMENT_REQUIRED = 15
    LACKS_COPYRIGHT_COMPLIANCE = 16
    LIBRARY_USE_ONLY = 22
    NO_REPRODUCTION = 23
    CLIENT_SIGNATURE_REQUIRED = 24
    SPECIAL_COLLECTIONS_SUPERVISION_REQUIRED = 25
    OTHER = 27
    RESPONDER_SPECIFIC = 28
    PROPOSED_DELIVERY_SERVICE = 30


class ReasonNotAvailable(ASN1Enum):
    """Retry-Results.reason-not-available."""

    IN_USE_ON_LOAN = 1
    IN_PROCESS = 2
    ON_ORDER = 6
    VOLUME_ISSUE_NOT_YET_AVAILABLE = 7
    AT_BINDERY = 8
    COST_EXCEEDS_LIMIT = 13
    CHARGES = 14
    PREPAYMENT_REQUIRED = 15
    LACKS_COPYRIGHT_COMPLIANCE = 16
    NOT_FOUND_AS_CITED = 17
    ON_HOLD = 19
    OTHER = 27
    RESPONDER_SPECIFIC = 28


class ReasonUnfilled(ASN1Enum):
    IN_USE_ON_LOAN = 1
    IN_PROCESS = 2
    LOST = 3
    NON_CIRCULATING = 4
    NOT_OWNED = 5
    ON_ORDER = 6
    VOLUME_ISSUE_NOT_YET_AVAILABLE = 7
    AT_BINDERY = 8
    LACKING = 9
    NOT_ON_SHELF = 10
    ON_RESERVE = 11
    POOR_CONDITION = 12
    COST_EXCEEDS_LIMIT = 13
    CHARGES = 14
    PREPAYMENT_REQUIRED = 15
    LACKS_COPYRIGHT_COMPLIANCE = 16
    NOT_FOUND_AS_CITED = 17
    LOCATIONS_NOT_FOUND = 18
    ON_HOLD = 19
    POLICY_PROBLEM = 20
    MANDATORY_MESSAGING_NOT_SUPPORTED = 21
    EXPIRY_NOT_SUPPORTED = 22
    REQUESTED_DELIVERY_SERVICES_NOT_SUPPORTED = 23
    PREFERRED_DELIVERY_TIME_NOT_POSSIBLE = 24
    OTHER = 27
    RESPONDER_SPECIFIC = 28


class ReasonLocsProvided(ASN1Enum):
    IN_USE_ON_LOAN = 1
    IN_PROCESS = 2
    LOST = 3
    NON_CIRCULATING = 4
    NOT_OWNED = 5
    ON_ORDER = 6
    VOLUME_ISSUE_NOT_YET_AVAILABLE = 7
    AT_BINDERY = 8
    LACKING = 9
    NOT_ON_SHELF = 10
    ON_RESERVE = 11
    POOR_CONDITION = 12
    COST_EXCEEDS_LIMIT = 13
    ON_HOLD = 19
    OTHER = 27
    RESPONDER_SPECIFIC = 28


class ReasonWillSupply(ASN1Enum):
    IN_USE_ON_LOAN = 1
    IN_PROCESS = 2
    ON_ORDER = 6
    AT_BINDERY = 8
    ON_HOLD = 19
    BEING_PROCESSED_FOR_SUPPLY = 26
    OTHER = 27
    RESPONDER_SPECIFIC = 28
    ELECTRONIC_DELIVERY = 30


class ShippedConditions(ASN1Enum):
    LIBRARY_USE_ONLY = 22
    NO_REPRODUCTION = 23
    CLIENT_SIGNATURE_REQUIRED = 24
    SPECIAL_COLLECTIONS_SUPERVISION_REQUIRED = 25
    OTHER = 27


class CurrentState(ASN1Enum):
    NOT_SUPPLIED = 1
    PENDING = 2
    IN_PROCESS = 3
    FORWARD = 4
    CONDITIONAL = 5
    CANCEL_PENDING = 6
    CANCELLED = 7
    SHIPPED = 8
    RECEIVED = 9
    RENEW_PENDING = 10
    NOT_RECEIVED_OVERDUE = 11
    RENEW_OVERDUE = 12
    OVERDUE = 13
    RETURNED = 14
    CHECKED_IN = 15
    RECALL = 16
    LOST = 17
    UNKNOWN = 18


class ILLAPDUType(ASN1Enum):
    """The 20 APDU types: the one table of APDU names. Each member's name gives the
    standard's type name (:attr:`type_name`), which the codec's error paths, the state
    tables (upper case) and the reports derive from it rather than keep lists of their own."""

    @property
    def type_name(self) -> str:
        """The standard's type name: ``ILL-Request``, ``Status-Or-Error-Report``."""
        return "-".join(w if w == "ILL" else w.capitalize() for w in self.name.split("_"))

    ILL_REQUEST = 1
    FORWARD_NOTIFICATION = 2
    SHIPPED = 3
    ILL_ANSWER = 4
    CONDITIONAL_REPLY = 5
    CANCEL = 6
    CANCEL_REPLY = 7
    RECEIVED = 8
    RECALL = 9
    RETURNED = 10
    CHECKED_IN = 11
    OVERDUE = 12
    RENEW = 13
    RENEW_ANSWER = 14
    LOST = 15
    DAMAGED = 16
    MESSAGE = 17
    STATUS_QUERY = 18
    STATUS_OR_ERROR_REPORT = 19
    EXPIRED = 20


class MostRecentService(ASN1Enum):
    """History-Report.most-recent-service: the APDU types, plus FORWARD (21), less
    OVERDUE and RENEW (the standard's list, kept as it is)."""

    ILL_REQUEST = 1
    FORWARD = 21
    FORWARD_NOTIFICATION = 2
    SHIPPED = 3
    ILL_ANSWER = 4
    CONDITIONAL_REPLY = 5
    CANCEL = 6
    CANCEL_REPLY = 7
    RECEIVED = 8
    RECALL = 9
    RETURNED = 10
    CHECKED_IN = 11
    RENEW_ANSWER = 14
    LOST = 15
    DAMAGED = 16
    MESSAGE = 17
    STATUS_QUERY = 18
    STATUS_OR_ERROR_REPORT = 19
    EXPIRED = 20


class ReportSource(ASN1Enum):
    USER = 1
    PROVIDER = 2


class ReasonNoReport(ASN1Enum):
    TEMPORARY = 1
    PERMANENT = 2


class GeneralProblem(ASN1Enum):
    UNRECOGNIZED_APDU = 1
    MISTYPED_APDU = 2
    BADLY_STRUCTURED_APDU = 3
    PROTOCOL_VERSION_NOT_SUPPORTED = 4
    OTHER = 5


class TransactionIdProblem(ASN1Enum):
    DUPLICATE_TRANSACTION_ID = 1
    INVALID_TRANSACTION_ID = 2
    UNKNOWN_TRANSACTION_ID = 3


class IntermediaryProblem(ASN1Enum):
    CANNOT_SEND_ONWARD = 1


class UnableToPerform(ASN1Enum):
    NOT_AVAILABLE = 1
    RESOURCE_LIMITATION = 2
    OTHER = 3


class LACSystem(ASN1Enum):
    """The LAC system number's System (OID 1.2.124.10161.2)."""

    DOBIS = 1
    CANDOC = 2
    OCLC = 3
    RLIN = 4
    UTLAS = 5
    OTHER = 6
