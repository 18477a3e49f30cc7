"""YAZ's ILL codec as a peer for isoill's interoperability tests and benchmarks.

YAZ (Index Data's C toolkit) is the most widely deployed ISO 10161 implementation, so it is
the codec isoill has to agree with: what isoill encodes must decode in YAZ and what YAZ
encodes must decode in isoill. Rather than binding libyaz into Python, the small C program
``yazill.c`` shipped beside this module is compiled against the installed libyaz on demand
and driven through files; a crash or leak in YAZ then stays in a child process.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

__all__ = ["YazResult", "build_helper", "yaz_available", "yaz_bench", "yaz_roundtrip"]

_SOURCE = "yazill.c"
#: Seconds a round trip may take before the helper is assumed to be stuck inside YAZ.
_ROUNDTRIP_TIMEOUT = 120.0


def _compiler() -> list[str]:
    """The C compiler command: ``$CC`` when set (the usual convention), else ``cc``."""
    return shlex.split(os.environ.get("CC", "")) or ["cc"]


def _yaz_flags(kind: str) -> list[str] | None:
    """YAZ's ``--cflags`` or ``--libs``, or None when no YAZ development files are found.

    ``yaz-config`` is YAZ's own tool, but some distributions (Debian's libyaz-dev among
    them) ship only the pkg-config file, so that is the fallback.
    """
    if shutil.which("yaz-config"):
        command = ["yaz-config", kind]
    elif shutil.which("pkg-config"):
        command = ["pkg-config", kind, "yaz"]
    else:
        return None
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    except OSError:
        return None
    return shlex.split(done.stdout) if done.returncode == 0 else None


def yaz_available() -> bool:
    """Whether the helper can be built here: a C compiler, YAZ's flags and ``<yaz/ill.h>``.

    The header is checked by preprocessing an include of it with YAZ's cflags, which is
    exactly what compiling the helper needs and catches a runtime-only libyaz install.
    """
    compiler = _compiler()
    cflags = _yaz_flags("--cflags")
    if shutil.which(compiler[0]) is None or cflags is None:
        return False
    try:
        done = subprocess.run(
            [*compiler, "-E", "-x", "c", "-", "-o", os.devnull, *cflags],
            input="#include <yaz/ill.h>\n",
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except OSError:
        return False
    return done.returncode == 0


def build_helper(workdir: Path) -> Path:
    """Compile ``yazill.c`` against libyaz into ``workdir`` and return the executable.

    The binary is named after a hash of the source, compiler and YAZ flags, so a test
    session (or several processes sharing ``workdir``) compiles once per change; it is
    written under a temporary name and renamed so nobody runs a half-written file.
    Raises RuntimeError, with the compiler's output, when YAZ is missing or compiling fails.
    """
    compiler = _compiler()
    cflags, libs = _yaz_flags("--cflags"), _yaz_flags("--libs")
    if cflags is None or libs is None:
        raise RuntimeError(
            "YAZ development files not found: neither `yaz-config` nor `pkg-config yaz` "
            "works (install YAZ's development package, e.g. libyaz-dev)"
        )
    source = resources.files(__package__ or "isoill.testing").joinpath(_SOURCE)
    text = source.read_bytes()
    key = hashlib.sha256(text)
    key.update("\0".join([*compiler, *cflags, *libs]).encode())
    workdir.mkdir(parents=True, exist_ok=True)
    binary = workdir / f"yazill-{key.hexdigest()[:16]}"
    if binary.exists():
        return binary
    partial = binary.with_name(f"{binary.name}.{os.getpid()}.tmp")
    with resources.as_file(source) as path:
        command = [*compiler, "-O2", "-Wall", "-Wextra", "-o", str(partial), str(path)]
        try:
            done = subprocess.run(
                [*command, *cflags, *libs], capture_output=True, text=True, check=False
            )
        except OSError as exc:
            raise RuntimeError(f"cannot run the C compiler {compiler[0]!r}: {exc}") from exc
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise RuntimeError(
            f"compiling {_SOURCE} against libyaz failed ({shlex.join(done.args)}):\n"
            f"{done.stdout}{done.stderr}"
        )
    os.replace(partial, binary)
    return binary


@dataclass(frozen=True)
class YazResult:
    """What YAZ made of some bytes.

    ``trees`` holds YAZ's ODR_PRINT rendering of each APDU it decoded (in order, also when a
    later one failed), ``reencoded`` YAZ's own BER for those APDUs, concatenated, and
    ``error`` the helper's ``ERROR <index> <offset> <message>`` line (or why it died) when
    ``ok`` is false.
    """

    ok: bool
    trees: list[str]
    reencoded: bytes
    error: str | None


def yaz_roundtrip(helper: Path, data: bytes) -> YazResult:
    """Decode every concatenated APDU in ``data`` with YAZ, print it and re-encode it.

    Refusals are results, not exceptions: whether YAZ accepts some bytes is what the
    interoperability tests want to know.
    """
    with tempfile.TemporaryDirectory(prefix="yazill-") as work:
        source, target = Path(work) / "in.ber", Path(work) / "out.ber"
        source.write_bytes(data)
        done = subprocess.run(
            [str(helper), "roundtrip", str(source), str(target)],
            capture_output=True,
            text=True,
            errors="replace",
            timeout=_ROUNDTRIP_TIMEOUT,
            check=False,
        )
        reencoded = target.read_bytes() if target.exists() else b""
    trees: list[str] = []
    error: str | None = None
    current: list[str] | None = None
    for line in done.stdout.splitlines(keepends=True):
        if current is None:
            if line.startswith("APDU "):
                current = []
            elif line.startswith("ERROR "):
                error = line.rstrip("\n")
        elif line.rstrip("\n") == f"END {len(trees)}":
            trees.append("".join(current))
            current = None
        else:
            current.append(line)
    if error is None and (done.returncode != 0 or current is not None):
        how = f"signal {-done.returncode}" if done.returncode < 0 else f"status {done.returncode}"
        error = f"yazill roundtrip ended with {how}: {done.stderr.strip()}"
    return YazResult(ok=error is None, trees=trees, reencoded=reencoded, error=error)


def yaz_bench(helper: Path, data: bytes, n: int) -> tuple[float, float]:
    """YAZ's speed over ``data``: (APDUs decoded per second, APDUs encoded per second).

    Each of the ``n`` rounds decodes (then, separately, encodes) every APDU in ``data``;
    the timing is done in C so that process start-up and file I/O are not measured.
    Raises RuntimeError when YAZ cannot decode ``data``.
    """
    if n <= 0:
        raise ValueError(f"n must be positive, not {n}")
    with tempfile.TemporaryDirectory(prefix="yazill-") as work:
        source = Path(work) / "in.ber"
        source.write_bytes(data)
        done = subprocess.run(
            [str(helper), "bench", str(source), str(n)],
            capture_output=True,
            text=True,
            errors="replace",
            check=False,
        )
    rates = {}
    for line in done.stdout.splitlines():
        name, _, value = line.partition(" ")
        rates[name] = value
    if done.returncode != 0 or not {"decode", "encode"} <= rates.keys():
        raise RuntimeError(
            f"yazill bench failed (status {done.returncode}):\n{done.stdout}{done.stderr}"
        )
    return float(rates["decode"]), float(rates["encode"])
