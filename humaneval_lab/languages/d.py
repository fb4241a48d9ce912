"""D: MultiPL-E and native problems, compiled with GCC's D compiler (``gdc``, D 2.100).

MultiPL-E runs ``rdmd -unittest``: the tests are a ``unittest`` block and an empty ``main``. Here the
block becomes a plain function ``_hel_tests`` in the same module and our own trusted code runs it:

- the token is read by a ``pragma(crt_constructor)`` function, which the C runtime calls before
  druntime starts and before any module constructor (``static this``) of the candidate runs; it is
  kept in a function-local static of ``_hel_gate``, which no other code can name, and fd 0 then
  points at /dev/null. ``_hel_gate`` prints it only after ``_hel_tests`` returned; calling it again
  can only run the tests again;
- the tests' ``assert(x)`` becomes ``_hel_check(__LINE__, x)``: a failed check writes the line to
  stderr and ``_exit``s with status 1. D's own ``assert`` is not used because druntime lets any
  code install an ``assertHandler`` that turns failed assertions into no-ops;
- a candidate may not use ``mixin`` (code built from strings), ``extern``/``pragma`` (C symbols and
  mangled names that would replace ``_exit`` or ``write`` for the whole program), ``asm``,
  ``__traits``, GDC's attributes (``gdc.attributes``: constructors, sections), nor name ``_hel_*``:
  such a candidate is refused (a compile error with the reason). No honest completion needs them.
"""

from __future__ import annotations

import re

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import refuse, sub_exact, unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

_TRAILER = r"""
import core.sys.posix.unistd : _hel_write = write, _hel_read = read, _hel_exit = _exit, _hel_dup2 = dup2;
import core.sys.posix.fcntl : _hel_open = open, _HEL_O_RDONLY = O_RDONLY;

void _hel_say(int fd, const(char)[] s) nothrow @nogc @trusted {
    while (s.length) {
        auto r = _hel_write(fd, s.ptr, s.length);
        if (r <= 0) _hel_exit(3);
        s = s[r .. $];
    }
}

void _hel_check(int line, bool ok) nothrow @nogc @trusted {
    if (ok) return;
    char[16] digits;
    size_t i = digits.length;
    uint v = line > 0 ? line : 0;
    do { digits[--i] = cast(char)('0' + v % 10); v /= 10; } while (v);
    _hel_say(2, "hel: assertion failed at main.d line ");
    _hel_say(2, digits[i .. $]);
    _hel_say(2, "\n");
    _hel_exit(1);
}

// read: keep the token (first call only); otherwise: run the tests, then print it.
void _hel_gate(bool read) @trusted {
    static __gshared char[64] token;
    static __gshared int length = -1;
    if (read) {
        if (length >= 0) return;
        int n = 0;
        while (n < token.length) {
            auto r = _hel_read(0, token.ptr + n, token.length - n);
            if (r <= 0) break;
            n += cast(int) r;
            if (token[n - 1] == '\n') break;
        }
        while (n > 0 && (token[n - 1] == '\n' || token[n - 1] == '\r')) n--;
        length = n;
        auto devnull = _hel_open("/dev/null", _HEL_O_RDONLY);
        if (devnull < 0 || _hel_dup2(devnull, 0) < 0) _hel_exit(3);
        return;
    }
    if (length <= 0) _hel_exit(3);
    _hel_tests();
    import core.stdc.stdio : fflush;
    fflush(null);
    _hel_say(1, "\n");
    _hel_say(1, token[0 .. length]);
    _hel_say(1, "\n");
    _hel_exit(0);
}

pragma(crt_constructor) extern (C) void _hel_read_token() { _hel_gate(true); }

void main() { _hel_gate(false); }
"""

_FORBIDDEN = re.compile(r"\b(mixin|extern|pragma|asm|__traits|attribute|gdc|_hel_\w*)\b")
_ASSERT = re.compile(r"(?<![\w.])assert\s*\(")


def _checks(tests: str) -> str:
    """Each ``assert(x)`` of the tests as ``_hel_check(__LINE__, x)``."""
    return _ASSERT.sub("_hel_check(__LINE__, ", tests)


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "d")
    tests = sub_exact(r"^unittest\s*$", "void _hel_tests()", problem.tests, "the unittest block")
    tests = sub_exact(r"^void\s+main\s*\(\s*\)\s*\{\s*\}\s*$", "", tests, "void main(){}")
    if "unittest" in tests:
        raise UserInputError(f"d: more than one unittest block in {problem.task_id}")
    found = _FORBIDDEN.search(source)
    code = source + "\n" + _checks(tests) + _TRAILER
    return Program(
        language="d",
        files={"main.d": code},
        compile=(refuse(f"{found.group(1)} is not allowed in a candidate"),)
        if found
        else (("gdc", "-O0", "-w", "-o", "main", "main.d"),),
        run=("./main",),
        failure_markers=("hel: assertion failed",),
    )


SPEC = LanguageSpec(
    name="d",
    build=build,
    stop_sequences=("\n\n", "\nvoid", "\nbool", "\nint"),
    image_tools=("gdc",),
)
