"""Codec throughput on a realistic mix of APDUs, every codec measured in the same run.

    python bench/codec.py [--seconds 1.0]

The mix is what an ILL gateway mostly carries: a rich ILL-Request (the GIF copy request with
the OCLC extension), Shipped, ILL-Answer (will-supply), Received and a Status-Or-Error-Report.
A second table runs the same over a corpus of every APDU type, minimal and rich
(:mod:`isoill.testing.corpus`), decoding the bytes YAZ writes for them. Codecs measured:
isoill's specialised codec; the interpreting codec it replaced (kept as the tests' oracle:
before/after in one run); asn1tools' own dict codec on the same ASN.1; pyasn1 (decode only:
it is isoill's cross-checking decoder); and YAZ's C codec when libyaz and a C compiler are
installed. Ratios are against YAZ measured in this same run, because absolute numbers on a
shared two-core machine mean little. Each table also has a floor row (:mod:`codec_floor`):
functions that only check every header octet and build the decoded values, which no
pure-Python decoder can beat; its ratio to YAZ is the most any such decoder can reach on
that corpus. Last, the time a fresh interpreter takes to import
isoill and decode one APDU.
"""

from __future__ import annotations

import argparse
import subprocess
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

sys.path.insert(0, str(Path(__file__).parent))
from codec_floor import floor_decoders, floor_encoders  # a sibling script, not a package

#: The floor row's name.
FLOOR = "floor: headers + objects"


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
    """APDUs per second of this process's CPU time, best of three runs of at least
    ``seconds`` each: CPU time, as YAZ's helper measures itself, because what else a shared
    two-core machine runs changes wall-clock rates far more than the codecs' differences."""
    best = 0.0
    for _ in range(3):
        rounds = 0
        start = time.process_time()
        while True:
            work()
            rounds += 1
            elapsed = time.process_time() - start
            if elapsed >= seconds:
                break
        best = max(best, rounds * count / elapsed)
    return best


def _yaz_rates(blob: bytes, seconds: float) -> tuple[float, float] | None:
    try:
        from isoill.testing import yaz
    except ImportError as err:
        print(f"(YAZ not measured: {err})", file=sys.stderr)
        return None
    if not yaz.yaz_available():
        print("(YAZ not measured: libyaz or a C compiler is missing)", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory() as work:
        helper = yaz.build_helper(Path(work))
        rounds = max(1, int(2000 * seconds))
        rates = [yaz.yaz_bench(helper, blob, rounds) for _ in range(3)]
    return max(r[0] for r in rates), max(r[1] for r in rates)


def import_and_first_decode(data: bytes, runs: int = 5) -> float:
    """Seconds for a fresh interpreter to import isoill and decode one APDU (best of
    ``runs``, after one run to warm the caches: the parsed-ASN.1 pickle and .pyc files)."""
    script = (
        "import sys, time; t = time.perf_counter(); import isoill; "
        f"isoill.decode(bytes.fromhex({data.hex()!r})); print(time.perf_counter() - t)"
    )
    times = []
    for _ in range(runs + 1):
        done = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, check=True
        )
        times.append(float(done.stdout))
    return min(times[1:])


def _table(
    title: str, results: dict[str, tuple[float, float | None]], reference: str | None
) -> None:
    ref_dec, ref_enc = results.get(reference or "", (None, None))
    print(title)
    print(f"{'codec':<26}{'decode/s':>10}{'encode/s':>10}{'dec vs YAZ':>12}{'enc vs YAZ':>12}")
    for name, (dec, enc) in results.items():
        enc_text = f"{enc:10.0f}" if enc is not None else f"{'-':>10}"
        dec_yaz = f"{dec / ref_dec:11.3f}x" if ref_dec else f"{'-':>12}"
        enc_yaz = f"{enc / ref_enc:11.3f}x" if ref_enc and enc is not None else f"{'-':>12}"
        print(f"{name:<26}{dec:10.0f}{enc_text}{dec_yaz}{enc_yaz}")
    print()


def _measure(
    codecs: dict[str, Any], apdus: list[isoill.APDU], encoded: list[bytes], seconds: float
) -> dict[str, tuple[float, float | None]]:
    out: dict[str, tuple[float, float | None]] = {}
    n = len(apdus)
    for name, codec in codecs.items():

        def dec(codec: Any = codec) -> None:
            for data in encoded:
                codec.decode(data)

        def enc(codec: Any = codec) -> None:
            for apdu in apdus:
                codec.encode(apdu)

        out[name] = (rate(dec, n, seconds), rate(enc, n, seconds))
    return out


def floor_rates(
    apdus: list[isoill.APDU], encoded: list[bytes], seconds: float
) -> tuple[float, float]:
    """Decode and encode APDUs per second of :mod:`codec_floor`'s functions: what no
    pure-Python codec of these APDUs can beat."""
    decoders = list(zip(floor_decoders(apdus, encoded), encoded, strict=True))
    encoders = list(zip(floor_encoders(apdus, encoded), apdus, strict=True))
    for (decoder, data), apdu in zip(decoders, apdus, strict=True):
        assert decoder(data) == apdu

    def decode() -> None:
        for function, data in decoders:
            function(data)

    def encode() -> None:
        for function, apdu in encoders:
            function(apdu)

    return rate(decode, len(apdus), seconds), rate(encode, len(apdus), seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per measurement")
    parser.add_argument("--no-corpus", action="store_true", help="only the mix")
    args = parser.parse_args(argv)

    from isoill.testing import oracle_codec

    codec = isoill.apdu.codec.get_codec()
    codecs = {"isoill specialised": codec, "isoill interpreter (old)": oracle_codec.Codec()}

    # --- the mix -------------------------------------------------------------------------
    apdus = mix()
    encoded = [codec.encode(apdu) for apdu in apdus]
    for apdu, data in zip(apdus, encoded, strict=True):
        assert codec.decode(data) == apdu
    n = len(apdus)
    results = _measure(codecs, apdus, encoded, args.seconds)
    raw = schema.raw_specification()
    dicts = [raw.decode("ILL-APDU", data) for data in encoded]

    def raw_decode() -> None:
        for data in encoded:
            raw.decode("ILL-APDU", data)

    def raw_encode() -> None:
        for value in dicts:
            raw.encode("ILL-APDU", value)

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
    results[FLOOR] = floor_rates(apdus, encoded, args.seconds)
    yaz_mix = _yaz_rates(b"".join(encoded), args.seconds)
    if yaz_mix:
        results["YAZ (C)"] = yaz_mix
    _table(
        f"mix of {n} APDUs ({', '.join(type(a).__name__ for a in apdus)}); "
        f"{sum(map(len, encoded))} bytes",
        results,
        "YAZ (C)" if yaz_mix else None,
    )

    # --- every APDU type -----------------------------------------------------------------
    if not args.no_corpus:
        from isoill.testing import corpus

        every = corpus.all_types()
        yaz_bytes = corpus.yaz_encoded(every)
        wire = yaz_bytes or [codec.encode(apdu) for apdu in every]
        for apdu, data in zip(every, wire, strict=True):
            assert codec.decode(data) == apdu
        results = _measure(codecs, every, wire, args.seconds)
        results[FLOOR] = floor_rates(every, wire, args.seconds)
        yaz_all = _yaz_rates(b"".join(wire), args.seconds)
        if yaz_all:
            results["YAZ (C)"] = yaz_all
        _table(
            f"all 20 APDU types, minimal and rich ({len(every)} APDUs, {sum(map(len, wire))} "
            f"bytes, {'YAZ' if yaz_bytes else 'isoill'}-encoded)",
            results,
            "YAZ (C)" if yaz_all else None,
        )

    first = import_and_first_decode(encoded[0])
    print(f"import isoill + first decode (fresh interpreter, warm caches): {first:.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
