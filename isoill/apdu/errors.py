"""Errors of the codec: always a clear message, never a bare crash.

A gateway operator reading a log line must be able to find the bad byte in a capture and
know which field it was meant to be, so a DecodeError carries the byte offset, the path of
components (``ILL-Request.item-id.title``) and the reason.
"""

from __future__ import annotations

from isoill.errors import IsoillError


class ILLCodecError(IsoillError, ValueError):
    """Base of the codec's errors: a reason and the path of components it concerns (its one
    entry in ``reasons`` is the whole message, path and offset included)."""

    def __init__(self, reason: str, path: list[str] | None = None) -> None:
        self.reason = reason
        self.path: list[str] = path if path is not None else []
        # Not IsoillError's __init__: the one reason is computed, since the path and offset
        # grow while the error travels outwards through the decoder.
        Exception.__init__(self, reason)

    @property
    def reasons(self) -> list[str]:  # type: ignore[override]
        return [str(self)]

    @property
    def where(self) -> str:
        return ".".join(self.path) if self.path else "ILL-APDU"

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


class DecodeError(ILLCodecError):
    """Bytes that are not a valid ILL APDU (or not the one expected).

    ``offset`` counts from the start of the data given to the decoder; ``path`` lists the
    ASN.1 components from the outermost inwards.
    """

    def __init__(self, reason: str, offset: int, path: list[str] | None = None) -> None:
        super().__init__(reason, path)
        self.offset = offset

    def __str__(self) -> str:
        return f"{super().__str__()} (at byte offset {self.offset})"


class IncompleteAPDU(DecodeError):
    """The data ends before the APDU does; more bytes may complete it (stream decoding)."""


class EncodeError(ILLCodecError):
    """A value that cannot be encoded as the standard requires; names the component."""


class JSONFormError(DecodeError, EncodeError):
    """A JSON form (:func:`isoill.from_json`) that is no APDU; names the component.

    Reading the JSON form is decoding, so this is a :class:`DecodeError` and whoever decodes
    input from outside catches one class of error for bytes and JSON alike; it stays an
    :class:`EncodeError`, which is what it was before, for code that catches that. JSON has
    no byte offsets: ``offset`` is 0 and the path says where.
    """

    def __init__(self, reason: str, path: list[str] | None = None) -> None:
        super().__init__(reason, 0, path)

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"
