"""Tools for testing ILL software with isoill: hypothesis strategies for every APDU
(``isoill.testing.strategies``), an independent pyasn1 decoder for cross-checks, and YAZ's C
codec as a peer (``isoill.testing.yaz``). They need the ``test`` extra (and, for YAZ,
Debian's libyaz-dev)."""
