"""The check digits of ISSN, ISBN-10 and ISBN-13, which both the NACSIS record mapping and the
CALIS reader form verify: a mistyped number is better refused at the form than sent to a
supplier who will not find the item."""

from __future__ import annotations


def issn_check(digits: str) -> str:
    """The eighth character of an ISSN whose first seven are ``digits``."""
    total = sum(int(d) * w for d, w in zip(digits, range(8, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def isbn10_check(digits: str) -> str:
    """The tenth character of an ISBN-10 whose first nine are ``digits``."""
    total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return "X" if check == 10 else str(check)


def isbn13_check(digits: str) -> str:
    """The thirteenth digit of an ISBN-13 whose first twelve are ``digits``."""
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits))
    return str((10 - total % 10) % 10)
