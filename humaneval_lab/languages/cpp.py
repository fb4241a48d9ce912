"""C++: HumanEval-X (g++ -std=c++11), MultiPL-E and native problems (g++ -std=c++17).

The tests are a ``main`` full of ``assert``. We rename that ``main`` with the preprocessor (only the
tests' text follows the ``#define``) and append our own ``main``, which reads the token into a local
before calling the tests and prints it after they returned. A failed ``assert`` aborts; our ``main``
turns SIGABRT into exit 134 so the verdict is read from stderr (glibc's "Assertion `...' failed")
rather than reported as a crash.
"""

from __future__ import annotations

import shlex

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import PREWARM, unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

# HumanEval-X's harness adds whichever of these the prompt lacks.
_HUMANEVAL_X_HEADERS = (
    "stdlib.h", "algorithm", "math.h", "stdio.h", "vector", "string", "climits", "cstring", "iostream",
)  # fmt: skip

_RENAME = "\n#define main _hel_test_main\n"
_WRAPPER = r"""
#undef main
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
static void _hel_on_abort(int) { std::_Exit(134); }
int main() {
    char _hel_token[128] = {0};
    if (!std::fgets(_hel_token, sizeof _hel_token, stdin)) return 3;
    _hel_token[std::strcspn(_hel_token, "\r\n")] = 0;
    std::signal(SIGABRT, _hel_on_abort);
    _hel_test_main();
    std::fflush(stdout);
    std::printf("\n%s\n", _hel_token);
    std::fflush(stdout);
    return 0;
}
"""


# Precompiled headers the sandbox image builds (sandbox/setup-rootfs.sh) as <header>.gch/ dirs:
# HumanEval-X's fixed header list for -std=c++11, <bits/stdc++.h> (MultiPL-E's prompts) for c++17.
_PCH = {"humaneval-x": f"{PREWARM}/cpp/humaneval-x.h", "multipl-e": f"{PREWARM}/cpp/multipl-e.h"}


def _quote(argv: tuple[str, ...]) -> str:
    return " ".join(shlex.quote(a) for a in argv[1:])


def _missing_headers(prompt: str) -> str:
    compact = prompt.replace(" ", "")
    return "".join(f"#include<{h}>\n" for h in _HUMANEVAL_X_HEADERS if f"#include<{h}>" not in compact)


def build(problem: Problem, source: str) -> Program:
    if problem.source_format == "humaneval-x":
        body = _missing_headers(problem.prompt) + source + _RENAME + problem.tests
        std = "-std=c++11"
    elif problem.source_format == "multipl-e":
        body = source + _RENAME + "\n" + problem.tests
        std = "-std=c++17"
    elif problem.source_format == "native":
        body = source + _RENAME + "\n" + problem.tests
        std = "-std=c++17"
    else:
        raise unsupported(problem, "cpp")
    libs = ("-lcrypto",) if "openssl/" in body else ()
    pch = _PCH.get(problem.source_format, "")
    compile_step = ("g++", std, "-O0", "-w", "-o", "main", "main.cpp", *libs)
    if pch:
        # The precompiled header holds exactly the headers this layout includes anyway, so it
        # changes the speed, not the meaning; without it (or with a stale one) g++ reads the text.
        compile_step = (
            "sh",
            "-c",
            f'p={pch}; [ -d "$p.gch" ] && set -- -include "$p"; exec "$0" "$@" {_quote(compile_step)}',
            "g++",
        )
    return Program(
        language="cpp",
        files={"main.cpp": body + _WRAPPER},
        # -w: warnings would bury the error that matters in the compile tail; the renamed test main
        # has no return statement, which is only a warning.
        compile=(compile_step,),
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
    image_tools=("g++",),
)
