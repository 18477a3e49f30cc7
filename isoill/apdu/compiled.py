"""The specialised codec: straight-line Python for each SEQUENCE, CHOICE and SEQUENCE OF.

The interpreter (:mod:`isoill.apdu.ber_decode`, :mod:`isoill.apdu.ber_encode`) is general:
a loop per SEQUENCE that looks each component's tag up in a table, a function call and a
tuple per header, a dict of defaults copied into every value. This module turns the bound
tree into Python source with one function per constructed node, written for exactly its
components: tag octets compared as constants, short and indefinite lengths read inline (the
long definite forms by a helper), the common leaves (ILL-Strings, ENUMERATED, BOOLEAN, small
INTEGERs, dates) decoded in place, values built by filling the dataclass's ``__dict__`` with
the components present (absent ones fall back to the class attribute ``dataclasses`` leaves
for a default), encodings written from tables of precomputed octets. The source is compiled
once per codec at first use; it stays inspectable as :attr:`CompiledCodec.source`.

Every generated function has the interpreter's function for the same node as its slow path,
and takes it whenever anything is not the common case: a length form it does not read, a
constructed string, an EDIFACTString outside its alphabet, an unexpected tag, an error of
any kind. The slow path then decodes (or encodes) the node from its start, so every error --
its kind, offset, component path and reason -- and every uncommon encoding is exactly the
interpreter's. The fast path only ever returns what the interpreter would have returned;
``tests/apdu/test_fast_codec.py`` checks that against the pre-change codec kept as an
oracle. Re-decoding on error costs at most one extra pass per nesting level, which the
schema bounds, so decoding stays linear in the input.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import marshal
from collections.abc import Callable
from datetime import date, time
from functools import cache
from types import CodeType
from typing import Any, get_origin

from isoill.apdu import schema
from isoill.apdu import types as model
from isoill.apdu.ber import encode_length, encode_tag_key
from isoill.apdu.value_rules import EDIFACT_STRING, GENERAL_STRING

_Decode = Callable[[bytes, int, int], tuple[Any, int]]
_Encode = Callable[[Any], bytes]


#: The node kinds that get generated code; the rest are the interpreter's leaf functions.
_GENERATED = ("seq", "seqof", "choice", "explicit", "wrapped")
#: The two string types of an ILL-String, in the order the inline forms try them.
_STRING_TAGS = (GENERAL_STRING, EDIFACT_STRING)
#: The leaves decoded in place when short.
_LEAVES = ("enum", "bool", "int", "text", "null", "ill_string")


class _Bail(Exception):
    """Raised inside a fast path to hand the node to its slow path."""


def _compiled(source: str) -> CodeType:
    """``source`` compiled, from isoill's cache directory when it has been before:
    compiling the generated code is most of the time a fresh process takes to build its
    codec, which a command-line tool pays on every run."""
    digest = hashlib.sha256(importlib.util.MAGIC_NUMBER + source.encode()).hexdigest()[:16]
    name = f"codec-{digest}.marshal"
    cached = schema.read_cache(name)
    if cached is not None:
        try:
            code = marshal.loads(cached)
            if isinstance(code, CodeType):
                return code
        except (EOFError, ValueError, TypeError):
            pass
    code = compile(source, "<isoill.apdu.compiled>", "exec")
    schema.write_cache(name, marshal.dumps(code))
    return code


def _long_length(data: bytes, at: int) -> tuple[int, int]:
    """(content end, content start) for a definite long-form length at ``at``; (-1, 0) for
    the indefinite form or anything odd, which the caller leaves to the slow path."""
    first = data[at]
    if first == 0x81:
        return at + 2 + data[at + 1], at + 2
    if first == 0x82:
        return at + 3 + (data[at + 1] << 8 | data[at + 2]), at + 3
    if first == 0x83:
        return at + 4 + int.from_bytes(data[at + 1 : at + 4], "big"), at + 4
    return -1, 0


def _headers(key: int) -> tuple[bytes, ...]:
    """Tag and short length octets for every content length below 128."""
    tag = encode_tag_key(key)
    return tuple(tag + bytes((n,)) for n in range(128))


class CompiledCodec:
    """Generated decoder and encoder for one bound ILL-APDU coder tree."""

    def __init__(self, root: Any, omit_defaults: bool = False) -> None:
        self.omit_defaults = omit_defaults
        self._ns: dict[str, Any] = {
            "_Bail": _Bail,
            "_long": _long_length,
            "_enclen": encode_length,
            "_LENGTHS": tuple(encode_length(n) for n in range(0x100)),
            "_new": object.__new__,
            "_edifact": _edifact,
        }
        self._names: dict[Any, str] = {}
        self._dec_fns: dict[int, str] = {}
        self._enc_fns: dict[int, str] = {}
        self._out: list[str] = []
        self._keep: list[Any] = []  # coders whose ids name generated functions
        self._tables: dict[str, dict[Any, str]] = {}  # dispatch tables, filled after exec
        self._written: dict[int, str] = {}  # ISO-Date/Time coder id -> its memo's table
        dec = self._dec_fn(root)
        enc = self._enc_fn(root)
        #: The generated Python source, for reading and debugging.
        self.source = "\n".join(self._out) + "\n"
        exec(_compiled(self.source), self._ns)
        for table, functions in self._tables.items():
            self._ns[table] = {key: self._ns[name] for key, name in functions.items()}
        self.decode: _Decode = self._ns[dec]
        self.encode: _Encode = self._ns[enc]

    def compiled_coder(self, coder: Any) -> Any:
        """``coder`` with the generated decoder and encoder (for a typed EXTERNAL's type)."""
        return dataclasses.replace(coder, decode=self.decode, encode=self.encode)

    # --- names and constants -------------------------------------------------------------

    def _const(self, value: Any, hint: str) -> str:
        """A name in the generated module's namespace bound to ``value``."""
        plain = isinstance(value, int | bytes | str)
        key = (hint, type(value), value) if plain else (hint, id(value))
        name = self._names.get(key)
        if name is None:
            name = f"{hint}{len(self._names)}"
            self._names[key] = name
            self._ns[name] = value
            self._keep.append(value)
        return name

    @staticmethod
    def _tag_test(key: int, at: str) -> str:
        octets = encode_tag_key(key)
        return " and ".join(
            f"data[{at}{f' + {i}' if i else ''}] == {octet:#04x}" for i, octet in enumerate(octets)
        )

    def _tags_test(self, tags: frozenset[int], at: str) -> str:
        if len(tags) == 1:
            return self._tag_test(next(iter(tags)), at)
        if all(key < 0x100 for key in tags):
            return f"data[{at}] in {self._const(tags, 'TAGS')}"
        return "(" + " or ".join(f"({self._tag_test(key, at)})" for key in sorted(tags)) + ")"

    # --- decoding ------------------------------------------------------------------------

    def _dec_fn(self, coder: Any) -> str:
        """Name of a function decoding ``coder``'s node: generated for constructed nodes,
        the interpreter's own for the rest."""
        shape = coder.shape
        kind = shape[0] if shape else None
        if kind not in _GENERATED:
            return self._const(coder.decode, "dec_")
        if id(coder) in self._dec_fns:
            return self._dec_fns[id(coder)]
        name = f"d{len(self._dec_fns)}_{kind}"
        self._dec_fns[id(coder)] = name
        self._keep.append(coder)
        slow = self._const(coder.decode, "slow_")
        body: list[str] = []
        if kind == "choice":
            table = {}
            for _arm_name, _arm_type, arm in shape[1]:
                for key in arm.tags:
                    if key < 0x100 or key & 0xFFFFFF < 0x80:  # one or two tag octets
                        table[key] = self._dec_fn(arm)
            body += [
                "t = data[off]",
                "if t & 0x1f == 0x1f:",
                "    t = t << 24 | data[off + 1]",
                f"f = {self._table(table)}.get(t)",
                "if f is not None and off < limit:",
                "    return f(data, off, limit)",
            ]
        elif kind == "wrapped":  # a dataclass holding one value (SystemNo, PersonSymbol)
            _k, inner, cls, field = shape
            body += [
                f"x, p = {self._dec_fn(inner)}(data, off, limit)",
                f"o = _new({self._const(cls, 'CLS_')})",
                f"o.__dict__[{field!r}] = x",
                "return o, p",
            ]
        else:
            if kind == "explicit":
                body += ["p = off", "end = limit"]
                for string_tag in _STRING_TAGS:
                    inline = self._explicit_leaf_dec(shape[1], shape[2], "p", "end", string_tag)
                    if inline and f"return {inline[1]}, {inline[2]}" not in body:
                        cond, value, after = inline
                        body += [
                            f"if data[p] == {shape[1]:#04x} and {cond}:",
                            f"    return {value}, {after}",
                        ]
            key = shape[1]
            tl = len(encode_tag_key(key))
            body += [
                f"if not ({self._tag_test(key, 'off')}):",
                "    raise _Bail",
                *self._length("off", tl),
            ]
            if kind == "seq":
                body += self._seq_body(shape)
            elif kind == "seqof":
                body += self._seqof_body(shape)
            else:
                inner = self._dec_fn(shape[2])
                body += [f"x, p = {inner}(data, p, end)", *_finish("x")]
        self._out += [
            f"def {name}(data, off, limit):",
            "    try:",
            *("        " + line for line in body),
            "    except Exception:",
            "        pass",
            f"    return {slow}(data, off, limit)",
            "",
        ]
        return name

    def _table(self, functions: dict[Any, str]) -> str:
        """A dispatch table of generated functions, which exist only after the exec."""
        name = f"ARMS{len(self._tables)}"
        self._tables[name] = functions
        return name

    @staticmethod
    def _length(off: str, tl: int) -> list[str]:
        """Read the length after a ``tl``-octet tag at ``off`` into ``p`` (the contents'
        start) and ``end`` (their bound: ``limit`` for the indefinite form, which ``ind``
        marks and :func:`_finish` closes); the short and indefinite forms inline."""
        at = f"off + {tl}"
        return [
            f"n = data[{at}]",
            f"p = {_off(at, 1)}",
            "if n < 0x80:",
            "    ind = False",
            "    end = p + n",
            "    if end > limit:",
            "        raise _Bail",
            "elif n == 0x80:",
            "    ind = True",
            "    end = limit",
            "else:",
            "    ind = False",
            f"    end, p = _long(data, {at})",
            "    if end < 0 or end > limit:",
            "        raise _Bail",
        ]

    def _seq_body(self, shape: tuple[Any, ...]) -> list[str]:
        _kind, _key, cls, members, defined_by = shape
        lines = [f"o = _new({self._const(cls, 'CLS_')})", "d = o.__dict__"]
        for m in members:
            lines.append(f"if p < end and {self._tags_test(m.coder.tags, 'p')}:")
            member = self._dec_member(m.coder, "x")
            if m.field in defined_by:  # ANY DEFINED BY an earlier component (Extension.item)
                by, choices = defined_by[m.field]
                table = self._table({v: self._dec_fn(c) for v, c in choices.items()})
                member = [
                    f"f = {table}.get(getattr(o, {by!r}))",
                    "if f is not None:",
                    "    x, p = f(data, p, end)",
                    "else:",
                    *("    " + line for line in member),
                ]
            lines += ["    " + line for line in member]
            lines.append(f"    d[{m.field!r}] = x")
            if m.required:
                lines += ["else:", "    raise _Bail"]
            elif m.field not in vars(cls):  # no class attribute to fall back on
                default = None if m.default is dataclasses.MISSING else m.default
                lines += ["else:", f"    d[{m.field!r}] = {self._const(default, 'DEF_')}"]
        lines += _finish("o")
        return lines

    def _seqof_body(self, shape: tuple[Any, ...]) -> list[str]:
        _kind, _key, element, size = shape
        lines = [
            "items = []",
            "while p < end and data[p]:",  # a 0 octet: end-of-contents, or a bail below
            f"    if not ({self._tags_test(element.tags, 'p')}):",
            "        raise _Bail",
            *("    " + line for line in self._dec_member(element, "x")),
            "    items.append(x)",
        ]
        if size is not None:
            lines += [f"if not {size[0]} <= len(items) <= {size[1]}:", "    raise _Bail"]
        lines += _finish("tuple(items)")
        return lines

    def _dec_member(self, coder: Any, var: str) -> list[str]:
        """Decode the TLV at ``p`` (its tag already matched), bounded by ``end``, into
        ``var``, and move ``p`` past it: in place for the common encodings of leaves and
        of ``[n] EXPLICIT`` leaves or CHOICEs of them, by a call otherwise."""
        generic = f"{var}, p = {self._dec_fn(coder)}(data, p, end)"
        shape = coder.shape
        inlines = []
        if shape and shape[0] == "ill_string":  # untagged (SystemNo's record-no)
            inlines = [self._leaf_dec(shape, "p", "end", tag) for tag in _STRING_TAGS]
        elif shape and shape[0] in _LEAVES:
            inlines = [self._leaf_dec(shape, "p", "end", matched=len(coder.tags) == 1)]
        elif shape and shape[0] == "explicit":
            inlines = [self._explicit_leaf_dec(shape[1], shape[2], "p", "end")]
            if inlines == [None]:
                inlines = self._explicit_choice_dec(shape[1], shape[2])
        lines: list[str] = []
        for inline in inlines:
            if inline is None:
                return [generic]
            cond, value, after = inline
            lines += [
                f"{'el' if lines else ''}if {cond}:",
                f"    {var} = {value}",
                f"    p = {after}",
            ]
        return [*lines, "else:", f"    {generic}"] if lines else [generic]

    def _explicit_choice_dec(self, key: int, inner: Any) -> list[tuple[str, str, str] | None]:
        """``[n] EXPLICIT CHOICE`` of explicitly tagged leaves (System-Id's person or
        institution): one inline form per alternative, all headers in short form."""
        if key >= 0x100 or not inner.shape or inner.shape[0] != "choice":
            return [None]
        start = "p + 2"
        out: list[tuple[str, str, str] | None] = []
        for _name, _type, arm in inner.shape[1]:
            ashape = arm.shape
            if not ashape or ashape[0] != "explicit" or ashape[1] >= 0x100:
                return [None]
            leaf = self._explicit_leaf_dec(ashape[1], ashape[2], start, "e", exact=True)
            if leaf is None:
                return [None]
            cond, value, after = leaf
            # t (the alternative's tag) is set by the first test, which always runs. The
            # outer length is short: the string ends exactly at e, and is short enough
            # (exact) that e - p - 2 is below 0x80.
            tag = f"{'t' if out else '(t := data[p + 2])'} == {ashape[1]:#04x}"
            head = f"{tag} and (e := p + 2 + data[p + 1]) <= end"
            out.append((f"{head} and {cond}", value, after))
        return out

    def _leaf_dec(
        self,
        shape: tuple[Any, ...],
        at: str,
        bound: str,
        string_tag: int = GENERAL_STRING,
        matched: bool = False,
    ) -> tuple[str, str, str] | None:
        """(condition, value expression, offset after) for a primitive leaf in short form
        whose tag is at ``at`` (tested here unless the caller ``matched`` it), ending by
        ``bound``; None when there is no inline form."""
        kind, key = shape[0], shape[1]
        n = f"data[{_off(at, 1)}]"
        if kind == "ill_string":
            cond = f"data[{at}] == {string_tag:#04x} and (k := {n}) < 0x80"
            cond += f" and (q := {_off(at, 2)} + k) <= {bound}"
            value, cond = self._ill_text(shape, None, _off(at, 2), cond, string_tag)
            return cond, value, "q"
        if kind not in _LEAVES or key >= 0x100:
            return None
        # The caller's test may have matched the tag already (its node has only the one).
        tag = "" if matched else f"data[{at}] == {key:#04x} and "
        if kind in ("enum", "bool", "int"):
            table = self._leaf_table(shape)
            fits = f"{_off(at, 3)} <= {bound}"
            return (
                f"{tag}{n} == 1 and data[{_off(at, 2)}] in {table} and {fits}",
                f"{table}[data[{_off(at, 2)}]]",
                _off(at, 3),
            )
        if kind == "null":
            cls = self._const(shape[2], "CLS_")
            return (f"{tag}{n} == 0 and {_off(at, 2)} <= {bound}", f"{cls}()", _off(at, 2))
        convert = self._const(_FAST_CONVERT.get(shape[6], _same)(shape[2]), "conv_")
        return (
            f"{tag}{n} < 0x80 and {n} <= {shape[5]} and {_off(at, 2)} + {n} <= {bound}",
            f"{convert}(data[{_off(at, 2)} : {_off(at, 2)} + {n}])",
            f"{_off(at, 2)} + {n}",
        )

    def _leaf_table(self, shape: tuple[Any, ...]) -> str:
        """Content octet (one, 0..127) -> value, for the values the node accepts."""
        kind = shape[0]
        if kind == "enum":
            cls, permitted = shape[2], shape[3]
            table = {int(m): m for m in cls if 0 <= m < 0x80 and (not permitted or m in permitted)}
        elif kind == "bool":
            table = {octet: octet != 0 for octet in range(0x80)}
        else:
            low, high = shape[2] or (0, 0x7F)
            table = {v: v for v in range(max(low, 0), min(high, 0x7F) + 1)}
        return self._const(table, "VAL_")

    def _explicit_leaf_dec(
        self,
        key: int,
        inner: Any,
        at: str,
        bound: str,
        string_tag: int = GENERAL_STRING,
        exact: bool = False,
    ) -> tuple[str, str, str] | None:
        """``[n] EXPLICIT`` around a leaf at ``at``, ending by ``bound``, both headers in
        short form, as one test (the outer tag already matched); an ILL-String as the
        ``string_tag`` type (GeneralString, or EDIFACTString). ``exact``: an ILL-String
        ending exactly at ``bound``, its contents two octets shorter than the short form
        allows (room for one more header around it); no other leaf."""
        ishape = inner.shape
        if key >= 0x100 or not ishape:
            return None
        wrap = None
        if ishape[0] == "wrapped" and ishape[1].shape and ishape[1].shape[0] == "ill_string":
            wrap, ishape = ishape, ishape[1].shape
        if ishape[0] == "ill_string":
            cond = (
                f"data[{_off(at, 2)}] == {string_tag:#04x}"
                f" and data[{_off(at, 1)}] == (k := data[{_off(at, 3)}]) + 2"
                f" < {0x7E if exact else 0x80:#04x}"
                f" and (q := {_off(at, 4)} + k) {'==' if exact else '<='} {bound}"
            )
            value, cond = self._ill_text(ishape, wrap, _off(at, 4), cond, string_tag)
            return cond, value, "q"
        leaf = None if exact else self._leaf_dec(ishape, _off(at, 2), bound)
        if leaf is None:
            return None
        cond, value, after = leaf
        outer = f"data[{_off(at, 1)}] < 0x80 and {after} == {_off(at, 2)} + data[{_off(at, 1)}]"
        return f"{outer} and {cond}", value, after

    def _ill_text(
        self,
        shape: tuple[Any, ...],
        wrap: Any,
        start: str,
        cond: str,
        string_tag: int = GENERAL_STRING,
    ) -> tuple[str, str]:
        """(value expression, condition) for an ILL-String's content octets from ``start``
        to ``q`` (``k`` of them): decoded, SIZE-checked, wrapped in its dataclass if it has
        one."""
        _kind, charset, size, max_len = shape
        raw = f"data[{start} : q]"
        text = f"{raw}.decode({charset!r})" if string_tag == GENERAL_STRING else f"_edifact({raw})"
        if max_len < 0x80:
            cond += f" and k <= {max_len}"
        if size is not None:
            text = f"{self._const(_sized(size), 'size_')}({text})"
        if wrap is not None:
            text = f"{self._const(_wrapper(wrap[2], wrap[3]), 'wrap_')}({text})"
        return text, cond

    # --- encoding ------------------------------------------------------------------------

    def _enc_fn(self, coder: Any) -> str:
        shape = coder.shape
        kind = shape[0] if shape else None
        if kind not in _GENERATED:
            if kind == "text" and {date, time} & set(shape[4]):
                seen: dict[Any, bytes] = {}
                self._written[id(coder)] = self._const(seen, "SEEN_")
                return self._const(_memo_encoder(coder.encode, seen), "enc_")
            return self._const(coder.encode, "enc_")
        if id(coder) in self._enc_fns:
            return self._enc_fns[id(coder)]
        name = f"e{len(self._enc_fns)}_{kind}"
        self._enc_fns[id(coder)] = name
        self._keep.append(coder)
        slow = self._const(coder.encode, "eslow_")
        if kind == "choice":
            table: dict[Any, str] = {}
            for _arm_name, arm_type, arm in shape[1]:
                origin = get_origin(arm_type) or arm_type
                table[origin] = self._enc_fn(arm)
                if origin is str:
                    table[model.EDIFACTString] = table[origin]
            self._out += [
                f"def {name}(v):",
                f"    f = {self._table(table)}.get(type(v))",
                "    if f is not None:",
                "        try:",
                "            return f(v)",
                "        except Exception:",
                "            pass",
                f"    return {slow}(v)",
                "",
            ]
            return name
        if kind == "wrapped":
            _k, inner, cls, field = shape
            self._out += [
                f"def {name}(v):",
                f"    if type(v) is {self._const(cls, 'CLS_')}:",
                "        try:",
                f"            return {self._enc_fn(inner)}(v.{field})",
                "        except Exception:",
                "            pass",
                f"    return {slow}(v)",
                "",
            ]
            return name
        key = shape[1]
        headers = self._const(_headers(key), "H_")
        tag = self._const(encode_tag_key(key), "TAG_")
        if kind == "explicit":
            body = [f"c = {self._enc_fn(shape[2])}(v)"]
        elif kind == "seq":
            _k, _key, cls, members, defined_by = shape
            body = [f"if type(v) is not {self._const(cls, 'CLS_')}:", "    raise _Bail"]
            body += ["parts = []", "a = parts.append"]
            for m in members:
                body.append(f"x = v.{m.field}")
                test = "x is not None"
                if self.omit_defaults and m.default is not dataclasses.MISSING:
                    test += f" and x != {self._const(m.default, 'DEF_')}"
                body.append(f"if {test}:")
                member = self._enc_member(m.coder)
                if m.field in defined_by:
                    by, choices = defined_by[m.field]
                    by_value = self._table({v: self._enc_fn(c) for v, c in choices.items()})
                    member = [
                        f"f = None if type(x) is bytes else {by_value}.get(v.{by})",
                        "if f is not None:",
                        "    a(f(x))",
                        "else:",
                        *("    " + line for line in member),
                    ]
                body += ["    " + line for line in member]
                if m.required:
                    body += ["elif x is None:", "    raise _Bail"]
            body.append("c = b''.join(parts)")
        else:
            _k, _key, element, size = shape
            body = ["if type(v) is not tuple:", "    raise _Bail"]
            if size is not None:
                body += [f"if not {size[0]} <= len(v) <= {size[1]}:", "    raise _Bail"]
            body += ["parts = []", "a = parts.append", "for x in v:"]
            body += ["    " + line for line in self._enc_member(element)]
            body.append("c = b''.join(parts)")
        body += [
            "n = len(c)",
            f"return ({headers}[n] if n < 0x80 else {tag} + _LENGTHS[n] if n < 0x100"
            f" else {tag} + _enclen(n)) + c",
        ]
        self._out += [
            f"def {name}(v):",
            "    try:",
            *("        " + line for line in body),
            "    except Exception:",
            "        pass",
            f"    return {slow}(v)",
            "",
        ]
        return name

    def _enc_member(self, coder: Any) -> list[str]:
        """Append the encoding of ``x`` (not None) to ``parts``."""
        generic = f"a({self._enc_fn(coder)}(x))"
        shape = coder.shape
        if not shape:
            return [generic]
        encode = self._enc_fn(coder)
        if id(coder) in self._written:  # a date or time written before
            return [f"a({self._written[id(coder)]}.get(x) or {encode}(x))"]
        table = self._enc_table(coder)
        if table is not None:
            check, name = table
            return [f"a({name}[x] if {check} and x in {name} else {self._enc_fn(coder)}(x))"]
        lines: list[str] = []
        for test, value, headers, charset in self._string_enc_forms(coder):
            lines += [
                f"{'el' if lines else ''}if {test} and len(r := {value}.encode({charset!r})) < "
                f"{len(self._ns[headers])}:",
                f"    a({headers}[len(r)] + r)",
            ]
        return [*lines, "else:", f"    {generic}"] if lines else [generic]

    def _string_enc_forms(self, coder: Any) -> list[tuple[str, str, str, str]]:
        """(test on ``x``, the text, table of header octets by length, charset) for each way
        ``x`` may be a GeneralString in short form: an ILL-String, under an explicit tag,
        in its dataclass (PersonSymbol), or in a CHOICE of those (Person-Or-Institution-
        Symbol); [] for other nodes."""
        shape = coder.shape
        if shape[0] == "ill_string":
            return [self._string_form("", "x", shape, ())]
        if shape[0] != "explicit" or shape[1] >= 0x100 or not shape[2].shape:
            return []
        outer, inner = shape[1], shape[2]
        if inner.shape[0] == "choice":
            forms = []
            for _name, _type, arm in inner.shape[1]:
                ashape = arm.shape
                if not ashape or ashape[0] != "explicit" or ashape[1] >= 0x100:
                    return []
                form = self._string_leaf(ashape[2], (outer, ashape[1]))
                if form is None:
                    return []
                forms.append(form)
            return forms
        form = self._string_leaf(inner, (outer,))
        return [] if form is None else [form]

    def _string_leaf(self, coder: Any, tags: tuple[int, ...]) -> tuple[str, str, str, str] | None:
        """:meth:`_string_forms` for an ILL-String, bare or in its dataclass, under ``tags``."""
        shape = coder.shape
        if shape and shape[0] == "wrapped" and (shape[1].shape or ("",))[0] == "ill_string":
            cls, field = self._const(shape[2], "CLS_"), shape[3]
            return self._string_form(f"type(x) is {cls}", f"x.{field}", shape[1].shape, tags)
        if shape and shape[0] == "ill_string":
            return self._string_form("", "x", shape, tags)
        return None

    def _string_form(
        self, test: str, value: str, shape: tuple[Any, ...], tags: tuple[int, ...]
    ) -> tuple[str, str, str, str]:
        _kind, charset, size, _max_len = shape
        test = f"{test}{' and ' if test else ''}type({value}) is str"
        if size is not None:
            test += f" and {size[0]} <= len({value}) <= {size[1]}"
        return test, value, self._const(_string_headers(tags), "HS_"), charset

    def _enc_table(self, coder: Any) -> tuple[str, str] | None:
        """(type test, table name) when the node's every accepted value (or every small
        one) has its whole encoding precomputed: ENUMERATED, BOOLEAN, small INTEGERs, with or
        without an explicit tag around them."""
        shape = coder.shape
        outer = None
        if shape[0] == "explicit" and shape[2].shape:
            outer, shape = shape[1], shape[2].shape
        if shape[0] not in ("enum", "bool", "int"):
            return None
        if shape[0] == "enum":
            values: list[Any] = [
                m for m in shape[2] if 0 <= m < 0x80 and (not shape[3] or m in shape[3])
            ]
            check = f"type(x) is {self._const(shape[2], 'CLS_')}"
        elif shape[0] == "bool":
            values, check = [True, False], "type(x) is bool"
        else:
            low, high = shape[2] or (0, 0x7F)
            values, check = list(range(max(low, 0), min(high, 0x7F) + 1)), "type(x) is int"
        inner_tag = encode_tag_key(shape[1])
        table = {}
        for value in values:
            content = b"\xff" if value is True else int(value).to_bytes(1, "big", signed=True)
            octets = inner_tag + bytes((len(content),)) + content
            if outer is not None:
                octets = encode_tag_key(outer) + bytes((len(octets),)) + octets
            table[value] = octets
        return check, self._const(table, "ENC_")


def _off(at: str, k: int) -> str:
    """``at + k`` with the constants added up (``p + 2`` plus 4 is ``p + 6``), as CPython
    does not fold them."""
    var, _, const = at.partition(" + ")
    total = k + (int(const) if const else 0)
    return f"{var} + {total}" if total else var


@cache
def _string_headers(tags: tuple[int, ...]) -> tuple[bytes, ...]:
    """Header octets of a GeneralString of each content length n under ``tags``: each tag,
    then its length (the content and the headers inside), all in short form."""
    headers = []
    for n in range(0x80 - 2 * len(tags)):
        octets = bytes((GENERAL_STRING, n))
        for key in reversed(tags):
            octets = encode_tag_key(key) + bytes((len(octets) + n,)) + octets
        headers.append(octets)
    return tuple(headers)


def _finish(value: str) -> list[str]:
    """Return ``value`` if the contents end at ``p``: exactly at ``end`` for a definite
    length, with an end-of-contents inside ``limit`` for the indefinite form."""
    return [
        "if ind:",
        "    if p + 2 <= end and data[p] == 0 and data[p + 1] == 0:",
        f"        return {value}, p + 2",
        "elif p == end:",
        f"    return {value}, p",
    ]


def _same(convert: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    return convert


def _memo(
    compute: Callable[[Any], Any], seen: dict[Any, Any] | None = None
) -> Callable[[Any], Any]:
    """``compute`` remembered in ``seen`` for the arguments seen so far: the same few dates
    and times recur in every APDU of a day, and both they and their encodings are immutable.
    Bounded, so a hostile peer cannot grow it; what ``compute`` refuses is not remembered."""
    table: dict[Any, Any] = {} if seen is None else seen

    def memo(key: Any) -> Any:
        value = table.get(key)
        if value is None:
            value = compute(key)
            if len(table) < 4096:
                table[key] = value
        return value

    return memo


def _memo_encoder(encode: _Encode, seen: dict[Any, bytes]) -> _Encode:
    """An ISO-Date or ISO-Time encoder remembering in ``seen`` what it wrote for naive dates
    and times (equal ones are written alike). Aware times and text are not remembered, and
    no other value equals a naive date or time, so ``seen.get(value)`` is safe for any."""
    remembered = _memo(encode, seen)
    kinds = (date, time)

    def memo(value: Any) -> bytes:
        if type(value) not in kinds or getattr(value, "tzinfo", None) is not None:
            return encode(value)
        out: bytes = remembered(value)
        return out

    return memo


def _fast_date(convert: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    """ISO-Date content to a value: YYYYMMDD without the generic text path."""
    make = date

    def fast(raw: bytes) -> Any:
        if len(raw) == 8 and raw.isdigit():
            try:
                return make(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
            except ValueError:
                pass
        return convert(raw)  # the peer's own text, as the interpreter keeps it

    return _memo(fast)


def _fast_time(convert: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    """ISO-Time content to a value: HHMMSS without the generic text path."""
    make = time

    def fast(raw: bytes) -> Any:
        if len(raw) == 6 and raw.isdigit():
            try:
                return make(int(raw[:2]), int(raw[2:4]), int(raw[4:]))
            except ValueError:
                pass
        return convert(raw)

    return _memo(fast)


_FAST_CONVERT = {"ISO-Date": _fast_date, "ISO-Time": _fast_time}


def _edifact(raw: bytes) -> model.EDIFACTString:
    """An EDIFACTString's content, or a bail for a character outside its alphabet (which
    the slow path refuses with the reason)."""
    text = raw.decode("latin-1")
    if not _EDIFACT_ALPHABET.issuperset(text):
        raise _Bail
    return model.EDIFACTString(text)


_EDIFACT_ALPHABET = model.EDIFACT_ALPHABET


def _sized(size: tuple[int, int]) -> Callable[[str], str]:
    low, high = size

    def check(text: str) -> str:
        if not low <= len(text) <= high:
            raise _Bail
        return text

    return check


def _wrapper(cls: type, name: str) -> Callable[[Any], Any]:
    new = object.__new__

    def wrap(value: Any) -> Any:
        obj: Any = new(cls)
        obj.__dict__[name] = value
        return obj

    return wrap
