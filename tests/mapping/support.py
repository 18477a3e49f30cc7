"""The NACSIS-ILL record of the issue's example, shared by the mapping tests."""

from __future__ import annotations

#: The GIF copy request as NACSIS-ILL staff fill it (the issue's JSON form).
GIF: dict[str, str] = {
    "SRVCE": "COPY",
    "ACCT": "pb",
    "BIBNT": "Interlending & Document Supply",
    "STDNO": "0264-1615",
    "VLNO": "32(2)",
    "PAGE": "94-101",
    "YEAR": "2004",
    "ARTCL": "Licence to Deny? Publisher restrictions on document delivery",
    "OMLID": "FA012345",
    "HMLISO": "PIT",
    "OSTAF": "ILL desk",
    "OADRS": "University Library ILL, Tokyo",
    "SPVIA": "Ariel",
    "CMMNT": "MAX-COST=USD35.50 / ISO-CC=US:CCG / PAYMENT=IFM / NOTE=ARIEL=192.0.2.1",
}
