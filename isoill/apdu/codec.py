"""The BER codec for typed APDUs: decode, encode and the JSON form, for one set of options.

The work is split by job: :mod:`isoill.apdu.binding` binds the ASN.1 to the dataclasses,
:mod:`isoill.apdu.ber_decode` and :mod:`isoill.apdu.ber_encode` read and write BER node by
node (the interpreter), :mod:`isoill.apdu.compiled` generates the fast path from the bound
tree, and :mod:`isoill.apdu.json_form` converts to and from the plain form. This module puts
them together for whole APDUs: the size limit, the version 1 rules, ``tcp_safe`` outer
lengths, error paths that start at the APDU's type name, and one shared codec per set of
options.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import cache
from typing import Any

from isoill.apdu import apdus as apdu_module
from isoill.apdu import types as model
from isoill.apdu.ber import DEFAULT_LIMITS, INDEFINITE, Limits, read_raw_length, read_tag
from isoill.apdu.binding import Binder, Coder, Options, python_name
from isoill.apdu.enums import ILLAPDUType
from isoill.apdu.errors import DecodeError, EncodeError, JSONFormError

__all__ = [
    "APDU_TYPE_NAMES",
    "Binder",
    "Codec",
    "Coder",
    "Options",
    "get_codec",
    "python_name",
    "version_2_only",
]


_DEFAULT_OPTIONS = Options()
_PRINTABLE = bytes(range(0x20, 0x7F))  # the ASCII octets YAZ's TCP layer takes for HTTP
#: How many encodings :meth:`Codec.encode` keeps by identity.
_ENCODINGS_KEPT = 64


class Codec:
    """Typed BER encoder and decoder for ILL APDUs, for one set of options."""

    def __init__(self, options: Options = _DEFAULT_OPTIONS) -> None:
        self.options = options
        binder = Binder(options)
        from isoill.apdu import externals

        externals.attach(binder)
        self._apdu = binder.bind_type("ILL-APDU", apdu_module.APDU)
        self._binder = binder
        from isoill.apdu.compiled import CompiledCodec

        self.compiled = CompiledCodec(self._apdu, options.omit_defaults)
        self._decode_apdu = self.compiled.decode
        self._encode_apdu = self.compiled.encode
        #: The encodings of the APDUs encoded last, by identity (each with its value, which
        #: keeps the identity from being reused): a relayed APDU is encoded for the wire and
        #: for the history of both legs that hold it, the same immutable value each time.
        self._encoded: OrderedDict[int, tuple[apdu_module.APDU, bytes]] = OrderedDict()

    def decode_prefix(self, data: bytes, offset: int = 0) -> tuple[apdu_module.APDU, int]:
        """Decode the APDU starting at ``offset``; return it and the offset after it.

        Raises :class:`IncompleteAPDU` when the data stops early (more bytes may follow on a
        stream) and :class:`DecodeError` for anything else that is wrong.
        """
        data = bytes(data)
        max_size = self.options.limits.max_apdu_size
        length, p, length_at = _claimed_length(data, offset)
        if length != INDEFINITE and p + length - offset > max_size:
            raise DecodeError(
                f"APDU of {p + length - offset} bytes exceeds the size limit of {max_size}",
                length_at,
            )
        limit = min(len(data), offset + max_size)
        try:
            value, end = self._decode_apdu(data, offset, limit)
        except DecodeError as err:
            _name_apdu(err.path)
            raise
        except (IndexError, RecursionError) as err:  # belt and braces: never a bare crash
            raise DecodeError(f"malformed encoding ({type(err).__name__})", offset) from err
        if getattr(value, "protocol_version_num", None) == 1:
            # A version 1 APDU carrying a version 2 parameter is refused as the encoder
            # refuses to write one: the peer contradicts itself, and relaying it would send
            # a version 1 partner something it cannot know.
            problem = version_2_only(value)
            if problem:
                raise DecodeError(
                    "present, but only protocol version 2 has it (protocol-version-num is 1)",
                    offset,
                    [APDU_TYPE_NAME_BY_CLASS[type(value)], *problem],
                )
        return value, end

    def decode(self, data: bytes) -> apdu_module.APDU:
        """Decode exactly one APDU; trailing bytes are an error (use
        :class:`isoill.StreamDecoder` or :meth:`decode_all` for several)."""
        data = bytes(data)
        if len(data) > self.options.limits.max_apdu_size:
            raise DecodeError(
                f"{len(data)} bytes exceeds the APDU size limit of "
                f"{self.options.limits.max_apdu_size}",
                0,
            )
        value, end = self.decode_prefix(data)
        if end != len(data):
            raise DecodeError(f"{len(data) - end} bytes after the end of the APDU", end)
        return value

    def decode_all(self, data: bytes) -> list[apdu_module.APDU]:
        """Decode concatenated APDUs (a capture, a trace file)."""
        data = bytes(data)
        out = []
        offset = 0
        while offset < len(data):
            value, offset = self.decode_prefix(data, offset)
            out.append(value)
        return out

    def encode(self, apdu: apdu_module.APDU, *, tcp_safe: bool = True) -> bytes:
        """Encode one APDU.

        With ``tcp_safe`` (the default) the outermost length is written in long form when
        the first four octets would otherwise all be printable ASCII, which YAZ's TCP layer
        mistakes for HTTP (it then waits for a header end that never comes).

        A protocol version 1 APDU may not carry the parameters version 2 added; encoding
        one that does is refused, naming the parameter.
        """
        if getattr(apdu, "protocol_version_num", None) == 1:
            problem = version_2_only(apdu)
            if problem:
                raise EncodeError(
                    "present, but only protocol version 2 has it (protocol-version-num is 1)",
                    [APDU_TYPE_NAME_BY_CLASS[type(apdu)], *problem],
                )
        kept = self._encoded.get(id(apdu))
        if kept is not None and kept[0] is apdu:
            encoded = kept[1]
        else:
            try:
                encoded = self._encode_apdu(apdu)
            except EncodeError as err:
                _name_apdu(err.path)
                raise
            # Each step is atomic under the GIL: the reactor and the storage thread both
            # encode.
            self._encoded[id(apdu)] = (apdu, encoded)
            if len(self._encoded) > _ENCODINGS_KEPT:
                self._encoded.popitem(last=False)
        if tcp_safe and not encoded[:4].translate(None, _PRINTABLE):
            encoded = _long_form_outer(encoded)
        return encoded

    def to_plain(self, apdu: apdu_module.APDU) -> dict[str, Any]:
        """The APDU as JSON-ready data with the standard's names:
        ``{"ill-request": {"transaction-id": {...}, "iLL-service-type": ["loan"], ...}}``.
        Dates and amounts appear as on the wire; unknown extensions as hex BER."""
        try:
            result: dict[str, Any] = self._apdu.plain(apdu)
        except EncodeError as err:
            _name_apdu(err.path)
            raise
        return result

    def from_plain(self, value: Any) -> apdu_module.APDU:
        """The inverse of :meth:`to_plain`; errors name the component.

        Whatever is wrong with ``value`` (it comes from outside: a file, a web form, a
        stored transaction) is a :class:`JSONFormError`, never a bare TypeError or
        ValueError from deep inside.
        """
        try:
            result: apdu_module.APDU = self._apdu.unplain(value)
        except EncodeError as err:
            _name_apdu(err.path)
            if isinstance(err, JSONFormError):
                raise
            raise JSONFormError(err.reason, err.path) from err
        except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as err:
            raise JSONFormError(f"not an APDU's JSON form ({type(err).__name__}: {err})") from err
        return result


def _claimed_length(data: bytes, offset: int) -> tuple[int, int, int]:
    """(the outermost length as claimed, or INDEFINITE; the contents' start; the length's
    offset): the forms isoill writes read in place, anything else by the general readers,
    which name what is wrong."""
    if offset + 2 < len(data) and data[offset] & 0x1F != 0x1F:
        first = data[offset + 1]
        if first < 0x80:
            return first, offset + 2, offset + 1
        if first == 0x81:
            return data[offset + 2], offset + 3, offset + 1
    _key, length_at = read_tag(data, offset)
    length, p = read_raw_length(data, length_at, True)
    return length, p, length_at


def version_2_only(apdu: Any) -> list[str]:
    """Path of the first parameter of ``apdu`` that protocol version 1 does not have
    (the standard's comments on electronic-delivery, proposed-delivery-service and
    damaged-details), or [] if there is none."""
    if isinstance(apdu, apdu_module.ILLRequest) and isinstance(apdu.delivery_service, tuple):
        return ["delivery-service", "electronic-delivery"]
    if isinstance(apdu, apdu_module.Shipped) and isinstance(
        apdu.supply_details.shipped_via, model.ElectronicDeliveryService
    ):
        return ["supply-details", "shipped-via", "electronic-delivery"]
    if (
        isinstance(apdu, apdu_module.ILLAnswer)
        and isinstance(apdu.results_explanation, model.ConditionalResults)
        and apdu.results_explanation.proposed_delivery_service is not None
    ):
        return ["results-explanation", "conditional-results", "proposed-delivery-service"]
    if isinstance(apdu, apdu_module.Damaged) and apdu.damaged_details is not None:
        return ["damaged-details"]
    return []


#: The standard's type name of each APDU, by its ILL-APDU alternative name (derived from
#: :class:`~isoill.apdu.enums.ILLAPDUType`, the one table of APDU names).
APDU_TYPE_NAMES = {t.type_name.lower(): t.type_name for t in ILLAPDUType}


APDU_TYPE_NAME_BY_CLASS: dict[type, str] = {
    cls: cls.apdu_type.type_name for cls in apdu_module.APDU_CLASSES
}


def _name_apdu(path: list[str]) -> None:
    """Paths start at the APDU's type name (ILL-Request.item-id), not its CHOICE arm."""
    if path and path[0] in APDU_TYPE_NAMES:
        path[0] = APDU_TYPE_NAMES[path[0]]


def _long_form_outer(encoded: bytes) -> bytes:
    """Rewrite the outermost definite short length as the two-octet long form (0x81 n)."""
    _key, p = read_tag(encoded, 0)
    length = encoded[p]
    if length >= 0x80:
        return encoded
    return encoded[:p] + bytes((0x81, length)) + encoded[p + 1 :]


@cache
def get_codec(
    charset: str = "utf-8", omit_defaults: bool = False, limits: Limits = DEFAULT_LIMITS
) -> Codec:
    """The shared codec for these options. Building one takes a tenth of a second or more
    (it generates and compiles code for every type), so it is built once per set of options
    however they are passed (``get_codec()`` and ``get_codec(charset="utf-8")`` are one);
    a server builds its codecs before it listens. Cached by its arguments too: every
    encode and decode asks for it, and making and hashing the options took longer than
    some whole encodings."""
    return _codec_for(Options(charset=charset, omit_defaults=omit_defaults, limits=limits))


@cache
def _codec_for(options: Options) -> Codec:
    return Codec(options)
