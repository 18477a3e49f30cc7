"""The one base of isoill's refusals: every error carries its reasons the same way.

A refusal is something a person (a librarian at the desk, an operator reading the log, a
partner's system reading an HTTP answer) has to act on, so each one is a list of reasons,
each a sentence led by the field or place it is about, and all of them at once: a form, a
record, a configuration or a command is refused with every problem found, not the first.
Whatever the layer (codec, protocol machine, mapping, gateway, library), callers read
``error.reasons``; ``str(error)`` joins them for a log line.

``NotFound`` is the refusal of a thing that does not exist (an unknown record, request or
account): it is also a ``LookupError``, but callers catch it by name, never a bare
``KeyError`` that could as well be a bug.
"""

from __future__ import annotations

from collections.abc import Iterable


class IsoillError(Exception):
    """A refusal with its reasons (at least one)."""

    def __init__(self, reasons: str | Iterable[str]) -> None:
        # Text kept as given (not str() of it): a reason may carry its Japanese beside it
        # (isoill.mapping.messages.Text).
        found = (
            [reasons]
            if isinstance(reasons, str)
            else [r if isinstance(r, str) else str(r) for r in reasons]
        )
        self.reasons: list[str] = found or ["refused"]
        super().__init__("; ".join(self.reasons))

    def __str__(self) -> str:
        return "; ".join(self.reasons)


class NotFound(IsoillError, LookupError):
    """What was asked for does not exist (or is not the asker's to see)."""
