"""A second BER decoder for ILL APDUs, built on pyasn1, for cross-checking isoill's codec.

isoill's codec is specialised code generated from asn1tools' compiled tree; a bug in how it
places a tag or applies a DEFAULT would round-trip happily through its own encoder. This
decoder shares nothing with it but the parsed ASN.1 text: the pyasn1 types are generated here
from asn1tools' *parser* output (the syntax, not the compiled codec), decoding is pyasn1's,
and the result is written in the same plain JSON form as :func:`isoill.to_json`, so the two
can be compared value for value.

The plain form's conventions, as ``isoill decode --json`` prints them: a SEQUENCE is an object
of the components present (DEFAULT-valued ones included), a CHOICE an object of one key, a
SEQUENCE OF a list, ENUMERATED its name, an EDIFACTString ``{"EDIFACTString": s}``, an
EXTERNAL of a known OID ``{"direct-reference", "single-ASN1-type"}`` and any other EXTERNAL or
ANY its BER in hex.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pyasn1.codec.ber import decoder as ber_decoder
from pyasn1.type import char, namedtype, namedval, tag, tagmap, univ, useful

from isoill.apdu import schema

__all__ = ["decode", "decode_all"]

#: EXTERNALs this decoder types: object identifier -> type name in the OCLC module. Written
#: out here, not taken from isoill's registry, so that the two stay independent.
KNOWN_EXTERNALS = {
    "1.0.10161.13.2": "OCLCILLRequestExtension",
    "1.2.124.10161.2": "SystemNo",
}

#: Extension.item is an EXTERNAL when the identifier is 1 (ILL ASMA clarification 02).
EXTENSION_EXTERNAL_IDENTIFIER = 1

ToPlain = Callable[[Any], Any]
Built = tuple[Any, ToPlain]

_STRING_TYPES: dict[str, type[Any]] = {
    "GeneralString": char.GeneralString,
    "VisibleString": char.VisibleString,
    "PrintableString": char.PrintableString,
}


class _Any(univ.Any):  # type: ignore[misc]
    """An ANY that, once tagged, claims only its own tag.

    pyasn1 lets every ANY match any tag, so two tagged ANYs in one SEQUENCE (Item-Id's
    national-bibliography-no and system-no) collide; a tagged ANY is found by its tag."""

    @property
    def tagMap(self) -> Any:
        if self.tagSet:
            return tagmap.TagMap({self.tagSet: self})
        return super().tagMap


class _External(univ.Sequence):  # type: ignore[misc]
    """EXTERNAL as X.208 defines it: [UNIVERSAL 8] IMPLICIT SEQUENCE."""

    tagSet = univ.Sequence.tagSet.tagImplicitly(
        tag.Tag(tag.tagClassUniversal, tag.tagFormatConstructed, 8)
    )
    componentType = namedtype.NamedTypes(
        namedtype.OptionalNamedType("direct-reference", univ.ObjectIdentifier()),
        namedtype.OptionalNamedType("indirect-reference", univ.Integer()),
        namedtype.OptionalNamedType("data-value-descriptor", useful.ObjectDescriptor()),
        namedtype.NamedType(
            "encoding",
            univ.Choice(
                componentType=namedtype.NamedTypes(
                    namedtype.NamedType(
                        "single-ASN1-type",
                        _Any().subtype(
                            explicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatConstructed, 0)
                        ),
                    ),
                    namedtype.NamedType(
                        "octet-aligned",
                        univ.OctetString().subtype(
                            implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, 1)
                        ),
                    ),
                    namedtype.NamedType(
                        "arbitrary",
                        univ.BitString().subtype(
                            implicitTag=tag.Tag(tag.tagClassContext, tag.tagFormatSimple, 2)
                        ),
                    ),
                )
            ),
        ),
    )


class _Builder:
    """Turns parser descriptors into (pyasn1 type, plain-form converter) pairs."""

    def __init__(self, charset: str) -> None:
        self.charset = charset
        self.spec = schema.parsed()
        self.named: dict[str, Built] = {}
        self.externals: dict[str, Built] = {
            oid: self.named_type(name) for oid, name in KNOWN_EXTERNALS.items()
        }

    def named_type(self, name: str) -> Built:
        if name not in self.named:
            _, desc = schema.type_descriptor(name)
            self.named[name] = self.build(desc, name)
        return self.named[name]

    def build(self, desc: dict[str, Any], name: str = "") -> Built:
        """The type ``desc`` describes, with its own tag (if any) applied."""
        asn1_type, to_plain = self._untagged(desc, name)
        tag_desc = desc.get("tag")
        if tag_desc is None:
            return asn1_type, to_plain
        tag_class = {
            "APPLICATION": tag.tagClassApplication,
            "UNIVERSAL": tag.tagClassUniversal,
            "PRIVATE": tag.tagClassPrivate,
        }.get(tag_desc.get("class", ""), tag.tagClassContext)
        # A CHOICE or an ANY cannot be tagged implicitly: its own tag is what tells the
        # alternatives apart. Every other tag follows the module default, EXPLICIT.
        untaggable = isinstance(asn1_type, univ.Choice | univ.Any) and not asn1_type.tagSet
        if tag_desc.get("kind") == "IMPLICIT" and not untaggable:
            fmt = asn1_type.tagSet.baseTag.tagFormat if asn1_type.tagSet else 0
            new_tag = tag.Tag(tag_class, fmt, tag_desc["number"])
            return asn1_type.subtype(implicitTag=new_tag), to_plain
        new_tag = tag.Tag(tag_class, tag.tagFormatConstructed, tag_desc["number"])
        return asn1_type.subtype(explicitTag=new_tag), to_plain

    def _untagged(self, desc: dict[str, Any], name: str) -> Built:
        kind = desc["type"]
        if kind == "SEQUENCE":
            return self._sequence(desc, name)
        if kind == "SEQUENCE OF":
            element, element_plain = self.build(desc["element"])
            return univ.SequenceOf(componentType=element), lambda v: [element_plain(e) for e in v]
        if kind == "CHOICE":
            return self._choice(desc, name)
        if kind == "ENUMERATED":
            values = namedval.NamedValues(*[(n, v) for n, v in desc["values"]])
            by_number = {v: n for n, v in desc["values"]}
            return univ.Enumerated(namedValues=values), lambda v: by_number.get(int(v), int(v))
        if kind == "INTEGER":
            return univ.Integer(), int
        if kind == "BOOLEAN":
            return univ.Boolean(), bool
        if kind == "NULL":
            return univ.Null(), lambda v: None
        if kind == "OBJECT IDENTIFIER":
            return univ.ObjectIdentifier(), str
        if kind in _STRING_TYPES:
            charset = self.charset if kind == "GeneralString" else "ascii"
            return _STRING_TYPES[kind](), lambda v: bytes(v.asOctets()).decode(charset)
        if kind == "EXTERNAL":
            return _Any(), self._external_plain
        if kind in ("ANY", "ANY DEFINED BY"):
            return _Any(), lambda v: {"ber": bytes(v).hex()}
        return self.named_type(kind)

    def _sequence(self, desc: dict[str, Any], name: str) -> Built:
        members: list[Any] = []
        converters: list[tuple[str, ToPlain]] = []
        # pyasn1 fills in absent DEFAULT components of some SEQUENCEs but not of those inside
        # a SEQUENCE OF; an absent DEFAULT component has its default value either way.
        defaults: dict[str, Any] = {}
        for member in desc["members"]:
            member_type, member_plain = self.build(member)
            if "default" in member:
                defaults[member["name"]] = member_type.clone(member["default"])
                members.append(
                    namedtype.DefaultedNamedType(member["name"], defaults[member["name"]])
                )
            elif member.get("optional"):
                members.append(namedtype.OptionalNamedType(member["name"], member_type))
            else:
                members.append(namedtype.NamedType(member["name"], member_type))
            converters.append((member["name"], member_plain))
        is_extension = name == "Extension"

        def to_plain(value: Any) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for field, convert in converters:
                component = value.getComponentByName(field, instantiate=False)
                if component is univ.noValue or not component.isValue:
                    if field not in defaults:
                        continue
                    component = defaults[field]
                out[field] = convert(component)
            if is_extension and out["identifier"] == EXTENSION_EXTERNAL_IDENTIFIER:
                out["item"] = self._external_plain(value["item"])
            return out

        return univ.Sequence(componentType=namedtype.NamedTypes(*members)), to_plain

    def _choice(self, desc: dict[str, Any], name: str) -> Built:
        arms: list[Any] = []
        converters: dict[str, ToPlain] = {}
        for member in desc["members"]:
            member_type, member_plain = self.build(member)
            arms.append(namedtype.NamedType(member["name"], member_type))
            converters[member["name"]] = member_plain
        choice = univ.Choice(componentType=namedtype.NamedTypes(*arms))
        if name == "ILL-String":
            # Plain ILL-Strings are text; only EDIFACTString is marked, as isoill marks it.
            def ill_string(value: Any) -> Any:
                text = converters[value.getName()](value.getComponent())
                return {"EDIFACTString": text} if value.getName() == "edifactstring" else text

            return choice, ill_string

        def to_plain(value: Any) -> dict[str, Any]:
            arm = value.getName()
            return {arm: converters[arm](value.getComponent())}

        return choice, to_plain

    def _external_plain(self, value: Any) -> dict[str, Any]:
        ber = bytes(value)
        external, rest = ber_decoder.decode(ber, asn1Spec=_External())
        if rest:
            raise ValueError(f"{len(rest)} bytes after the EXTERNAL")
        oid = external.getComponentByName("direct-reference", instantiate=False)
        direct_reference = str(oid) if oid is not univ.noValue and oid.isValue else None
        encoding = external["encoding"]
        known = self.externals.get(direct_reference) if direct_reference else None
        plain_external = (
            known is not None
            and encoding.getName() == "single-ASN1-type"
            and not external["indirect-reference"].isValue
            and not external["data-value-descriptor"].isValue
        )
        if plain_external and known is not None:
            inner, inner_rest = ber_decoder.decode(
                bytes(encoding.getComponent()), asn1Spec=known[0]
            )
            if not inner_rest:
                return {"direct-reference": direct_reference, "single-ASN1-type": known[1](inner)}
        out: dict[str, Any] = {}
        if direct_reference is not None:
            out["direct-reference"] = direct_reference
        out["ber"] = ber.hex()
        return out


_BUILDERS: dict[str, tuple[Any, ToPlain]] = {}


def _apdu_type(charset: str) -> tuple[Any, ToPlain]:
    if charset not in _BUILDERS:
        _BUILDERS[charset] = _Builder(charset).named_type("ILL-APDU")
    return _BUILDERS[charset]


def decode_all(data: bytes, *, charset: str = "utf-8") -> list[dict[str, Any]]:
    """Every APDU in concatenated ``data``, in isoill's plain JSON form."""
    asn1_type, to_plain = _apdu_type(charset)
    out = []
    rest = bytes(data)
    while rest:
        value, rest = ber_decoder.decode(rest, asn1Spec=asn1_type)
        out.append(to_plain(value))
    return out


def decode(data: bytes, *, charset: str = "utf-8") -> dict[str, Any]:
    """Exactly one APDU, in isoill's plain JSON form; pyasn1's own errors pass through."""
    asn1_type, to_plain = _apdu_type(charset)
    value, rest = ber_decoder.decode(bytes(data), asn1Spec=asn1_type)
    if rest:
        raise ValueError(f"{len(rest)} bytes after the APDU")
    return to_plain(value)  # type: ignore[no-any-return]
