"""What the codec's jobs share: the universal tags isoill reads by hand, the text rules of
the VisibleString types (a value decodes only if it would encode), the wording of the
messages BER decoding and encoding give for the same fault, and the index in the path of a
SEQUENCE OF's item that BER encoding or the JSON form refuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from isoill.apdu.ber import CONSTRUCTED
from isoill.apdu.enums import ASN1Enum
from isoill.apdu.errors import EncodeError

GENERAL_STRING = 0x1B
EDIFACT_STRING = 0x1A  # VisibleString
OCTET_STRING = 0x04
EXTERNAL_TAG = 0x28


def constructed(key: int) -> int:
    """The tag key of the constructed form of a (primitive) tag key."""
    return key | CONSTRUCTED if key < 0x100 else key | (CONSTRUCTED << 24)


def shown(text: str) -> str:
    """A peer's text for an error message: its repr, cut short (it may be 64 KiB)."""
    return repr(text) if len(text) <= 40 else repr(text[:40]) + "..."


def allowed(size: tuple[int, int]) -> str:
    return str(size[0]) if size[0] == size[1] else f"{size[0]} to {size[1]}"


def permitted_names(permitted: frozenset[ASN1Enum] | None) -> str:
    """``loan or copy-non-returnable``: the values a restricted ENUMERATED accepts."""
    return " or ".join(m.asn1_name for m in sorted(permitted or (), key=int))


def each_indexed(items: Any, convert: Callable[[Any], Any]) -> list[Any]:
    """``convert`` of each of a SEQUENCE OF's items, an error naming the item's index."""
    out = []
    for index, item in enumerate(items):
        try:
            out.append(convert(item))
        except EncodeError as err:
            err.path.insert(0, f"[{index}]")
            raise
    return out


def text_rules(
    parse: Callable[[str], Any],
    format_: Callable[[Any], str],
    type_name: str,
    size: tuple[int, int] | None,
) -> tuple[Callable[[bytes], Any], Callable[[Any], str]]:
    """(convert, written) for a VisibleString / PrintableString based type: content octets
    to a value, and a value to the text the encoder writes; both raise ValueError with the
    reason when there is none."""

    def convert(raw: bytes) -> Any:
        """The value of the content octets; ValueError with the reason if there is none."""
        try:
            text = raw.decode("ascii")
        except UnicodeDecodeError:
            raise ValueError(f"{type_name} holds a non-ASCII byte") from None
        value = parse(text)
        # What the encoder would write for this value must pass the encoder's own
        # checks: a currency code of 4 letters, or an amount whose plain decimal
        # form is longer than AmountString allows ("1E+20"), is refused here with the
        # reason instead of decoding to a value that cannot be sent on.
        written(value)
        return value

    def written(value: Any) -> str:
        """The text the encoder writes for ``value``; ValueError with the reason if none."""
        text = format_(value)
        if size is not None and not size[0] <= len(text) <= size[1]:
            raise ValueError(
                f"{len(text)} characters ({shown(text)}); the standard allows {allowed(size)}"
            )
        if not text.isascii():
            raise ValueError(f"{shown(text)} is not ASCII, as {type_name} must be")
        return text

    return convert, written
