"""The isoill command: decode (tree and JSON), encode, demo, and clear failures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import isoill
from isoill.cli import main


def run(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "isoill.cli", *args], input=stdin, capture_output=True, check=False
    )


def test_decode_prints_a_readable_tree(yaz_trace: bytes, tmp_path: Path) -> None:
    trace = tmp_path / "trace.ber"
    trace.write_bytes(yaz_trace)
    done = run("decode", str(trace))
    assert done.returncode == 0, done.stderr
    text = done.stdout.decode()
    assert text.startswith("ill-request:\n  protocol-version-num: 2\n")
    assert (
        '  requester-id:\n    person-or-institution-symbol:\n      institution-symbol: "IKM"'
        in text
    )
    assert '    title: "Unknown Title"' in text
    assert '  iLL-service-type:\n    [0] "loan"' in text


def test_json_round_trip_through_encode(yaz_trace: bytes, tmp_path: Path) -> None:
    trace = tmp_path / "trace.ber"
    trace.write_bytes(yaz_trace + isoill.encode(isoill.decode(yaz_trace)))
    as_json = run("decode", str(trace), "--json")
    assert as_json.returncode == 0, as_json.stderr
    documents = json.loads(as_json.stdout)
    assert len(documents) == 2 and documents[0] == documents[1]
    assert documents[0]["ill-request"]["item-id"]["item-type"] == "monograph"
    encoded = run("encode", "-", stdin=as_json.stdout)
    assert encoded.returncode == 0, encoded.stderr
    assert isoill.decode_all(encoded.stdout) == isoill.decode_all(trace.read_bytes())


def test_decode_failure_names_offset_and_component(yaz_trace: bytes, tmp_path: Path) -> None:
    trace = tmp_path / "cut.ber"
    trace.write_bytes(yaz_trace[:100])
    done = run("decode", str(trace))
    assert done.returncode == 1
    assert b"APDU 1: ILL-Request." in done.stderr and b"byte offset" in done.stderr


def test_encode_failure_names_the_component(tmp_path: Path) -> None:
    document = isoill.to_json(
        isoill.decode(
            isoill.encode(
                isoill.Cancel(
                    transaction_id=isoill.TransactionId(
                        transaction_group_qualifier="G", transaction_qualifier="1"
                    )
                )
            )
        )
    )
    document["cancel"]["requester-note"] = 5
    done = run("encode", "-", stdin=json.dumps(document).encode())
    assert done.returncode == 1
    assert b"Cancel.requester-note: expected str" in done.stderr


def test_demo_builds_encodes_and_decodes(tmp_path: Path, capsys: object) -> None:
    out = tmp_path / "gif.ber"
    assert main(["demo", "--output", str(out)]) == 0
    request = isoill.decode(out.read_bytes())
    assert isinstance(request, isoill.ILLRequest)
    assert request.item_id.issn == "02641615"
    assert request.copyright_compliance == "ccg"
    assert request.extensions[0].item == isoill.OCLCILLRequestExtension(payment_method="IFM")


def test_a_reader_that_stops_early_gets_no_traceback() -> None:
    """``isoill demo | head -1``: the pipe closes while isoill still writes."""
    with subprocess.Popen(
        [sys.executable, "-m", "isoill.cli", "demo"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.readline()
        proc.stdout.close()
        errors = proc.stderr.read()
    assert proc.returncode != 0
    assert errors == b""


def test_iso18626_check_names_the_kind_of_a_valid_message() -> None:
    sample = Path(__file__).parent / "iso18626" / "samples" / "supplyingAgencyMessage.xml"
    done = run("iso18626", "check", str(sample))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == "supplyingAgencyMessage"


def test_iso18626_check_gives_line_element_and_reason_of_an_invalid_one() -> None:
    sample = Path(__file__).parent / "iso18626" / "samples" / "request.xml"
    bad = sample.read_bytes().replace(b"<ill:serviceType>Copy", b"<ill:serviceType>Lend")
    done = run("iso18626", "check", "-", stdin=bad)
    assert done.returncode == 2
    error = done.stderr.decode()
    assert "line 49: Element 'serviceType'" in error and "'Lend'" in error
    assert "errorType UnrecognisedDataValue" in error


def test_iso18626_to_apdu_and_back(tmp_path: Path) -> None:
    samples = Path(__file__).parent / "iso18626" / "samples"
    done = run("iso18626", "to-apdu", str(samples / "supplyingAgencyMessage.xml"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().startswith("shipped:\n")
    as_ber = run("iso18626", "to-apdu", "--ber", str(samples / "request.xml"))
    assert as_ber.returncode == 0, as_ber.stderr
    request = isoill.decode(as_ber.stdout)
    assert isinstance(request, isoill.ILLRequest)
    assert request.item_id.title == "Interlending & Document Supply"
    (tmp_path / "request.ber").write_bytes(as_ber.stdout)
    back = run("iso18626", "from-apdu", str(tmp_path / "request.ber"))
    assert back.returncode == 0, back.stderr
    checked = run("iso18626", "check", "-", stdin=back.stdout)
    assert checked.stdout.decode().strip() == "request"
    (tmp_path / "request.json").write_text(json.dumps(isoill.to_json(request)))
    from_json = run("iso18626", "from-apdu", str(tmp_path / "request.json"))
    assert from_json.stdout == back.stdout


def test_iso18626_mappings_without_a_counterpart_exit_2_with_the_reason(tmp_path: Path) -> None:
    samples = Path(__file__).parent / "iso18626" / "samples"
    done = run("iso18626", "to-apdu", str(samples / "supplyingAgencyMessageConfirmation.xml"))
    assert done.returncode == 2
    assert "no APDU" in done.stderr.decode()
    message = isoill.Message(
        transaction_id=isoill.TransactionId(
            transaction_group_qualifier="G", transaction_qualifier="Q"
        ),
        requester_id=isoill.SystemId.institution("ISIL:DK-1"),
        responder_id=isoill.SystemId.institution("ISIL:DK-2"),
        note="hello",
    )
    (tmp_path / "message.ber").write_bytes(isoill.encode(message))
    refused = run("iso18626", "from-apdu", str(tmp_path / "message.ber"))
    assert refused.returncode == 2
    assert refused.stderr.decode().strip()
    told = run("iso18626", "from-apdu", "--sender", "responder", str(tmp_path / "message.ber"))
    assert told.returncode == 0, told.stderr
    assert b"Notification" in told.stdout
