"""Codec throughput on a realistic mix of APDUs, every codec measured in the same run.

    python bench/codec.py [--seconds 1.0]

The mix is what an ILL gateway mostly carries: a rich ILL-Request (the GIF copy request with
the OCLC extension), Shipped, ILL-Answer (will-supply), Received and a Status-Or-Error-Report.
Codecs measured: isoill's typed API; asn1tools' own dict codec on the same ASN.1 (the
baseline the typed layer must not fall behind); pyasn1 (decode only: it is isoill's
cross-checking decoder); and YAZ's C codec when libyaz and a C compiler are installed.
Ratios are printed against asn1tools and against YAZ, measured in this same run, because
absolute numbers on a shared two-core machine mean little.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import isoill
from isoill.apdu import schema
from isoill.demo import gif_copy_request


def mix() -> list[isoill.APDU]:
    request = gif_copy_request()
    tid = request.transaction_id
    common: dict[str, Any] = {
        "transaction_id": tid,
        "requester_id": request.responder_id,
        "responder_id": request.requester_id,
    }
    shipped = isoill.Shipped(
        **common,
        shipped_service_type=isoill.ILLServiceType.COPY_NON_RETURNABLE,
        supply_details=isoill.SupplyDetails(
            date_shipped=date(2026, 11, 20),
            cost=isoill.Amount(monetary_value=Decimal("12.00"), currency_code="USD"),
            shipped_via="Ariel",
        ),
        responder_note="PAYMENT=IFM",
    )
    answer = isoill.ILLAnswer(
        **common,
        transaction_results=isoill.TransactionResults.WILL_SUPPLY,
        results_explanation=isoill.WillSupplyResults(
            reason_will_supply=isoill.ReasonWillSupply.BEING_PROCESSED_FOR_SUPPLY,
            supply_date=date(2026, 11, 21),
        ),
        responder_note="Will supply by Ariel",
    )
    received = isoill.Received(
        transaction_id=tid,
        requester_id=request.requester_id,
        responder_id=request.responder_id,
        date_received=date(2026, 11, 22),
        shipped_service_type=isoill.ILLServiceType.COPY_NON_RETURNABLE,
    )
    report = isoill.StatusOrErrorReport(
        **common,
        status_report=isoill.StatusReport(
            user_status_report=isoill.HistoryReport(
                date_of_last_transition=date(2026, 11, 22),
                most_recent_service=isoill.MostRecentService.RECEIVED,
                date_of_most_recent_service=date(2026, 11, 22),
                initiator_of_most_recent_service=request.requester_id or isoill.SystemId(),
                title="Interlending & Document Supply",
            ),
            provider_status_report=isoill.CurrentState.RECEIVED,
        ),
        note="status",
    )
    return [request, shipped, answer, received, report]


def rate(work: Callable[[], object], count: int, seconds: float) -> float:
    """APDUs per second: best of three runs of at least ``seconds`` each (noisy machines)."""
    best = 0.0
    for _ in range(3):
        rounds = 0
        start = time.perf_counter()
        while True:
            work()
            rounds += 1
            elapsed = time.perf_counter() - start
            if elapsed >= seconds:
                break
        best = max(best, rounds * count / elapsed)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per measurement")
    args = parser.parse_args(argv)

    apdus = mix()
    codec = isoill.apdu.codec.get_codec()
    encoded = [codec.encode(apdu) for apdu in apdus]
    raw = schema.raw_specification()
    dicts = [raw.decode("ILL-APDU", data) for data in encoded]
    for apdu, data in zip(apdus, encoded, strict=True):
        assert codec.decode(data) == apdu
    n = len(apdus)
    results: dict[str, tuple[float, float | None]] = {}

    def typed_decode() -> None:
        for data in encoded:
            codec.decode(data)

    def typed_encode() -> None:
        for apdu in apdus:
            codec.encode(apdu)

    def raw_decode() -> None:
        for data in encoded:
            raw.decode("ILL-APDU", data)

    def raw_encode() -> None:
        for value in dicts:
            raw.encode("ILL-APDU", value)

    results["isoill typed"] = (
        rate(typed_decode, n, args.seconds),
        rate(typed_encode, n, args.seconds),
    )
    results["asn1tools dicts"] = (
        rate(raw_decode, n, args.seconds),
        rate(raw_encode, n, args.seconds),
    )

    try:
        from isoill.testing import pyasn1_decoder

        def pyasn1_decode() -> None:
            for data in encoded:
                pyasn1_decoder.decode(data)

        results["pyasn1"] = (rate(pyasn1_decode, n, args.seconds), None)
    except ImportError as err:
        print(f"(pyasn1 not measured: {err})", file=sys.stderr)

    try:
        from isoill.testing import yaz

        if yaz.yaz_available():
            with tempfile.TemporaryDirectory() as work:
                helper = yaz.build_helper(Path(work))
                blob = b"".join(encoded)
                rounds = max(1, int(2000 * args.seconds))
                yaz_rates = [yaz.yaz_bench(helper, blob, rounds) for _ in range(3)]
                results["YAZ (C)"] = (max(r[0] for r in yaz_rates), max(r[1] for r in yaz_rates))
        else:
            print("(YAZ not measured: libyaz or a C compiler is missing)", file=sys.stderr)
    except ImportError as err:
        print(f"(YAZ not measured: {err})", file=sys.stderr)

    base_dec, base_enc_or_none = results["asn1tools dicts"]
    assert base_enc_or_none is not None
    base_enc = base_enc_or_none
    yaz_dec, yaz_enc = results.get("YAZ (C)", (None, None))
    print(
        f"mix of {n} APDUs ({', '.join(type(a).__name__ for a in apdus)}); "
        f"{sum(map(len, encoded))} bytes"
    )
    print(
        f"{'codec':<18}{'decode/s':>12}{'encode/s':>12}{'dec vs asn1tools':>18}"
        f"{'enc vs asn1tools':>18}{'dec vs YAZ':>12}{'enc vs YAZ':>12}"
    )
    for name, (dec, enc) in results.items():
        enc_text = f"{enc:12.0f}" if enc is not None else f"{'-':>12}"
        enc_ratio = f"{enc / base_enc:17.2f}x" if enc is not None else f"{'-':>18}"
        dec_yaz = f"{dec / yaz_dec:11.3f}x" if yaz_dec else f"{'-':>12}"
        enc_yaz = f"{enc / yaz_enc:11.3f}x" if yaz_enc and enc is not None else f"{'-':>12}"
        print(
            f"{name:<18}{dec:12.0f}{enc_text}{dec / base_dec:17.2f}x{enc_ratio}{dec_yaz}{enc_yaz}"
        )
    typed_dec, typed_enc = results["isoill typed"]
    met = typed_dec >= base_dec and typed_enc is not None and typed_enc >= base_enc
    print(f"target (typed API at least as fast as asn1tools dicts): {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
