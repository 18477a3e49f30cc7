"""specs/asn1 is a faithful transcription: every type, component and tag agrees with the
published module (ISO-10161-ILL-1 as Debian's ``yaz`` package installs it, and OCLC's
extension module beside it)."""

from __future__ import annotations

import re
from typing import Any

import asn1tools
import pytest

from isoill.apdu import schema
from tests.system_tools import YAZ_ASN1

REFERENCE = YAZ_ASN1


def _name_alternatives(text: str, type_name: str) -> str:
    """The published module leaves ILL-APDU's and ILL-String's alternatives unnamed, which
    asn1tools cannot parse; name them as specs/asn1 does (lower-cased type names)."""
    match = re.search(re.escape(type_name) + r" ::= CHOICE \{(.*?)\}", text, re.S)
    assert match, type_name
    body = match.group(1)
    named = re.sub(
        r"(\s*)([A-Z][\w-]*)(\s*,|\s*$)",
        lambda m: f"{m.group(1)}{m.group(2).lower()} {m.group(2)}{m.group(3)}",
        body,
    )
    return text.replace(body, named)


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    ill = (REFERENCE / "ill9702.asn").read_text()
    ill = _name_alternatives(ill, "ILL-APDU")
    ill = _name_alternatives(ill, "ILL-String")
    ill = ill.replace('"""', "{2, 2}")
    oclc = (REFERENCE / "oclc-ill-req-ext.asn").read_text()
    oclc = re.sub(r"OF SEQUENCE\s*\n(\s*system)", r"OF SEQUENCE {\n\1", oclc)
    parsed: dict[str, Any] = asn1tools.parse_string(ill + "\n" + oclc)
    return parsed


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    return asn1tools.parse_files([str(p) for p in schema.spec_paths()])


def _shape(descriptor: Any) -> Any:
    """What must agree: types, names, tags, OPTIONAL/DEFAULT, enumerations, constraints.
    Comments and layout are free."""
    if isinstance(descriptor, dict):
        return {
            key: _shape(value)
            for key, value in descriptor.items()
            if key not in ("from",)  # the EDIFACT alphabet is compared separately
        }
    if isinstance(descriptor, list):
        return [_shape(item) for item in descriptor]
    return descriptor


@pytest.mark.yaz
def test_same_modules_and_types(reference: dict[str, Any], ours: dict[str, Any]) -> None:
    assert set(reference) == set(ours) == {schema.ILL_MODULE, schema.OCLC_MODULE}
    for module in reference:
        assert set(reference[module]["types"]) == set(ours[module]["types"]), module


@pytest.mark.yaz
@pytest.mark.parametrize("module", [schema.ILL_MODULE, schema.OCLC_MODULE])
def test_every_type_component_and_tag_agrees(
    reference: dict[str, Any], ours: dict[str, Any], module: str
) -> None:
    # A module without a tagging default is EXPLICIT TAGS (X.680); ours says so outright.
    assert (reference[module].get("tags") or "EXPLICIT") == ours[module].get("tags")
    mismatches = [
        name
        for name, descriptor in reference[module]["types"].items()
        if _shape(descriptor) != _shape(ours[module]["types"][name])
    ]
    assert mismatches == []


@pytest.mark.yaz
def test_agreement_check_would_catch_a_changed_tag(
    reference: dict[str, Any], ours: dict[str, Any]
) -> None:
    """The comparison above is not vacuous: one tag moved is one mismatch."""
    changed = _shape(ours[schema.ILL_MODULE]["types"]["Item-Id"])
    changed["members"][4]["tag"]["number"] = 99
    assert changed != _shape(reference[schema.ILL_MODULE]["types"]["Item-Id"])


@pytest.mark.yaz
def test_edifact_alphabet_agrees(reference: dict[str, Any]) -> None:
    """The quotation mark is the one character whose spelling differs; after the codec's
    repair of the parsed form the alphabets are the same set."""
    published = {
        low for low, _high in reference[schema.ILL_MODULE]["types"]["EDIFACTString"]["from"]
    }
    published = {'"' if ch == "{" else ch for ch in published}
    repaired = {
        low for low, _high in schema.parsed()[schema.ILL_MODULE]["types"]["EDIFACTString"]["from"]
    }
    assert published == repaired
    assert '"' in repaired and "{" not in repaired


def test_value_set_constraint_is_kept() -> None:
    assert schema.VALUE_SETS["Shipped-Service-Type"] == ("loan", "copy-non-returnable")
