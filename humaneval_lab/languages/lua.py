"""Lua 5.4: MultiPL-E (luaunit) and native problems (top-level ``assert``s), two processes.

The trusted judge (``harness/hel_judge.lua``, run as the judge uid in its own dir) runs the tests;
every global they read that nothing defines (the entry point, and any other name of the tests that
the candidate may define) is a stub that asks the candidate's process. MultiPL-E's last line,
``os.exit(lu.LuaUnit.run())``, is removed: the judge runs the luaunit suite itself and reads its
result. The candidate's process (``harness/hel_candidate.lua``, the sample uid) runs prompt +
completion only (``main.lua``, which ends by returning the functions the tests may call, locals
included, as the tests saw them in one chunk) and answers calls. Values cross in our own strict
JSON subset (``harness/hel_codec.lua``): nil, booleans, integers and floats kept apart (NaN,
infinities, -0.0 included), byte strings, and tables as key/value pairs (nil holes and mixed
tables survive); multiple results too. The verdict is the judge's exit code (``Program.judge``).
"""

from __future__ import annotations

import re

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import unsupported
from humaneval_lab.languages._twoproc import harness, stub_names
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_NAME = re.compile(r"(?<![.:\w])(" + _IDENT + r")")
_KEYWORDS = frozenset(
    "and break do else elseif end false for function goto if in local nil not or repeat return then"
    " true until while".split()
)
# Globals of the standard library (found before any stub) and names the judge must not export.
_STANDARD = frozenset(
    "assert collectgarbage dofile error getmetatable ipairs load loadfile next pairs pcall print"
    " rawequal rawget rawlen rawset require select setmetatable tonumber tostring type xpcall warn"
    " coroutine debug io math os package string table utf8 arg _G _ENV _VERSION".split()
)
_LUAUNIT_EXIT = re.compile(r"^\s*os\.exit\(\s*lu\.LuaUnit\.run\(\s*\)\s*\)\s*$", re.MULTILINE)


def _names(problem: Problem) -> list[str]:
    found = {n for n in _NAME.findall(problem.tests) if n not in _KEYWORDS and n not in _STANDARD}
    return [n for n in stub_names(problem, found, _IDENT) if n not in _KEYWORDS and n not in _STANDARD]


def build(problem: Problem, source: str) -> Program:
    if problem.source_format not in ("multipl-e", "native"):
        raise unsupported(problem, "lua")
    tests, n = _LUAUNIT_EXIT.subn("", problem.tests)
    if n != 1 and problem.source_format == "multipl-e":
        # Never judge MultiPL-E tests whose suite nothing would start: they must not pass unrun.
        raise UserInputError(f"{problem.task_id}: cannot find `os.exit(lu.LuaUnit.run())` in the tests")
    mode = "luaunit" if n else "script"
    names = _names(problem)
    # The chunk ends by returning what the tests may call: its locals are gone once it returns.
    exports = "return {" + ", ".join(f"{n} = {n}" for n in names) + "}\n"
    quoted = ", ".join(f'"{n}"' for n in names)
    config = f'return {{mode = "{mode}", names = {{{quoted}}}}}\n'
    codec = harness("hel_codec.lua")
    return Program(
        language="lua",
        files={
            "main.lua": source + "\n" + exports,
            "hel_candidate.lua": harness("hel_candidate.lua"),
            "hel_codec.lua": codec,
        },
        run=("lua5.4", "hel_candidate.lua"),
        judge=("lua5.4", "hel_judge.lua"),
        judge_files={
            "hel_judge.lua": harness("hel_judge.lua"),
            "hel_codec.lua": codec,
            "hel_config.lua": config,
            "tests.lua": tests,
        },
    )


SPEC = LanguageSpec(
    name="lua",
    build=build,
    stop_sequences=("\nlocal", "\nfunction", "\n--", "\n\n\n", "\n```"),
    image_tools=("lua5.4",),
)
