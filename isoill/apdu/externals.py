"""The registry of typed EXTERNALs, keyed by object identifier.

An EXTERNAL whose direct-reference is registered decodes to its dataclass; any other is kept
as raw bytes (:class:`~isoill.apdu.types.UnknownExternal`) and re-encoded byte-identical, so a
gateway relays extensions it does not understand without damaging them.

To add one: write its ASN.1 in a module the codec compiles, a frozen dataclass subclassing
:class:`~isoill.apdu.types.ExternalValue` with ``oid`` and ``asn1_type``, and register it.
Registration takes effect in every codec at once, those built before it included: a
gateway's associations each hold a stream decoder with its codec, and a registry that only
codecs built later saw would leave them decoding the new EXTERNAL as raw bytes until restart.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING

from isoill.apdu.types import ExternalValue, OCLCILLRequestExtension, SystemNo

if TYPE_CHECKING:
    from isoill.apdu.binding import Binder

_REGISTRY: dict[str, type[ExternalValue]] = {}
#: The binders of every live codec; each holds the EXTERNAL table its coders read at call time.
_BINDERS: weakref.WeakSet[Binder] = weakref.WeakSet()


def attach(binder: Binder) -> None:
    """Bind every registered EXTERNAL in ``binder`` and keep it up to date from now on."""
    for cls in _REGISTRY.values():
        binder.bind_external(cls)
    _BINDERS.add(binder)


def register_external(cls: type[ExternalValue]) -> type[ExternalValue]:
    """Register a typed EXTERNAL (usable as a class decorator)."""
    existing = _REGISTRY.get(cls.oid)
    if existing is not None and existing is not cls:
        raise ValueError(f"OID {cls.oid} is already registered to {existing.__name__}")
    _REGISTRY[cls.oid] = cls
    for binder in list(_BINDERS):  # codecs already built learn it too
        binder.bind_external(cls)
    return cls


def unregister_external(cls: type[ExternalValue]) -> None:
    """Forget a typed EXTERNAL everywhere (its values decode as UnknownExternal again)."""
    if _REGISTRY.get(cls.oid) is cls:
        del _REGISTRY[cls.oid]
        for binder in list(_BINDERS):
            binder.externals.pop(cls.oid, None)


def registered() -> list[type[ExternalValue]]:
    return list(_REGISTRY.values())


def external_type(oid: str) -> type[ExternalValue] | None:
    return _REGISTRY.get(oid)


register_external(OCLCILLRequestExtension)
register_external(SystemNo)
