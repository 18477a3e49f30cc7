"""Libraries hosted on the gateway: CALIS/Tsinghua reader and staff pages, accounts, the
lender rota's desk, the library JSON API and the mails to readers and staff.

It builds on the gateway (:mod:`isoill.gateway`), which never imports it: importing this
package registers the ``library`` network kind (:mod:`isoill.library.kind`) with the
gateway's registry, after which a configuration may hold library networks. The command line
imports it before it reads a configuration.
"""

from isoill.gateway.kinds import register
from isoill.library.kind import LIBRARY

register(LIBRARY)

__all__ = ["LIBRARY"]
