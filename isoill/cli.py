"""The ``isoill`` command: decode, encode, replay and demonstrate ISO ILL APDUs.

    isoill decode FILE|-        one or more concatenated APDUs -> readable tree (--json: JSON)
    isoill encode FILE|-        JSON as ``decode --json`` prints it -> BER on stdout
    isoill replay FILE|-        a transaction's APDUs through one party's protocol machine
    isoill demo                 build, encode and decode the GIF copy request
    isoill nacsis order RECORD [--id ID]
                                a NACSIS-ILL record (JSON) -> the ILL-Request ORDER sends; a
                                record without ID gets --id or a new one (said on stderr)
    isoill nacsis check-receive RECORD --shipped BER [--policy CSV]
                                may the requester RECEIVE this arrival? (the GIF checks)
    isoill nacsis dummy RECORD --oclc-number N
                                the dummy record and the original marked for CANCEL (JSON)
    isoill nacsis letter CASE RECORD [--shipped BER] [--policy CSV]
                                the letter to the lender for one of the guide's cases
    isoill gateway [--config TOML]  run the gateway (no arguments: the embedded default,
                                loopback, ISO ILL on 4990, HTTP on 8499)
    isoill send --to HOST:PORT FILE.json|FILE.ber
                                one APDU to an ISO ILL peer; prints the answer
    isoill iso18626 check FILE.xml   is this a valid ISO 18626 message? (prints its kind)
    isoill iso18626 to-apdu FILE.xml [--ber]   the ISO 10161 APDU it maps to
    isoill iso18626 from-apdu FILE.ber|FILE.json [--sender requester|responder]
                                the ISO 18626 message an APDU maps to (valid XML)
    isoill staff add USER --library NAME [--member SYMBOL]  |  isoill staff add USER --operator
                                a staff account for the /staff/ pages (password from
                                ISOILL_PASSWORD or asked for)

Exit status: 0 on success, 1 when the input is not valid (the message names the byte offset
and the component) or a replay meets a prohibited transition, 2 for usage errors and for a
NACSIS-ILL record the GIF rules refuse (every reason on stderr, one per line); check-receive
exits 3 when RECEIVE must not go ahead; send exits 3 when it cannot reach the peer or gets
no answer, 7 when the answer is an error report (as yaz-illclient does); ``iso18626 check``
exits 2 with the line, element and reason of each problem when the message is not valid,
and ``to-apdu`` / ``from-apdu`` exit 2 with the reason when the other protocol has no form
for what was given.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any, BinaryIO

from isoill.apdu.apdus import APDU
from isoill.apdu.codec import get_codec
from isoill.apdu.errors import DecodeError, EncodeError

if TYPE_CHECKING:
    from isoill.mapping.messages import Lang
    from isoill.mapping.record import Record


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    with open(path, "rb") as handle:
        return handle.read()


def _write_apdu(apdu: APDU, ber: bool) -> None:
    """An APDU a command made, on stdout: its BER, or the readable tree."""
    codec = get_codec()
    if ber:
        sys.stdout.buffer.write(codec.encode(apdu))
    else:
        print("\n".join(render_tree(codec.to_plain(apdu))))


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


def cmd_nacsis_order(args: argparse.Namespace) -> int:
    from isoill.mapping.directory import Directory, DirectoryError
    from isoill.mapping.messages import in_lang, say
    from isoill.mapping.record import Record, RecordError, normalised
    from isoill.mapping.to_iso import order_request

    try:
        document = json.loads(_read(args.record))
    except ValueError as err:
        _print_reasons([say("not-json", why=err)], args.lang)
        return 1
    directory = None
    if args.directory is not None:
        try:
            directory = Directory.load(args.directory)
        except DirectoryError as err:
            _print_reasons(err.reasons, args.lang, args.directory)
            return 1
    try:
        record, notes = normalised(_with_id(Record.from_json(document), args.id, args.lang))
        for note in notes:
            print(
                f"isoill: {in_lang(say('note'), args.lang)}: {in_lang(note, args.lang)}",
                file=sys.stderr,
            )
        request = order_request(record, directory=directory)
    except RecordError as err:
        # Every reason, so that staff fix the record in one pass.
        _print_reasons(err.reasons, args.lang)
        return 2
    _write_apdu(request, ber=args.ber)
    return 0


def _with_id(record: Record, given: str | None, lang: Lang) -> Record:
    """The record with its ID: its own, else ``--id``, else a new one in NACSIS's style; which
    one is said on stderr, since the ISO transaction id follows from it (N-11)."""
    from isoill.mapping.messages import in_lang, say
    from isoill.mapping.record import RecordError, is_single_byte, new_id

    own = (record.ID or "").strip() or None
    wanted = None if given is None else given.strip()
    if wanted is not None and (not wanted or not all(map(is_single_byte, wanted))):
        raise RecordError([say("id-not-single-byte", given=repr(given))])
    if own is not None:
        if wanted is not None and wanted != own:
            raise RecordError([say("id-conflict", own=own, wanted=wanted)])
        return record
    if wanted is not None:
        print(f"isoill: {in_lang(say('id-given', id=wanted), lang)}", file=sys.stderr)
        return record.replace(ID=wanted)
    assigned = new_id()
    print(f"isoill: {in_lang(say('id-assigned', id=assigned), lang)}", file=sys.stderr)
    return record.replace(ID=assigned)


def _print_reasons(reasons: Iterable[str], lang: Lang, where: str | None = None) -> None:
    """Every reason a NACSIS command refused with (about the file ``where``), on stderr, in
    the staff's language."""
    from isoill.mapping.messages import in_lang

    about = "" if where is None else f"{where}: "
    for reason in reasons:
        print(f"isoill: {about}{in_lang(reason, lang)}", file=sys.stderr)


def cmd_nacsis_check_receive(args: argparse.Namespace) -> int:
    from isoill.mapping.from_oclc import apply_incoming
    from isoill.mapping.messages import in_lang, say
    from isoill.mapping.policy import PolicyError, load_policies
    from isoill.mapping.receive_guard import check_receive

    read_in = _record_and_shipped(args)
    if read_in is None:
        return 1
    record, shipped = read_in
    notes = []
    if record.STAT is None:
        # No state typed: the record is where the lender's Shipped puts it (発送, with the
        # supply fields and the APDU=Shipped OCLC line NACSIS would write).
        record = apply_incoming(record, shipped, at=date.today())
        notes.append(say("note-stat-from-shipped", stat=record.STAT))
    policy = None
    if args.policy is not None:
        try:
            policies = load_policies(args.policy)
        except PolicyError as err:
            _print_reasons(err.reasons, args.lang, args.policy)
            return 1
        symbols = [record.HMLISO, shipped.responder_id.symbol if shipped.responder_id else None]
        policy = next((p for s in symbols if (p := policies.lookup(s)) is not None), None)
        if policy is None:
            wanted = " or ".join(s for s in symbols if s) or say("lender-no-hmliso")
            print(in_lang(say("no-policy-entry", file=args.policy, wanted=wanted), args.lang))
    verdict = check_receive(record, shipped, policy, policy_required=args.policy is not None)
    lang = args.lang
    print(in_lang(say("ok" if verdict.ok else "not-ok", command="RECEIVE"), lang))
    label = {key: in_lang(say(key), lang) for key in ("reason", "action", "note")}
    for reason in verdict.reasons:
        print(f"  {label['reason']}: {in_lang(reason, lang)}")
    print(f"{label['action']}: {in_lang(verdict.action, lang)}")
    for note in [*notes, *verdict.notes]:
        print(f"  {label['note']}: {in_lang(note, lang)}")
    if args.letter and verdict.letter:
        print(f"\n{in_lang(say('letter-to-lender'), lang)}:\n\n{verdict.letter}", end="")
    return 0 if verdict.ok else 3


def _record_and_shipped(args: argparse.Namespace) -> tuple[Record, Any] | None:
    """The record JSON and the optional ``--shipped`` APDU, or None when either cannot be read
    (the reason on stderr)."""
    from isoill.apdu.apdus import Shipped
    from isoill.mapping.messages import say
    from isoill.mapping.record import Record, RecordError

    try:
        record = Record.from_json(json.loads(_read(args.record)))
    except ValueError as err:
        problems = err.reasons if isinstance(err, RecordError) else [say("not-json", why=err)]
        _print_reasons(problems, args.lang, args.record)
        return None
    shipped = None
    if getattr(args, "shipped", None) is not None:
        try:
            shipped = get_codec(charset=args.charset).decode(_read(args.shipped))
        except DecodeError as err:
            print(f"isoill: {args.shipped}: {err}", file=sys.stderr)
            return None
        if not isinstance(shipped, Shipped):
            name = type(shipped).__name__
            _print_reasons([say("not-shipped", name=name)], args.lang, args.shipped)
            return None
    return record, shipped


def cmd_nacsis_dummy(args: argparse.Namespace) -> int:
    from isoill.mapping.cmmnt import read
    from isoill.mapping.messages import say
    from isoill.mapping.receive_guard import dummy_record
    from isoill.mapping.record import RecordError

    read_in = _record_and_shipped(args)
    if read_in is None:
        return 1
    max_cost = None
    if args.max_cost is not None:
        max_cost = read(f"MAX-COST={args.max_cost}").comment.max_cost
        if max_cost is None:
            _print_reasons([say("max-cost-like", given=repr(args.max_cost))], args.lang)
            return 2
    try:
        dummy, original = dummy_record(
            read_in[0], args.oclc_number, args.lender_staff, max_cost=max_cost
        )
    except RecordError as err:
        _print_reasons(err.reasons, args.lang)
        return 2
    document = {"dummy": dummy.to_json(), "original": original.to_json()}
    print(json.dumps(document, ensure_ascii=False, indent=1))
    return 0


def cmd_nacsis_letter(args: argparse.Namespace) -> int:
    from isoill.mapping.messages import in_lang, say
    from isoill.mapping.policy import PolicyError, load_policies
    from isoill.mapping.receive_guard import letter_for
    from isoill.mapping.record import RecordError

    read_in = _record_and_shipped(args)
    if read_in is None:
        return 1
    record, shipped = read_in
    policy = None
    if args.policy is not None:
        try:
            policy = load_policies(args.policy).lookup(record.HMLISO)
        except PolicyError as err:
            _print_reasons(err.reasons, args.lang, args.policy)
            return 1
    try:
        action = letter_for(args.case, record, shipped, policy, problem=args.problem or "")
    except RecordError as err:
        _print_reasons(err.reasons, args.lang)
        return 2
    what = in_lang(say("action"), args.lang)
    case = in_lang(action.case, args.lang)
    label = in_lang(say("case"), args.lang)
    print(f"{label}: {case}\n{what}: {in_lang(action.record, args.lang)}", file=sys.stderr)
    print(action.letter, end="")
    return 0


def cmd_iso18626_check(args: argparse.Namespace) -> int:
    from isoill.iso18626 import MessageError, parse

    try:
        message = parse(_read(args.file))
    except MessageError as err:
        for reason in err.reasons:
            print(f"isoill: {args.file}: {reason}", file=sys.stderr)
        print(f"isoill: {args.file}: errorType {err.error_type.value}", file=sys.stderr)
        return 2
    print(message.TAG)
    return 0


def cmd_iso18626_to_apdu(args: argparse.Namespace) -> int:
    from isoill.iso18626 import MessageError, parse
    from isoill.iso18626.identity import MappingError
    from isoill.iso18626.to_apdu import to_apdu

    try:
        apdu = to_apdu(parse(_read(args.file)))
    except (MessageError, MappingError) as err:
        for reason in err.reasons:
            print(f"isoill: {args.file}: {reason}", file=sys.stderr)
        return 2
    _write_apdu(apdu, ber=args.ber)
    return 0


def cmd_iso18626_from_apdu(args: argparse.Namespace) -> int:
    from isoill.iso18626 import MessageError, to_xml
    from isoill.iso18626.from_apdu import from_apdu
    from isoill.iso18626.identity import MappingError

    data = _read(args.file)
    codec = get_codec()
    try:
        if data.lstrip()[:1] in (b"{", b"["):
            apdu = codec.from_plain(json.loads(data))
        else:
            apdu = codec.decode(data)
    except (ValueError, DecodeError, EncodeError) as err:
        print(f"isoill: {args.file}: not an APDU: {err}", file=sys.stderr)
        return 1
    try:
        xml = to_xml(from_apdu(apdu, sender=args.sender))
    except (MessageError, MappingError) as err:
        for reason in err.reasons:
            print(f"isoill: {args.file}: {reason}", file=sys.stderr)
        return 2
    sys.stdout.buffer.write(xml + b"\n")
    return 0


def cmd_gateway(args: argparse.Namespace) -> int:
    import isoill.library  # noqa: F401  (registers the library kind before the config is read)
    from isoill.gateway.app import run
    from isoill.gateway.config import ConfigError, default, load
    from isoill.gateway.store import StoreError

    try:
        config = load(args.config) if args.config else default()
        config = config.with_ports(args.ill_port, args.http_port, args.store)
        log = open(args.log, "a", encoding="utf-8") if args.log else None  # noqa: SIM115
        return run(config, log)
    except (ConfigError, StoreError) as err:
        print(f"isoill gateway: {err}", file=sys.stderr)
        return 2


def cmd_send(args: argparse.Namespace) -> int:
    from isoill.apdu import to_json
    from isoill.gateway.client import SendError, is_error, read_apdu_file, send

    host, _, port = args.to.rpartition(":")
    if not host or not port.isdigit():
        print("isoill send: --to wants HOST:PORT", file=sys.stderr)
        return 2
    try:
        apdu = read_apdu_file(args.file)
    except (DecodeError, ValueError, KeyError) as err:
        print(f"isoill send: {args.file}: {err}", file=sys.stderr)
        return 1
    try:
        answer = send(host, int(port), apdu, timeout=args.timeout)
    except (SendError, DecodeError) as err:
        print(f"isoill send: {err}", file=sys.stderr)
        return 3
    if args.json:
        print(json.dumps(to_json(answer), ensure_ascii=False, indent=2))
    else:
        print("\n".join(render_tree(to_json(answer))))
    return 7 if is_error(answer) else 0


def cmd_staff_add(args: argparse.Namespace) -> int:
    import getpass

    import isoill.library  # noqa: F401  (registers the library kind before the config is read)
    from isoill.gateway.clock import local
    from isoill.gateway.config import ConfigError, default, load
    from isoill.gateway.logins import AccountError, check_password, hash_password
    from isoill.gateway.operators import new_operator
    from isoill.gateway.store import Change, Conflict, StoreError, open_store
    from isoill.library.accounts import staff_account
    from isoill.library.settings import libraries

    try:
        config = load(args.config) if args.config else default()
    except ConfigError as err:
        print(f"isoill staff: {err}", file=sys.stderr)
        return 2
    config = config.with_ports(store=args.store)
    if args.operator == bool(args.library) or (args.operator and args.member):
        print("isoill staff: give either --library LIBRARY or --operator", file=sys.stderr)
        return 2
    library = next((n for n in libraries(config) if n.name == args.library), None)
    if library is None and not args.operator:
        names = ", ".join(n.name for n in libraries(config)) or "none"
        print(
            f"isoill staff: no library network {args.library!r} (there are: {names})",
            file=sys.stderr,
        )
        return 2
    password = os.environ.get("ISOILL_PASSWORD") or getpass.getpass(f"password for {args.user}: ")
    weak = check_password(password, args.user)
    if weak:
        print(f"isoill staff: {weak[0]}", file=sys.stderr)
        return 2
    now = time.time()  # no reactor here: the wall clock, converted as the gateway does
    try:
        if library is None:
            row = new_operator(args.user, hash_password(password), local(now)).row()
            what = f"operator account {args.user}"
        else:
            row = staff_account(
                library, args.user, args.member or "", hash_password(password), local(now)
            ).row()
            what = f"staff account {args.user} of {library.name}"
        store = open_store(config.store)
        try:
            store.commit(Change(rows=(row,)), now)
        finally:
            store.close()
    except Conflict:
        print(f"isoill staff: {args.user} exists already", file=sys.stderr)
        return 2
    except (AccountError, StoreError) as err:
        print(f"isoill staff: {err}", file=sys.stderr)
        return 2
    print(f"{what} added")
    return 0


def _lang_option(command: argparse.ArgumentParser, what: str) -> None:
    """``--lang``: NACSIS-ILL staff read Japanese; scripts and the tests read English."""
    command.add_argument("--lang", choices=("en", "ja"), default="en", help=what)


def build_parser() -> argparse.ArgumentParser:
    from isoill.gateway.client import DEFAULT_TIMEOUT as DEFAULT_SEND_TIMEOUT
    from isoill.mapping.receive_guard import LETTER_CASES

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
    nacsis = sub.add_parser("nacsis", help="NACSIS-ILL records on the OCLC (GIF) link")
    nacsis_commands = nacsis.add_subparsers(dest="nacsis_command", required=True)
    order = nacsis_commands.add_parser(
        "order",
        help="a record -> the ILL-Request ORDER sends (exit 2 with every reason if refused)",
    )
    order.add_argument("record", help="the record as JSON (tags as keys), or - for stdin")
    order.add_argument("--ber", action="store_true", help="write the request's BER to stdout")
    order.add_argument("--directory", help="CSV of nacsis,oclc[,name]: codes -> OCLC symbols")
    order.add_argument(
        "--id", help="the record's ID when it has none (default: a new one, LA + 8 digits)"
    )
    _lang_option(order, "reasons and notes in (en)")
    order.set_defaults(func=cmd_nacsis_order)
    check = nacsis_commands.add_parser(
        "check-receive",
        help="may RECEIVE go ahead? the checks before RECEIVE (exit 3 when not)",
    )
    check.add_argument("record", help="the requester's record as JSON, or - for stdin")
    check.add_argument("--shipped", required=True, help="the lender's Shipped APDU (BER)")
    check.add_argument("--policy", help="CSV of lending policies (see isoill.mapping.policy)")
    check.add_argument("--letter", action="store_true", help="also print the letter to the lender")
    check.add_argument("--charset", default="utf-8", help="GeneralString charset (utf-8)")
    _lang_option(check, "reasons and actions in (en)")
    check.set_defaults(func=cmd_nacsis_check_receive)
    dummy = nacsis_commands.add_parser(
        "dummy",
        help="the dummy record (guide 2.6) and the original marked for CANCEL, as JSON",
    )
    dummy.add_argument("record", help="the original record as JSON, or - for stdin")
    dummy.add_argument("--oclc-number", required=True, help="the OCLC ILL number (8 digits)")
    dummy.add_argument(
        "--lender-staff", default="ILL staff", help="the lender's staff the e-mails were with"
    )
    dummy.add_argument("--max-cost", help="variant A (N-23): a higher MAX-COST, like USD50.00")
    _lang_option(dummy, "reasons in (en)")
    dummy.set_defaults(func=cmd_nacsis_dummy)
    letter = nacsis_commands.add_parser(
        "letter", help="the letter to the lender for one of the guide's cases"
    )
    letter.add_argument("case", choices=LETTER_CASES, help="the guide's case")
    letter.add_argument("record", help="the record as JSON, or - for stdin")
    letter.add_argument("--shipped", help="the lender's Shipped APDU (BER): dates, amount, number")
    letter.add_argument("--policy", help="CSV of lending policies: the lender's e-mail, charge")
    letter.add_argument("--problem", help="wrong-or-defective: what is wrong with the copy")
    letter.add_argument("--charset", default="utf-8", help="GeneralString charset (utf-8)")
    _lang_option(letter, "the guidance in (the letter: en)")
    letter.set_defaults(func=cmd_nacsis_letter)
    iso18626 = sub.add_parser("iso18626", help="ISO 18626 XML messages")
    iso18626_commands = iso18626.add_subparsers(dest="iso18626_command", required=True)
    check18626 = iso18626_commands.add_parser(
        "check", help="valid against the ISO 18626 v1.2 schema? (prints the message's kind)"
    )
    check18626.add_argument("file", help="the message (XML), or - for stdin")
    check18626.set_defaults(func=cmd_iso18626_check)
    to_apdu = iso18626_commands.add_parser(
        "to-apdu", help="the ISO 10161 APDU an ISO 18626 message maps to (exit 2 if none)"
    )
    to_apdu.add_argument("file", help="the message (XML), or - for stdin")
    to_apdu.add_argument("--ber", action="store_true", help="write the APDU's BER to stdout")
    to_apdu.set_defaults(func=cmd_iso18626_to_apdu)
    from_apdu = iso18626_commands.add_parser(
        "from-apdu", help="the ISO 18626 message an APDU (BER or JSON) maps to"
    )
    from_apdu.add_argument("file", help="the APDU: BER, or JSON as decode --json prints it")
    from_apdu.add_argument(
        "--sender",
        choices=("requester", "responder"),
        help="who sends it (needed for Message, Lost and Damaged, which either may send)",
    )
    from_apdu.set_defaults(func=cmd_iso18626_from_apdu)
    gateway = sub.add_parser("gateway", help="run the ISO ILL gateway")
    gateway.add_argument("--config", help="TOML configuration (default: the embedded one)")
    gateway.add_argument("--ill-port", type=int, help="ISO ILL port on loopback (4990)")
    gateway.add_argument("--http-port", type=int, help="HTTP port on loopback (8499)")
    gateway.add_argument("--store", help="SQLite file or postgresql:// URL")
    gateway.add_argument("--log", help="append the JSON log here (default: stdout)")
    gateway.set_defaults(func=cmd_gateway)
    snd = sub.add_parser("send", help="send one APDU to an ISO ILL peer, print the answer")
    snd.add_argument("--to", required=True, help="HOST:PORT of the peer")
    snd.add_argument("file", help="the APDU: isoill JSON (.json) or BER")
    snd.add_argument("--json", action="store_true", help="print the answer as JSON")
    snd.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_SEND_TIMEOUT,
        help=f"seconds to wait for the answer in all ({DEFAULT_SEND_TIMEOUT:g})",
    )
    snd.set_defaults(func=cmd_send)
    staff = sub.add_parser("staff", help="staff accounts of the gateway's library pages")
    staff_commands = staff.add_subparsers(dest="staff_command", required=True)
    add = staff_commands.add_parser(
        "add", help="add a staff or operator account (confirmed at once)"
    )
    add.add_argument("user", help="the account's user name")
    add.add_argument("--library", help="the library network the staff work for")
    add.add_argument(
        "--operator",
        action="store_true",
        help="an operator of the gateway: its operations pages, status and records API",
    )
    add.add_argument("--member", help="central mode: the member library (its symbol)")
    add.add_argument("--config", help="the gateway's TOML configuration (default: embedded)")
    add.add_argument("--store", help="SQLite file or postgresql:// URL (default: the config's)")
    add.set_defaults(func=cmd_staff_add)
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
        print(f"isoill: {_os_error(err, getattr(args, 'lang', 'en'))}", file=sys.stderr)
        return 1
    return status


def _os_error(err: OSError, lang: Lang) -> str:
    """A file that could not be opened, in the staff's language for ``--lang ja`` (Python's
    own wording, "[Errno 2] ...", otherwise, as before)."""
    if lang != "ja" or err.filename is None:
        return str(err)
    from isoill.mapping.messages import in_lang, say

    if isinstance(err, FileNotFoundError):
        return in_lang(say("file-missing", file=err.filename), lang)
    return in_lang(say("file-unreadable", file=err.filename, why=err.strerror), lang)


__all__ = ["main", "render_tree"]

if __name__ == "__main__":
    sys.exit(main())
