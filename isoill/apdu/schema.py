"""The ASN.1 of specs/asn1, parsed and compiled by asn1tools.

asn1tools is isoill's ASN.1 compiler: it parses the modules and resolves every tag (EXPLICIT
TAGS module default, IMPLICIT overrides, untagged CHOICEs, [APPLICATION n] wrappers) into its
BER type tree. The codec (:mod:`isoill.apdu.binding`) is built from that tree, so tags are
never written twice.

Two things in the standard's text asn1tools cannot compile, handled here rather than by
editing the ASN.1:

* the value-set constraint ``Shipped-Service-Type ::= ILL-Service-Type (loan |
  copy-non-returnable)``: removed before compiling and kept as ``VALUE_SETS``, which the
  codec enforces when encoding;
* the EDIFACTString alphabet's quotation mark, written ``{2, 2}`` in tuple notation, which
  asn1tools' parser reads as ``{``: corrected in the parsed form.

:func:`raw_specification` also gives asn1tools' own dict-based codec on the same ASN.1, with
the repairs it needs to handle real ILL traffic (see there). It is the benchmark baseline and a
cross-check in the tests; isoill's API does not use it.
"""

from __future__ import annotations

import copy
import hashlib
import os
import pickle
from functools import cache
from pathlib import Path
from typing import Any

import asn1tools
from asn1tools.codecs import ber as asn1tools_ber

SPEC_DIR = Path(__file__).resolve().parent / "asn1"
SPEC_FILES = ("ISO-10161-ILL-1.asn", "OCLCILLRequestExtension.asn")
ILL_MODULE = "ISO-10161-ILL-1"
OCLC_MODULE = "OCLCILLRequestExtension"

#: Value-set constraints asn1tools cannot compile: type name -> permitted enumeration names.
VALUE_SETS: dict[str, tuple[str, ...]] = {}


def spec_paths() -> list[Path]:
    return [SPEC_DIR / name for name in SPEC_FILES]


def _cache_file(name: str) -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache")
    return Path(base) / "isoill" / name


def read_cache(name: str) -> bytes | None:
    """The bytes cached under ``name`` in isoill's cache directory, if any."""
    try:
        return _cache_file(name).read_bytes()
    except OSError:
        return None


def write_cache(name: str, data: bytes) -> None:
    """Cache ``data`` under ``name``, atomically; a cache that cannot be written is simply
    not used."""
    path = _cache_file(name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError:
        pass


@cache
def parsed() -> dict[str, Any]:
    """The modules as asn1tools' parser returns them, repaired as the module docstring says.

    Parsing takes a third of a second, so the result is cached on disk keyed by the files'
    contents; a cache that cannot be read or written is simply not used.
    """
    texts = [path.read_bytes() for path in spec_paths()]
    digest = hashlib.sha256(b"\0".join(texts) + asn1tools.__version__.encode()).hexdigest()[:16]
    name = f"asn1-{digest}.pickle"
    cached = read_cache(name)
    if cached is not None:
        try:
            spec: dict[str, Any] = pickle.loads(cached)
            _collect_value_sets(spec)
            return spec
        except Exception:
            pass
    spec = asn1tools.parse_files([str(path) for path in spec_paths()])
    _repair(spec)
    write_cache(name, pickle.dumps(spec))
    return spec


def _repair(spec: dict[str, Any]) -> None:
    types = spec[ILL_MODULE]["types"]
    for descriptor in types.values():
        if "restricted-to" in descriptor and descriptor.get("type") == "ILL-Service-Type":
            descriptor["x-value-set"] = tuple(descriptor.pop("restricted-to"))
    alphabet = types["EDIFACTString"]["from"]
    types["EDIFACTString"]["from"] = [
        ('"', '"') if pair == ("{", "{") else pair for pair in alphabet
    ]
    _collect_value_sets(spec)


def _collect_value_sets(spec: dict[str, Any]) -> None:
    for name, descriptor in spec[ILL_MODULE]["types"].items():
        if "x-value-set" in descriptor:
            VALUE_SETS[name] = descriptor["x-value-set"]


def type_descriptor(name: str) -> tuple[str, dict[str, Any]]:
    """(module name, descriptor) of a type defined in one of the modules."""
    spec = parsed()
    for module_name, module in spec.items():
        if name in module["types"]:
            return module_name, module["types"][name]
    raise KeyError(name)


@cache
def compiled_tree() -> dict[str, dict[str, Any]]:
    """asn1tools' BER type tree: module -> type name -> compiled type (``.type`` is the root
    node). Compiled from a copy, because asn1tools' compiler rewrites what it is given."""
    return asn1tools_ber.compile_dict(copy.deepcopy(parsed()))  # type: ignore[no-any-return]


def compiled_type(name: str) -> Any:
    module_name, _ = type_descriptor(name)
    return compiled_tree()[module_name][name].type


# --- asn1tools' own codec, repaired --------------------------------------------------------


@cache
def raw_specification() -> Any:
    """asn1tools' dict codec for the same modules, with four repairs, in this order of need:

    1. ``item [2] ANY DEFINED BY identifier`` (Extension) raises TypeError in asn1tools when
       explicitly tagged (it calls the ANY without the enclosing values): the ANY is replaced
       by one that passes raw BER through, encoding and decoding.
    2. EXTERNAL's ``single-ASN1-type`` is compiled as NULL, so no real EXTERNAL decodes: it
       becomes an ANY too.
    3. ANY refuses indefinite lengths, which YAZ sends for large EXTERNALs: the repaired ANY
       walks them.
    4. DEFAULT values: asn1tools leaves out a component equal to its default, and YAZ then
       rejects the APDU; defaulted ENUMERATEDs come back as raw numbers when absent. Every
       component is written when given, and defaults are given by name.
    """
    spec = asn1tools.compile_dict(copy.deepcopy(parsed()), codec="ber")
    seen: set[int] = set()
    for module in spec.modules.values():
        for compiled in module.values():
            compiled._type = _repair_node(compiled._type, seen)
    return spec


class _RawAny(asn1tools_ber.Type):  # type: ignore[misc]
    """An ANY that keeps the TLV's bytes, indefinite lengths included."""

    def __init__(self, name: str) -> None:
        super().__init__(name, "ANY", None)

    def encode(self, data: bytes, encoded: bytearray, values: Any = None) -> None:
        encoded.extend(data)

    def decode(self, data: bytearray, offset: int, values: Any = None) -> tuple[bytes, int]:
        from isoill.apdu.ber import DEFAULT_LIMITS, skip_tlv

        end = skip_tlv(bytes(data), offset, len(data), DEFAULT_LIMITS)
        return bytes(data[offset:end]), end


def _repair_node(node: Any, seen: set[int]) -> Any:
    if id(node) in seen:
        return node
    seen.add(id(node))
    if isinstance(node, asn1tools_ber.AnyDefinedBy | asn1tools_ber.Any):
        return _RawAny(node.name)
    if isinstance(node, asn1tools_ber.ExplicitTag):
        node.inner = _repair_node(node.inner, seen)
    elif isinstance(node, asn1tools_ber.Sequence | asn1tools_ber.Set):
        if bytes(node.tag) == b"\x28":  # EXTERNAL: single-ASN1-type is [0] EXPLICIT ANY
            encoding = node.root_members[-1]
            single = atb_explicit("single-ASN1-type", _RawAny("single-ASN1-type"))
            encoding.members = [
                single if m.name == "single-ASN1-type" else m for m in encoding.members
            ]
            encoding.name_to_member = {m.name: m for m in encoding.members}
            encoding.tag_to_member = {}
            encoding.add_tags(encoding.members)
        node.root_members = [_repair_node(member, seen) for member in node.root_members]
        for member in node.root_members:
            _always_write(member)
    elif isinstance(node, asn1tools_ber.SequenceOf | asn1tools_ber.SetOf):
        node.element_type = _repair_node(node.element_type, seen)
    elif isinstance(node, asn1tools_ber.Choice):
        node.members = [_repair_node(member, seen) for member in node.members]
        node.name_to_member = {member.name: member for member in node.members}
        node.tag_to_member = {}
        node.add_tags(node.members)
    return node


def atb_explicit(name: str, inner: Any) -> Any:
    tagged = asn1tools_ber.ExplicitTag(name, inner)
    tagged.set_tag(0, asn1tools_ber.Class.CONTEXT_SPECIFIC)
    return tagged


def _always_write(member: Any) -> None:
    target = member.inner if isinstance(member, asn1tools_ber.ExplicitTag) else member
    if not target.has_default():
        return
    default = target.get_default()
    if isinstance(target, asn1tools_ber.Enumerated) and isinstance(default, int):
        target.set_default(target.value_to_data[default])
    target.is_default = lambda value: False
