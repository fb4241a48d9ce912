"""Build a C++ sample from two translation units, so no candidate macro or symbol reaches the tests.

Runs in the sandbox as the compile step of a C++ program (``python3 -I hel_cxx.py ...``), before any
candidate code ran; standard library only. The spec (cpp.py) writes two files:

- ``cand.cpp``: the candidate's code (prompt + completion), nothing else;
- ``trusted.cpp``: the prompt with the target's body turned into a declaration, the tests (their
  ``main`` renamed) and our ``main``, which reads the token before any constructor ran.

Steps: compile both to objects (one g++); refuse a candidate object that carries code that runs
before ``main`` ahead of ours (an IFUNC resolver runs during relocation, a ``.preinit_array`` or
any unusual section); make every global symbol the candidate defines local, except the entry
point and weak instantiations the trusted object holds too (the linker keeps the trusted object's
copy, it comes first); link, trusted object first. So the tests and our ``main`` call only the
candidate's entry point, their own code and the libraries: never a candidate ``__assert_fail``,
``read``, ``main`` or ``_hel_test_main``, and no candidate ``#define`` ever sees the tests' text.

Usage: ``hel_cxx.py ENTRY PCH -- G++ FLAGS... -- LINK FLAGS...`` (PCH: a precompiled header to
``-include`` when its ``.gch`` dir exists, or ""); exits 1 with a reason on stderr when the
candidate is refused (a compile error verdict).
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys

# Sections g++ makes for ordinary C++ (at -O0 -g0), by prefix. Anything else in the candidate's
# object (a .preinit_array, an .init fragment, a .interp, a named section) is refused.
_SECTIONS = (
    ".text", ".data", ".bss", ".rodata", ".tbss", ".tdata", ".eh_frame", ".gcc_except_table",
    ".init_array", ".fini_array", ".comment", ".note.GNU-stack", ".note.gnu.property", ".group",
    ".rela.", ".symtab", ".strtab", ".shstrtab", ".data.rel.ro", ".debug", ".gnu.linkonce",
)  # fmt: skip


def _sections(path: str) -> list[str]:
    """Section names of an ELF64 little-endian relocatable object."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise ValueError("not an ELF64 little-endian object")
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    headers = [struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize) for i in range(shnum)]
    strtab_off = headers[shstrndx][4]
    names = []
    for h in headers[1:]:
        start = strtab_off + h[0]
        names.append(data[start : data.index(b"\0", start)].decode("ascii", "replace"))
    return names


def _symbols(path: str) -> dict[str, str]:
    """Symbol name -> nm type letter (the last seen), for every symbol of an object."""
    out = subprocess.run(["nm", "-P", path], capture_output=True, text=True, check=True).stdout
    syms: dict[str, str] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            syms[parts[0]] = parts[1]
    return syms


def is_entry(name: str, entry: str) -> bool:
    """Whether a symbol is the entry point: C linkage, or a C++ function of the global namespace."""
    return name == entry or name.startswith(f"_Z{len(entry)}{entry}")


def plan(cand: dict[str, str], trusted: dict[str, str], entry: str) -> tuple[list[str], str]:
    """(symbols of the candidate object to make local, why it is refused or "")."""
    ifuncs = sorted(n for n, t in cand.items() if t == "i")
    if ifuncs:
        return [], f"an indirect function (runs before main) is not allowed: {ifuncs[0]}"
    trusted_defined = {n for n, t in trusted.items() if t not in "Uwv"}
    local = []
    for name, t in cand.items():
        if t == "U" or not (t.isupper() or t == "u"):
            continue  # undefined, or local already
        if is_entry(name, entry):
            continue
        if t in "WVu" and name in trusted_defined:
            continue  # a weak instantiation both hold: the linker keeps the trusted object's
        local.append(name)
    return sorted(local), ""


def main(argv: list[str]) -> int:
    entry, pch = argv[1], argv[2]
    rest = argv[4:]
    cut = rest.index("--")
    cxx, link = rest[:cut], rest[cut + 1 :]
    if pch and os.path.isdir(pch + ".gch"):
        # It holds exactly the headers this layout includes anyway: it changes the speed, not the
        # meaning (without it, or with a stale one, g++ reads the text).
        cxx += ["-include", pch]
    done = subprocess.run([*cxx, "-c", "trusted.cpp", "cand.cpp"])
    if done.returncode != 0:
        return 1
    bad = [s for s in _sections("cand.o") if s and not s.startswith(_SECTIONS)]
    if bad:
        print(f"hel: section {bad[0]!r} is not allowed in a candidate (code before main)", file=sys.stderr)
        return 1
    local, why = plan(_symbols("cand.o"), _symbols("trusted.o"), entry)
    if why:
        print(f"hel: {why}", file=sys.stderr)
        return 1
    if local:
        subprocess.run(["objcopy", *(f"--localize-symbol={s}" for s in local), "cand.o"], check=True)
    # Trusted object first: its .preinit_array entry runs first, its weak copies are the ones kept.
    # -s: no symbol table in the binary, so the token's buffer is not found by name.
    # gold: a quarter of ld.bfd's CPU time on these small programs (binutils ships both); it
    # resolves symbols by the same rules (first definition of a weak symbol kept, archives in order).
    return subprocess.run(
        [cxx[0], "-fuse-ld=gold", "-o", "main", "trusted.o", "cand.o", *link, "-s"]
    ).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
