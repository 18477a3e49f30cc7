"""The registry of typed EXTERNALs, keyed by object identifier.

An EXTERNAL whose direct-reference is registered decodes to its dataclass; any other is kept
as raw bytes (:class:`~isoill.apdu.types.UnknownExternal`) and re-encoded byte-identical, so a
gateway relays extensions it does not understand without damaging them.

To add one: write its ASN.1 in a module the codec compiles, a frozen dataclass subclassing
:class:`~isoill.apdu.types.ExternalValue` with ``oid`` and ``asn1_type``, and register it
before the first codec is built.
"""

from __future__ import annotations

from isoill.apdu.types import ExternalValue, OCLCILLRequestExtension, SystemNo

_REGISTRY: dict[str, type[ExternalValue]] = {}


def register_external(cls: type[ExternalValue]) -> type[ExternalValue]:
    """Register a typed EXTERNAL (usable as a class decorator)."""
    existing = _REGISTRY.get(cls.oid)
    if existing is not None and existing is not cls:
        raise ValueError(f"OID {cls.oid} is already registered to {existing.__name__}")
    _REGISTRY[cls.oid] = cls
    from isoill.apdu.codec import get_codec

    get_codec.cache_clear()  # codecs built before this do not know the new type
    return cls


def registered() -> list[type[ExternalValue]]:
    return list(_REGISTRY.values())


def external_type(oid: str) -> type[ExternalValue] | None:
    return _REGISTRY.get(oid)


register_external(OCLCILLRequestExtension)
register_external(SystemNo)
