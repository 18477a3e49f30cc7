"""The least work any pure-Python BER codec of isoill's values must do, measured.

A decoder has to look at every identifier and length octet of its input and has to build
every value it returns: each dataclass instance, each ``str`` out of bytes. This module
writes, for each given APDU and its encoding, one Python function that does only that and
nothing else: it compares every header octet with a constant at an offset known in advance
(no length arithmetic, no dispatch on tags, no optional or DEFAULT components to decide,
no error paths) and builds the value tree from constants the fastest way CPython allows
(``object.__new__`` and one ``__dict__.update`` per instance, as the specialised codec does).

For encoding, the same for the other direction: one function per APDU that reads every
attribute of the value tree along paths known in advance, turns each string into bytes, and
joins them after the encoding's header octets as one constant: no tag or length is worked
out, nothing is checked.

No codec can be faster than these functions, so their rate, divided by YAZ's in the same
run, bounds what any pure-Python decoder can reach on that corpus: when the bound itself is
near or below a speed target, the target asks for something Python cannot do, and the bench
says so with figures rather than an argument.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any

from isoill.apdu.ber import INDEFINITE, read_length, read_tag

__all__ = ["floor_decoders", "floor_encoders", "header_offsets"]


def header_offsets(data: bytes) -> list[int]:
    """The offsets of every identifier, length and end-of-contents octet in ``data``, a
    well-formed BER encoding (definite and indefinite lengths, high tag numbers)."""
    out: list[int] = []
    _walk(data, 0, len(data), out)
    return out


def _walk(data: bytes, p: int, end: int, out: list[int]) -> int:
    """Collects the header octets of the encodings in ``data[p:end]`` (to the end-of-contents
    that closes an indefinite parent); returns where the walk stopped."""
    while p < end:
        if data[p] == 0 and data[p + 1] == 0:
            out += (p, p + 1)
            return p + 2
        constructed = bool(data[p] & 0x20)
        _, after_tag = read_tag(data, p)
        content_end, start = read_length(data, after_tag, constructed, len(data))
        out.extend(range(p, start))
        if content_end == INDEFINITE:
            p = _walk(data, start, len(data), out)
            continue
        if constructed:
            _walk(data, start, content_end, out)
        p = content_end
    return p


class _Writer:
    """Source for one function: header checks, then the value tree built bottom-up."""

    def __init__(self, constants: list[Any]) -> None:
        self.constants = constants
        self.lines: list[str] = []
        self.count = 0

    def constant(self, value: Any) -> str:
        self.constants.append(value)
        return f"C[{len(self.constants) - 1}]"

    def value(self, value: Any) -> str:
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            items = ", ".join(f"{k!r}: {self.value(v)}" for k, v in vars(value).items())
            name = f"t{self.count}"
            self.count += 1
            cls = self.constant(type(value))
            self.lines.append(f"{name} = _new({cls}); {name}.__dict__.update({{{items}}})")
            return name
        if isinstance(value, tuple):
            return "(" + "".join(f"{self.value(v)}, " for v in value) + ")"
        if isinstance(value, str):
            # a decoder makes each string out of the input's bytes
            return f"{self.constant(value.encode('utf-8'))}.decode('utf-8')"
        if isinstance(value, bytes):
            return f"{self.constant(value)}[:]"
        return self.constant(value)


def floor_decoders(apdus: Sequence[Any], encoded: Sequence[bytes]) -> list[Callable[[bytes], Any]]:
    """One function per APDU: given its encoding, returns a value equal to it (raising
    ``ValueError`` when a header octet differs), doing only what every decoder must."""
    constants: list[Any] = []
    source = []
    for index, (apdu, data) in enumerate(zip(apdus, encoded, strict=True)):
        writer = _Writer(constants)
        checks = [f"if data[{o}] != {data[o]}: raise E" for o in header_offsets(data)]
        top = writer.value(apdu)
        body = [*checks, *writer.lines, f"return {top}"]
        source.append(f"def f{index}(data):\n" + "".join(f"    {line}\n" for line in body))
    source.append(f"FS = [{', '.join(f'f{i}' for i in range(len(apdus)))}]\n")
    namespace: dict[str, Any] = {"C": constants, "_new": object.__new__, "E": ValueError}
    exec("".join(source), namespace)
    functions: list[Callable[[bytes], Any]] = namespace["FS"]
    return functions


def _reads(value: Any, path: str, out: list[str]) -> None:
    """Expressions reading every leaf of ``value`` (at ``path``), strings turned into bytes."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for name, member in vars(value).items():
            _reads(member, f"{path}.{name}", out)
    elif isinstance(value, tuple):
        for index, member in enumerate(value):
            _reads(member, f"{path}[{index}]", out)
    elif isinstance(value, str):
        out.append(f"{path}.encode('utf-8')")
    else:
        out.append(path)


def floor_encoders(apdus: Sequence[Any], encoded: Sequence[bytes]) -> list[Callable[[Any], bytes]]:
    """One function per APDU: given the value, reads all of it and returns bytes (not the
    encoding: the header octets as one constant, then the strings), doing only what every
    encoder must."""
    constants: list[Any] = []
    source = []
    for index, (apdu, data) in enumerate(zip(apdus, encoded, strict=True)):
        constants.append(bytes(data[o] for o in header_offsets(data)))
        reads: list[str] = []
        _reads(apdu, "v", reads)
        leaves = [r for r in reads if r.endswith(".encode('utf-8')")]
        others = [r for r in reads if not r.endswith(".encode('utf-8')")]
        body = [f"_ = ({', '.join(others)},)"] if others else []
        parts = "".join(f"{r}, " for r in leaves)
        body.append(f"return b''.join((C[{len(constants) - 1}], {parts}))")
        source.append(f"def f{index}(v):\n" + "".join(f"    {line}\n" for line in body))
    source.append(f"FS = [{', '.join(f'f{i}' for i in range(len(apdus)))}]\n")
    namespace: dict[str, Any] = {"C": constants}
    exec("".join(source), namespace)
    functions: list[Callable[[Any], bytes]] = namespace["FS"]
    return functions
