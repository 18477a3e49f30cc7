"""ISO 10161-1 APDUs: typed values, BER codec, stream decoder.

The functions here use one shared codec per set of options; build a
:class:`~isoill.apdu.codec.Codec` yourself to keep one per peer.
"""

from __future__ import annotations

from typing import Any

from isoill.apdu.apdus import (
    APDU,
    APDU_CLASS_BY_TYPE,
    APDU_CLASSES,
    PROTOCOL_VERSION,
    APDUBase,
    Cancel,
    CancelReply,
    CheckedIn,
    ConditionalReply,
    Damaged,
    Expired,
    ForwardNotification,
    ILLAnswer,
    ILLRequest,
    Lost,
    Message,
    Overdue,
    Recall,
    Received,
    Renew,
    RenewAnswer,
    Returned,
    Shipped,
    StatusOrErrorReport,
    StatusQuery,
)
from isoill.apdu.ber import DEFAULT_LIMITS, Limits
from isoill.apdu.codec import Codec, get_codec
from isoill.apdu.errors import DecodeError, EncodeError, IncompleteAPDU, JSONFormError
from isoill.apdu.externals import register_external
from isoill.apdu.stream import OutOfStep, StreamDecoder, UndecodableAPDU


def encode(
    apdu: APDU, *, omit_defaults: bool = False, tcp_safe: bool = True, charset: str = "utf-8"
) -> bytes:
    """BER for one APDU, definite lengths, every DEFAULT-valued component written (YAZ
    rejects an APDU without them); ``omit_defaults=True`` leaves them out, as DER would."""
    return get_codec(charset=charset, omit_defaults=omit_defaults).encode(apdu, tcp_safe=tcp_safe)


def decode(data: bytes, *, charset: str = "utf-8", limits: Limits = DEFAULT_LIMITS) -> APDU:
    """Exactly one APDU from ``data`` (definite or indefinite lengths)."""
    return get_codec(charset=charset, limits=limits).decode(data)


def decode_all(
    data: bytes, *, charset: str = "utf-8", limits: Limits = DEFAULT_LIMITS
) -> list[APDU]:
    """Every APDU in concatenated ``data``, in order."""
    return get_codec(charset=charset, limits=limits).decode_all(data)


def to_json(apdu: APDU) -> dict[str, Any]:
    """JSON-ready form with the standard's hyphenated names (``isoill decode --json``)."""
    return get_codec().to_plain(apdu)


def from_json(value: Any) -> APDU:
    """The APDU that :func:`to_json` gave ``value`` for; :class:`JSONFormError` (a
    DecodeError) for anything else."""
    return get_codec().from_plain(value)


__all__ = [
    "APDU",
    "APDU_CLASSES",
    "APDU_CLASS_BY_TYPE",
    "DEFAULT_LIMITS",
    "PROTOCOL_VERSION",
    "APDUBase",
    "Cancel",
    "CancelReply",
    "CheckedIn",
    "Codec",
    "ConditionalReply",
    "Damaged",
    "DecodeError",
    "EncodeError",
    "Expired",
    "ForwardNotification",
    "ILLAnswer",
    "ILLRequest",
    "IncompleteAPDU",
    "JSONFormError",
    "Limits",
    "Lost",
    "Message",
    "OutOfStep",
    "Overdue",
    "Recall",
    "Received",
    "Renew",
    "RenewAnswer",
    "Returned",
    "Shipped",
    "StatusOrErrorReport",
    "StatusQuery",
    "StreamDecoder",
    "UndecodableAPDU",
    "decode",
    "decode_all",
    "encode",
    "from_json",
    "register_external",
    "to_json",
]
