"""Long fuzz of the decoders: mutants of every APDU type through decode and StreamDecoder.

    python bench/fuzz.py [--count 20000] [--seed 1] [--corpus 40]

The test suite runs the same rules for a few seconds (tests/apdu/); this runs them for as
long as asked (``--count 1000000`` takes some minutes) and prints what it saw. Inputs are
mutants (isoill.testing.strategies.mutate) of a corpus of valid APDUs drawn for each of the
20 types. For every input:

* ``isoill.decode`` raises nothing but DecodeError;
* what decodes encodes without error, and the encoding decodes to the same value with the
  same JSON form (a "re-encode mismatch" otherwise);
* a StreamDecoder fed the input in random pieces raises nothing but DecodeError, and gives
  exactly the decoded APDU when decode succeeded (a "stream mismatch" otherwise).

Counts printed: decoded, refused, re-encode mismatches and stream mismatches (both must be
0), unexpected exceptions (must be 0), and inputs per second. The exit status is 1 if any
of the must-be-zero counts is not. The first few failing inputs are printed as hex.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import traceback
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, given, seed, settings

import isoill
from isoill.apdu.errors import ILLCodecError
from isoill.testing.strategies import for_type, mutate

MUST_BE_ZERO = ("re-encode mismatch", "stream mismatch", "unexpected exception")


def corpus(per_type: int, corpus_seed: int) -> list[bytes]:
    """``per_type`` encoded APDUs of each type, drawn by the test suite's strategies."""
    out: list[bytes] = []
    classes: list[Any] = list(isoill.APDU_CLASSES)  # for_type is cached: keyed by class
    for cls in classes:

        @seed(corpus_seed)
        @settings(
            max_examples=per_type,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(for_type(cls))
        def draw(apdu: isoill.APDU) -> None:
            out.append(isoill.encode(apdu))

        draw()
    return out


def pieces(data: bytes, rng: random.Random) -> list[bytes]:
    """``data`` cut at random places, from single bytes to 4 KiB."""
    out, start = [], 0
    while start < len(data):
        size = rng.choice((1, 2, 3, 5, 17, 64, 4096))
        out.append(data[start : start + size])
        start += size
    return out


def check(data: bytes, rng: random.Random) -> str:
    """The outcome for one input: decoded, refused, or a failure named in MUST_BE_ZERO."""
    try:
        value = isoill.decode(data)
    except isoill.DecodeError:
        value = None
    try:
        if value is not None:
            again = isoill.encode(value)
            if isoill.decode(again) != value or isoill.to_json(
                isoill.decode(again)
            ) != isoill.to_json(value):
                return "re-encode mismatch"
    except ILLCodecError:
        return "re-encode mismatch"
    decoder = isoill.StreamDecoder()
    items: list[Any] = []
    try:
        for piece in pieces(data, rng):
            items.extend(decoder.feed(piece))
        decoder.close()
    except isoill.DecodeError:
        pass
    if value is not None and items != [value]:
        return "stream mismatch"
    return "decoded" if value is not None else "refused"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20_000, help="inputs to try")
    parser.add_argument("--seed", type=int, default=1, help="for the mutations")
    parser.add_argument("--corpus", type=int, default=40, help="valid APDUs per type")
    parser.add_argument("--show", type=int, default=5, help="failing inputs to print")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    seeds = corpus(args.corpus, args.seed)
    print(f"corpus: {len(seeds)} APDUs of {len(isoill.APDU_CLASSES)} types", flush=True)
    print(f"corpus built in {time.perf_counter() - start:.1f} s", flush=True)
    rng = random.Random(args.seed)
    counts: Counter[str] = Counter()
    shown = 0
    start = time.perf_counter()
    report_every = max(args.count // 10, 1)
    for index in range(1, args.count + 1):
        data = mutate(rng.choice(seeds), rng)
        try:
            outcome = check(data, rng)
        except Exception:  # the point of the exercise: anything but DecodeError
            outcome = "unexpected exception"
            if shown < args.show:
                traceback.print_exc()
        counts[outcome] += 1
        if outcome in MUST_BE_ZERO and shown < args.show:
            shown += 1
            print(f"{outcome}: {data.hex()}", file=sys.stderr)
        if index % report_every == 0 or index == args.count:
            elapsed = time.perf_counter() - start
            print(
                f"{index:>9} inputs  decoded {counts['decoded']:>8}  "
                f"refused {counts['refused']:>8}  "
                + "  ".join(f"{name} {counts[name]}" for name in MUST_BE_ZERO)
                + f"  {index / elapsed:,.0f} inputs/s",
                flush=True,
            )
    failed = sum(counts[name] for name in MUST_BE_ZERO)
    print("rules held" if not failed else f"RULES BROKEN by {failed} inputs")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
