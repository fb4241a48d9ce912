"""C++: HumanEval-X (g++ -std=c++11), MultiPL-E and native problems (g++ -std=c++17).

The tests are a ``main`` full of ``assert``. We rename that ``main`` with the preprocessor (only the
tests' text follows the ``#define``) and append our own ``main``, which reads the token into a local
before calling the tests and prints it after they returned. A failed ``assert`` aborts; our ``main``
turns SIGABRT into exit 134 so the verdict is read from stderr (glibc's "Assertion `...' failed")
rather than reported as a crash.
"""

from __future__ import annotations

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import multipl_e_program, native_program, unsupported
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
#include <cstring>
#include <unistd.h>
static void _hel_on_abort(int) { _exit(134); }
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
    return Program(
        language="cpp",
        files={"main.cpp": body + _WRAPPER},
        # -w: warnings would bury the error that matters in the compile tail; the renamed test main
        # has no return statement, which is only a warning.
        compile=(("g++", std, "-O0", "-w", "-o", "main", "main.cpp", *libs),),
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
