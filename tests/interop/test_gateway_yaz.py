"""yaz-illclient, YAZ's real ISO ILL client, against ``isoill gateway`` with no configuration:
the embedded default answers as the responder for any symbol and keeps the request as a
record the library side can read over HTTP."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest

import isoill
from tests.gateway.support import GatewayProcess

pytestmark = pytest.mark.yaz

PARAMETERS = """\
ill,protocol-version-num=2
ill,requester-id,person-or-institution-symbol,institution=CALIS:100010
ill,responder-id,person-or-institution-symbol,institution=THU
ill,ill-service-type=2
ill,item-id,title=Journal of Library Science in China
"""


def _client(port: int, workdir: Path, parameters: bool = True) -> subprocess.CompletedProcess[str]:
    client = shutil.which("yaz-illclient")
    assert client is not None
    args = [client]
    if parameters:
        (workdir / "ill-params.txt").write_text(PARAMETERS)
        args += ["-f", "ill-params.txt"]
    return subprocess.run(
        [*args, f"localhost:{port}"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_yaz_illclient_gets_ok_from_the_default_gateway(tmp_path: Path) -> None:
    gateway = GatewayProcess(tmp_path).start()
    try:
        done = _client(gateway.ill_port, tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "Ok" in done.stdout + done.stderr
        # the same request again (yaz-illclient always sends the same one): acknowledged
        # again as a repeat, not refused as a duplicate, and kept once
        again = _client(gateway.ill_port, tmp_path)
        assert again.returncode == 0, again.stdout + again.stderr
        status, _ = gateway.http("/status")
        assert status == 200
        request = isoill.decode((tmp_path / "req.apdu").read_bytes())
        assert isinstance(request, isoill.ILLRequest)
        key = "CALIS:100010//"
        status, found = gateway.http(f"/api/records/{quote(key, safe='')}")
        assert status == 200, found
        assert found["record"]["BIBNT"] == "Journal of Library Science in China"
        assert found["state"] == "IN-PROCESS"
    finally:
        gateway.stop()
    assert gateway.process is not None and gateway.process.returncode == 0
    logged = gateway.log_records()
    assert logged and all("log_level" in r for r in logged)


def test_yaz_illclient_without_parameters_gets_the_reason(tmp_path: Path) -> None:
    """With no parameter file yaz-illclient sends zeros for enumerations (protocol version
    0): the gateway answers an error report naming the field, and keeps serving."""
    gateway = GatewayProcess(tmp_path).start()
    try:
        done = _client(gateway.ill_port, tmp_path, parameters=False)
        assert done.returncode == 7, done.stdout + done.stderr
        assert "transaction-type" in done.stdout + done.stderr
        assert _client(gateway.ill_port, tmp_path).returncode == 0
    finally:
        gateway.stop()


def test_isoill_send_prints_the_answer(tmp_path: Path) -> None:
    from isoill.cli import main
    from isoill.demo import gif_copy_request

    gateway = GatewayProcess(tmp_path).start()
    try:
        ask = gif_copy_request()
        path = tmp_path / "request.json"
        path.write_text(json.dumps(isoill.to_json(ask)))
        assert main(["send", "--to", f"127.0.0.1:{gateway.ill_port}", str(path)]) == 0
        (tmp_path / "request.ber").write_bytes(isoill.encode(ask))
        # the same request again: a repeat, acknowledged again
        code = main(
            [
                "send",
                "--json",
                "--to",
                f"127.0.0.1:{gateway.ill_port}",
                str(tmp_path / "request.ber"),
            ]
        )
        assert code == 0
        # a different request under the same id: the error report, exit 7
        other = dataclasses.replace(ask, requester_note="another")
        (tmp_path / "other.ber").write_bytes(isoill.encode(other))
        code = main(["send", "--to", f"127.0.0.1:{gateway.ill_port}", str(tmp_path / "other.ber")])
        assert code == 7
    finally:
        gateway.stop()
    assert main(["send", "--to", f"127.0.0.1:{gateway.ill_port}", str(path)]) == 3
