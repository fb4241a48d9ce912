"""C++: HumanEval-X (g++ -std=c++11), MultiPL-E and native problems (g++ -std=c++17).

The tests are a ``main`` full of ``assert``. They never share a translation unit with the candidate:
``cand.cpp`` holds the candidate's code, ``trusted.cpp`` the prompt's declarations, the tests (their
``main`` renamed by a ``#define`` that only the tests' text follows) and our ``main``, which calls
them and prints the token after they returned; ``_cxx_link.py`` links the two so that the trusted
code reaches no candidate symbol but the entry point. The token is read before any constructor.
A failed ``assert`` aborts; our ``main`` turns SIGABRT into exit 134 so the verdict is read from
stderr (glibc's "Assertion `...' failed") rather than reported as a crash.
"""

from __future__ import annotations

import re
from pathlib import Path

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import PREWARM, unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

# HumanEval-X's harness adds whichever of these the prompt lacks.
_HUMANEVAL_X_HEADERS = (
    "stdlib.h", "algorithm", "math.h", "stdio.h", "vector", "string", "climits", "cstring", "iostream",
)  # fmt: skip

_RENAME = "\n#define main _hel_test_main\n"
# Our main, in the trusted unit only. The token is read by a .preinit_array function: it runs
# before every constructor of the program (the candidate's global objects included), and the
# candidate object may not carry a .preinit_array or an indirect function of its own (_cxx_link.py).
# It replaces fd 0 with /dev/null, so stdin, /proc/self/fd/0 and a constructor find nothing. The
# buffer is static in this unit, and the binary has no symbol table, so no candidate code can
# name it; reading its own memory stays possible (docs/languages.md).
_WRAPPER = r"""
#undef main
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <unistd.h>
static char _hel_token[128];
static int _hel_token_len = -1;
static void _hel_read_token(int, char **, char **) {
    int n = 0;
    while (n < (int)sizeof _hel_token) {
        ssize_t r = read(0, _hel_token + n, sizeof _hel_token - n);
        if (r <= 0) break;
        n += (int)r;
        if (_hel_token[n - 1] == '\n') break;
    }
    while (n > 0 && (_hel_token[n - 1] == '\n' || _hel_token[n - 1] == '\r')) n--;
    _hel_token_len = n;
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0) _exit(3);
    if (null != 0) close(null);
}
__attribute__((section(".preinit_array"), used))
static void (*_hel_preinit)(int, char **, char **) = _hel_read_token;
static void _hel_on_abort(int) { _exit(134); }
int main() {
    if (_hel_token_len <= 0) return 3;
    std::signal(SIGABRT, _hel_on_abort);
    _hel_test_main();
    std::fflush(stdout);
    if (write(1, "\n", 1) != 1 || write(1, _hel_token, _hel_token_len) != _hel_token_len
        || write(1, "\n", 1) != 1) _exit(3);
    _exit(0);  // no atexit handler or destructor of the candidate runs after the verdict
}
"""


# Precompiled headers the sandbox image builds (sandbox/setup-rootfs.sh) as <header>.gch/ dirs:
# HumanEval-X's fixed header list for -std=c++11, <bits/stdc++.h> (MultiPL-E's prompts) for c++17.
_LINKER = (Path(__file__).parent / "_cxx_link.py").read_text()
_PCH = {"humaneval-x": f"{PREWARM}/cpp/humaneval-x.h", "multipl-e": f"{PREWARM}/cpp/multipl-e.h"}


def _missing_headers(prompt: str) -> str:
    compact = prompt.replace(" ", "")
    return "".join(f"#include<{h}>\n" for h in _HUMANEVAL_X_HEADERS if f"#include<{h}>" not in compact)


def _code_only(text: str) -> str:
    """``text`` with comments, string and character literals blanked (same length, newlines kept)."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        two = text[i : i + 2]
        if two in ("//", "/*"):
            end = text.find("\n" if two == "//" else "*/", i + 2)
            end = n if end < 0 else end + (0 if two == "//" else 2)
        elif text[i] in "\"'":
            end = i + 1
            while end < n and text[end] != text[i] and text[end] != "\n":
                end += 2 if text[end] == "\\" else 1
            end = min(n, end + 1)
        else:
            i += 1
            continue
        for j in range(i, end):
            if out[j] != "\n":
                out[j] = " "
        i = end
    return "".join(out)


def declaration(prompt: str) -> tuple[str, str]:
    """(the prompt with its last, open function body turned into ``;``, that function's name).

    The prompt ends inside the body of the function to complete; what comes before that body's
    ``{`` (includes, types, helper functions, the signature) is what the tests may use.
    """
    code = _code_only(prompt)
    depth, opened = 0, -1
    for i, c in enumerate(code):
        if c == "{":
            if depth == 0:
                opened = i
            depth += 1
        elif c == "}":
            depth -= 1
    if depth != 1 or opened < 0:
        raise UserInputError("cpp: the prompt does not end inside a function body")
    head = code[:opened]
    tail = head[max(head.rfind(";"), head.rfind("}"), head.rfind("\n#")) + 1 :]
    name = re.search(r"(\w+)\s*\(", tail)
    if name is None:
        raise UserInputError("cpp: no function signature at the end of the prompt")
    return prompt[:opened].rstrip() + "\n;\n", name.group(1)  # own line: a // comment may end it


def build(problem: Problem, source: str) -> Program:
    """Two translation units: the candidate's code alone, and a trusted one with the prompt's
    declarations, the tests and our ``main`` (see _cxx_link.py for how they are linked)."""
    headers = ""
    if problem.source_format == "humaneval-x":
        headers = _missing_headers(problem.prompt)
        cand, tests, std = source, problem.tests, "-std=c++11"
    elif problem.source_format in ("multipl-e", "native"):
        cand, tests, std = source, problem.tests, "-std=c++17"
        if tests.lstrip().startswith("}"):
            # MultiPL-E's tests start by closing the candidate's function: that brace is its.
            cut = tests.index("}") + 1
            cand, tests = source + "\n" + tests[:cut] + "\n", tests[cut:]
    else:
        raise unsupported(problem, "cpp")
    decl, entry = declaration(problem.prompt)
    trusted = headers + decl + _RENAME + tests + _WRAPPER
    libs = ("-lcrypto",) if "openssl/" in problem.prompt + source else ()
    pch = _PCH.get(problem.source_format, "")
    # -w: warnings would bury the error that matters in the compile tail; the renamed test main
    # has no return statement, which is only a warning.
    cxx = ("g++", std, "-O0", "-w")
    return Program(
        language="cpp",
        files={"cand.cpp": headers + cand, "trusted.cpp": trusted, "hel_cxx.py": _LINKER},
        compile=(("python3", "-I", "hel_cxx.py", entry, pch, "--", *cxx, "--", *libs),),
        run=("./main",),
        failure_markers=("Assertion `",),
    )


SPEC = LanguageSpec(
    name="cpp",
    aliases=("c++", "cxx"),
    build=build,
    # Not "\n}": HumanEval-X completions must close the function themselves. MultiPL-E problems
    # carry their own stop tokens.
    stop_sequences=("\nint main", "\n#include", "\n#define", "\n```"),
    image_tools=("g++", "nm", "objcopy"),
)
