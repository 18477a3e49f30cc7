"""ISO ILL over TLS with client certificates: a client with a certificate from the
configured CA is served; one without is refused in the handshake."""

from __future__ import annotations

import socket
import ssl
import subprocess
from pathlib import Path

import pytest

import isoill
from tests.gateway.support import GatewayProcess, free_port, wait_for_port
from tests.machine.support import request


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def _certificates(where: Path) -> None:
    subj = "/O=isoill tests/CN="
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-subj",
        subj + "test CA",
        cwd=where,
    )
    for name, cn in (("server", "localhost"), ("client", "east-lib")):
        _openssl(
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            f"{name}.key",
            "-out",
            f"{name}.csr",
            "-subj",
            subj + cn,
            cwd=where,
        )
        extension = where / f"{name}.ext"
        extension.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
        _openssl(
            "x509",
            "-req",
            "-in",
            f"{name}.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-out",
            f"{name}.pem",
            "-extfile",
            str(extension),
            cwd=where,
        )


def _context(where: Path, with_certificate: bool) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(where / "ca.pem"))
    if with_certificate:
        context.load_cert_chain(str(where / "client.pem"), str(where / "client.key"))
    return context


def test_tls_with_client_certificates(tmp_path: Path) -> None:
    _certificates(tmp_path)
    port = free_port()
    config = f"""
[gateway]
open = true

[tls]
port = {port}
certificate = "{tmp_path / "server.pem"}"
key = "{tmp_path / "server.key"}"
ca = "{tmp_path / "ca.pem"}"

[[network]]
name = "local"
kind = "records"
default = true
"""
    gateway = GatewayProcess(tmp_path / "gw", config).start()
    try:
        wait_for_port(port)
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            _context(tmp_path, True).wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            tls.sendall(isoill.encode(request()))
            decoder = isoill.StreamDecoder()
            answers: list[object] = []
            while not answers:
                answers = list(decoder.feed(tls.recv(65536)))
            (answer,) = answers
            assert isinstance(answer, isoill.StatusOrErrorReport) and answer.error_report is None
        refused = _context(tmp_path, False)
        with (
            socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
            pytest.raises((ssl.SSLError, ConnectionError)),
            refused.wrap_socket(raw, server_hostname="localhost") as tls,
        ):
            tls.sendall(isoill.encode(request()))
            assert tls.recv(65536) == b""
    finally:
        gateway.stop()
