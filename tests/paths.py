"""Where the tests find the repository's own files: everything a test reads is inside it."""

from __future__ import annotations

from pathlib import Path

#: The repository's root folder.
REPO = Path(__file__).resolve().parents[1]
#: The APDU traces: the example flows ``make_traces.py`` builds, and a captured yaz-illclient
#: request (see ``README.md`` there).
TRACES = REPO / "tests" / "traces"
YAZ_ILLCLIENT_REQUEST = TRACES / "captured" / "yaz-illclient-request.ber"
