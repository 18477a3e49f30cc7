"""The ``isoill`` command: decode, encode, replay and demonstrate ISO ILL APDUs.

    isoill decode FILE|-        one or more concatenated APDUs -> readable tree (--json: JSON)
    isoill encode FILE|-        JSON as ``decode --json`` prints it -> BER on stdout
    isoill replay FILE|-        a transaction's APDUs through one party's protocol machine
    isoill demo                 build, encode and decode the GIF copy request

Exit status: 0 on success, 1 when the input is not valid (the message names the byte offset
and the component) or a replay meets a prohibited transition, 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, BinaryIO

from isoill.apdu.apdus import APDU
from isoill.apdu.codec import get_codec
from isoill.apdu.errors import DecodeError, EncodeError


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as handle:
        return handle.read()


def render_tree(value: Any, indent: int = 0) -> list[str]:
    """The plain form as an indented tree, one component per line."""
    pad = "  " * indent
    lines: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:")
                lines.extend(render_tree(item, indent + 1))
            else:
                lines.append(f"{pad}{key}: {_scalar(item)}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}[{index}]")
                lines.extend(render_tree(item, indent + 1))
            else:
                lines.append(f"{pad}[{index}] {_scalar(item)}")
    else:
        lines.append(f"{pad}{_scalar(value)}")
    return lines


def _scalar(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if value is None:
        return "NULL"
    if value == {} or value == []:
        return "(empty)"
    return str(value)


def cmd_decode(args: argparse.Namespace) -> int:
    data = _read(args.file)
    codec = get_codec(charset=args.charset)
    offset = 0
    plain: list[dict[str, Any]] = []
    status = 0
    while offset < len(data):
        try:
            apdu, end = codec.decode_prefix(data, offset)
        except DecodeError as err:
            print(f"isoill: APDU {len(plain) + 1}: {err}", file=sys.stderr)
            status = 1
            break
        plain.append(codec.to_plain(apdu))
        offset = end
    if args.json:
        json.dump(plain if len(plain) != 1 else plain[0], sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        for index, item in enumerate(plain, 1):
            if len(plain) > 1:
                print(f"# APDU {index}")
            print("\n".join(render_tree(item)))
    if not data:
        print("isoill: no input", file=sys.stderr)
        status = 1
    return status


def cmd_encode(args: argparse.Namespace) -> int:
    try:
        document = json.loads(_read(args.file))
    except json.JSONDecodeError as err:
        print(f"isoill: not JSON: {err}", file=sys.stderr)
        return 1
    items = document if isinstance(document, list) else [document]
    codec = get_codec(charset=args.charset, omit_defaults=args.omit_defaults)
    out: BinaryIO = sys.stdout.buffer
    encoded = []
    for index, item in enumerate(items, 1):
        try:
            encoded.append(codec.encode(codec.from_plain(item)))
        except EncodeError as err:
            print(f"isoill: APDU {index}: {err}", file=sys.stderr)
            return 1
    for chunk in encoded:
        out.write(chunk)
    out.flush()
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from isoill.machine import Role
    from isoill.machine.replay import ReplayError, replay

    data = _read(args.file)
    if not data:
        print("isoill: no input", file=sys.stderr)
        return 1
    codec = get_codec(charset=args.charset)
    apdus: list[APDU] = []
    offset = 0
    while offset < len(data):
        try:
            apdu, offset = codec.decode_prefix(data, offset)
        except DecodeError as err:
            # Replaying the APDUs before a broken one would show a transaction that stops for
            # no protocol reason: refuse the whole trace instead.
            print(f"isoill: APDU {len(apdus) + 1}: {err}", file=sys.stderr)
            return 1
        apdus.append(apdu)
    try:
        result = replay(apdus, Role(args.role))
    except ReplayError as err:
        print(f"isoill: {err}", file=sys.stderr)
        return 1
    refused = result.prohibited
    if args.json:
        json.dump(result.to_json(), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        print("\n".join(result.lines()))
        if result.report is not None:
            print("\n".join(render_tree(codec.to_plain(result.report))))
    if refused is None:
        return 0
    why = (
        result.report.note
        if result.report is not None
        else f"{refused.apdu} refused (an error report is never answered with another)"
    )
    print(f"isoill: APDU {refused.n}: prohibited transition: {why}", file=sys.stderr)
    return 1


def cmd_demo(args: argparse.Namespace) -> int:
    from isoill.demo import gif_copy_request

    codec = get_codec()
    request = gif_copy_request()
    print("The GIF copy request (NACSIS-ILL -> OCLC), as isoill builds it:\n")
    print("\n".join(render_tree(codec.to_plain(request))))
    encoded = codec.encode(request)
    print(f"\nBER, {len(encoded)} bytes:")
    for start in range(0, len(encoded), 32):
        print("  " + encoded[start : start + 32].hex(" "))
    decoded = codec.decode(encoded)
    same = decoded == request
    print(f"\ndecoded again: {'identical to what was built' if same else 'DIFFERENT'}")
    if args.output:
        with open(args.output, "wb") as handle:
            handle.write(encoded)
        print(f"written to {args.output}")
    return 0 if same else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="isoill", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    dec = sub.add_parser("decode", help="BER APDUs -> tree or JSON")
    dec.add_argument("file", help="file of concatenated APDUs, or - for stdin")
    dec.add_argument("--json", action="store_true", help="JSON with the standard's names")
    dec.add_argument("--charset", default="utf-8", help="GeneralString charset (utf-8)")
    dec.set_defaults(func=cmd_decode)
    enc = sub.add_parser("encode", help="JSON (as decode --json prints it) -> BER")
    enc.add_argument("file", help="JSON file, or - for stdin")
    enc.add_argument("--charset", default="utf-8", help="GeneralString charset (utf-8)")
    enc.add_argument(
        "--omit-defaults",
        action="store_true",
        help="leave out DEFAULT-valued components (YAZ rejects that)",
    )
    enc.set_defaults(func=cmd_encode)
    rep = sub.add_parser("replay", help="a transaction's APDUs through one party's machine")
    rep.add_argument("file", help="file of one transaction's concatenated APDUs, or - for stdin")
    rep.add_argument(
        "--role",
        choices=["requester", "responder", "intermediary"],
        default="requester",
        help="whose protocol machine to run (requester)",
    )
    rep.add_argument("--json", action="store_true", help="steps, final state and report as JSON")
    rep.add_argument("--charset", default="utf-8", help="GeneralString charset (utf-8)")
    rep.set_defaults(func=cmd_replay)
    demo = sub.add_parser("demo", help="build, encode and decode the GIF copy request")
    demo.add_argument("--output", help="also write the BER to this file")
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        status: int = args.func(args)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (``isoill decode x.ber | head``): stop quietly, as Unix tools do,
        # and keep Python from complaining again when it flushes stdout at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as err:
        print(f"isoill: {err}", file=sys.stderr)
        return 1
    return status


__all__ = ["main", "render_tree"]

if __name__ == "__main__":
    sys.exit(main())
