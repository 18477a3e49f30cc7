"""The one conversion of a clock's seconds to the datetime the gateway decides and stores
with. The gateway and the library take their time from the reactor (``IReactorTime``), so
that tests drive outbox leases, retries, deadlines, login throttling and sessions with
Twisted's ``task.Clock``; only the command line, which has no reactor, reads the wall clock.
"""

from __future__ import annotations

from datetime import datetime


def local(seconds: float) -> datetime:
    """Seconds since the epoch as a naive local datetime: what ``datetime.now`` gives for
    the wall clock, so stored and displayed times stay as they were."""
    return datetime.fromtimestamp(seconds)
