"""Mapping profiles: what an APDU must look like to enter a network, applied on the way out.

The relay hands every APDU it forwards to the profile of the network it goes to. A profile
either returns the APDU as that network wants it or refuses it with every reason; a refusal
is answered to the sender with an error report, and nothing of the step is kept, so the
sender's transaction stays where it was.

* ``iso``: plain ISO 10161, as it is.
* ``oclc``: OCLC's ISO ILL service (its Direct Request rules): an ILL-Request needs a title
  and a loan or copy service type, and copyright compliance goes as ``ccg`` / ``ccl``
  (NACSIS staff write ``US:CCG``).
* ``nacsis``: NACSIS-ILL over the GIF link: every transferred field single-byte (rule N-5),
  checked on the record the request maps to, so the reasons name NACSIS's fields.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from isoill.apdu.apdus import APDU, ILLRequest
from isoill.apdu.enums import ILLServiceType
from isoill.errors import IsoillError
from isoill.mapping.record import single_byte_problems
from isoill.mapping.to_iso import record_from_request


class MappingRefused(IsoillError):
    """The APDU cannot enter the network; ``reasons`` says every why."""

    def __init__(self, network: str, reasons: list[str]) -> None:
        self.network = network
        super().__init__(reasons)

    def __str__(self) -> str:
        return f"{self.network}: {super().__str__()}"


def _iso(apdu: APDU) -> tuple[APDU, list[str]]:
    return apdu, []


_OCLC_SERVICES = {ILLServiceType.LOAN, ILLServiceType.COPY_NON_RETURNABLE}
_COPYRIGHT = {"CCG": "ccg", "CCL": "ccl"}


def _oclc(apdu: APDU) -> tuple[APDU, list[str]]:
    if not isinstance(apdu, ILLRequest):
        return apdu, []
    problems = []
    if apdu.item_id.title is None:
        problems.append("OCLC needs item-id title")
    if not _OCLC_SERVICES & set(apdu.ill_service_type):
        problems.append("OCLC takes only loan or copy-non-returnable requests")
    copyright_ = apdu.copyright_compliance
    if copyright_ is not None:
        normal = _COPYRIGHT.get(copyright_.strip().upper().removeprefix("US:"))
        if normal is None:
            problems.append(f"OCLC takes copyright compliance ccg or ccl, not {copyright_!r}")
        else:
            apdu = dataclasses.replace(apdu, copyright_compliance=normal)
    return apdu, problems


def _nacsis(apdu: APDU) -> tuple[APDU, list[str]]:
    if not isinstance(apdu, ILLRequest):
        return apdu, []
    return apdu, single_byte_problems(record_from_request(apdu))


PROFILES: dict[str, Callable[[APDU], tuple[APDU, list[str]]]] = {
    "iso": _iso,
    "oclc": _oclc,
    "nacsis": _nacsis,
}


def into(network: str, profile: str, apdu: APDU) -> APDU:
    """``apdu`` as network ``network`` (with mapping profile ``profile``) takes it; raises
    :class:`MappingRefused`."""
    mapped, problems = PROFILES[profile](apdu)
    if problems:
        raise MappingRefused(network, problems)
    return mapped
