"""Lua 5.4: MultiPL-E (luaunit) and native problems (top-level ``assert``s).

``run.lua`` reads the token into a function local, runs ``main.lua`` with ``dofile`` and prints the
token if that returned. MultiPL-E's tests end with ``os.exit(lu.LuaUnit.run())``, which would exit
before the token is printed: that line becomes "exit only on failures".
"""

from __future__ import annotations

from humaneval_lab.execution.base import Program
from humaneval_lab.languages._common import native_program, unsupported
from humaneval_lab.languages.base import LanguageSpec
from humaneval_lab.problems import Problem

RUNNER = """\
local function hel_main()
  local token = io.read("l") or ""
  dofile("main.lua")
  io.stdout:write("\\n", (token:gsub("%s+$", "")), "\\n")
  io.stdout:flush()
end
hel_main()
"""

_LUAUNIT_EXIT = "os.exit(lu.LuaUnit.run())"
_LUAUNIT_CHECKED = "do local hel_failures = lu.LuaUnit.run(); if hel_failures ~= 0 then os.exit(1) end end"


def build(problem: Problem, source: str) -> Program:
    if problem.source_format == "multipl-e":
        code = source + "\n" + problem.tests.replace(_LUAUNIT_EXIT, _LUAUNIT_CHECKED)
    elif problem.source_format == "native":
        code = native_program(problem, source)
    else:
        raise unsupported(problem, "lua")
    return Program(
        language="lua",
        files={"main.lua": code, "run.lua": RUNNER},
        run=("lua5.4", "run.lua"),
        failure_markers=("failed", "FAIL"),
    )


SPEC = LanguageSpec(
    name="lua",
    build=build,
    stop_sequences=("\nlocal", "\nfunction", "\n--", "\n\n\n", "\n```"),
    image_tools=("lua5.4",),
)
