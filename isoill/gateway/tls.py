"""ISO ILL over TLS, with client certificates when the operator gives a CA.

Twisted's ``ssl:`` endpoint string cannot require client certificates, and a gateway that
relays between library networks should be able to: so the ``[tls]`` section builds the
listener here. With ``ca`` set, a client without a certificate signed by that CA is refused
during the handshake, before it can send a byte of ILL.
"""

from __future__ import annotations

from pathlib import Path

from twisted.internet import endpoints, ssl

from isoill.gateway.config import TLS, ConfigError


def server_options(tls: TLS) -> ssl.CertificateOptions:
    try:
        certificate = Path(tls.certificate).read_bytes()
        key = Path(tls.key).read_bytes()
        ca = Path(tls.ca).read_bytes() if tls.ca else None
    except OSError as err:
        raise ConfigError(f"[tls]: {err.filename}: {err.strerror}") from err
    own = ssl.PrivateCertificate.loadPEM(certificate + b"\n" + key)
    if ca is None:
        return own.options()  # type: ignore[no-any-return]
    authority = ssl.Certificate.loadPEM(ca)
    return own.options(authority)  # type: ignore[no-any-return]


def tls_endpoint(reactor: object, tls: TLS) -> endpoints.SSL4ServerEndpoint:
    return endpoints.SSL4ServerEndpoint(
        reactor, tls.port, server_options(tls), interface=tls.interface
    )
