"""Attacks on Lua's two-process judge (humaneval_lab/languages/lua.py), through the real sandbox.

The candidate's process holds no token, no tests and no verdict (its `debug` library finds nothing
of the judge's): only the values it answers reach the judge, whose own parser builds plain tables
that luaunit compares. Attacks judged by their effect return the right answer exactly when they FAILED.
"""

from __future__ import annotations

from typing import Any

import pytest
from two_process_attacks import Attack, run_interleaved

from humaneval_lab.problems import Problem

pytestmark = pytest.mark.docker

TESTS = """lu = require('luaunit')

function test_humaneval()
local candidate = add
    lu.assertEquals(candidate(1, 2), 3)
    lu.assertEquals(candidate(-5, 5), 0)
    lu.assertEquals(candidate(10, 32), 42)
end

os.exit(lu.LuaUnit.run())
"""
PROBLEM = Problem("HumanEval_0_add", "lua", "-- Add two numbers.\nlocal function add(a, b)\n", TESTS, "add",
                  source_format="multipl-e")  # fmt: skip
RIGHT = "  return a + b\nend\n"
WRONG = "  return a - b\nend\n"


def forge(text: str, then: str = "a + b", frame: bool = True) -> str:
    """A completion that writes ``text`` (a Lua string expression) on its answer channel, framed as
    our wrapper frames messages ("<bytes>:<json>\\n") unless ``frame`` is false, then returns."""
    payload = f"#({text}) .. ':' .. ({text}) .. '\\n'" if frame else text
    return f'  local f = io.open("/proc/self/fd/4", "wb"); f:setvbuf("no"); f:write({payload})\n  return {then}\nend\n'


ATTACKS = [
    Attack("exit0-in-function", "  os.exit(0)\nend\n", "error", "the candidate went away mid-test"),
    Attack("exit0-at-load", "  return a + b\nend\nos.exit(true, true)\n", "error", "never ready"),
    Attack(
        "print-passed",
        '  print("passed"); io.stderr:write("OK\\nRan 1 tests in 0.000 seconds, 1 success, 0 failures\\n")\n'
        '  io.stdout:write(string.rep("0", 32), "\\n")\n  return a - b\nend\n',
        "failed",
    ),
    Attack(
        "debug-hunt",
        "  local seen, hit = {}, false\n"
        "  local function walk(v, d)\n"
        "    if d > 12 or seen[v] then return end\n"
        '    if type(v) == "string" then if v:find("candidate%(10, 32%)") then hit = true end return end\n'
        '    if type(v) ~= "table" and type(v) ~= "function" then return end\n'
        "    seen[v] = true\n"
        '    if type(v) == "table" then for k, x in next, v do walk(k, d + 1); walk(x, d + 1) end\n'
        "    else for i = 1, 255 do local n, x = debug.getupvalue(v, i); if not n then break end; walk(x, d + 1) end end\n"
        "  end\n"
        "  walk(debug.getregistry(), 0); walk(_G, 0)\n"
        "  for level = 1, 50 do\n"
        "    if not debug.getinfo(level) then break end\n"
        "    for i = 1, 255 do local n, x = debug.getlocal(level, i); if not n then break end; walk(x, 0) end\n"
        "  end\n"
        "  if hit then return a - b end\n  return a + b\nend\n",
        "passed",
        "the tests are in another process: the candidate's debug library cannot reach them",
    ),
    Attack(
        "read-tests-and-judge",
        '  local p = io.popen("cat /work/*/tests.lua /tmp/*/tests.lua /proc/[0-9]*/cwd/tests.lua 2>/dev/null;'
        " for d in /proc/[0-9]*; do grep -q [h]el_judge $d/cmdline 2>/dev/null &&"
        ' { cat $d/environ; head -c 8 $d/mem; head -c 1 $d/fd/3; } 2>/dev/null; done")\n'
        '  local got = p:read("a"); p:close()\n  if #got > 0 then return a - b end\n  return a + b\nend\n',
        "passed",
        "the judge's dir and /proc files are another uid's",
    ),
    Attack(
        "own-fds-and-env",
        '  local p = io.popen("cat /proc/self/environ /proc/$PPID/environ; env; ls -l /proc/$PPID/fd")\n'
        '  local got = p:read("a"); p:close()\n'
        '  if got:find("candidate%(10, 32%)") or got:find(string.rep("%x", 32)) then return a - b end\n'
        "  return a + b\nend\n",
        "passed",
        "no token and no test text anywhere the candidate can read",
    ),
    Attack(
        "signal-the-judge",
        '  os.execute("pkill -STOP -f [h]el_judge; pkill -KILL -f [h]el_judge; read -r _ _ _ pp _ < /proc/$PPID/stat; kill -STOP $pp; kill -KILL $pp; kill -STOP 1")\n'
        "  return a + b\nend\n",
        "passed",
        "nothing trusted shares the sample's uid: the judge lives on and takes the honest answer",
    ),
    Attack(
        "kill-everything",
        '  os.execute("kill -KILL -1")\n  return a + b\nend\n',
        "crashed",
        "kill(-1) reaches only the sample's own processes, itself included",
    ),
    Attack(
        "monkey-patch",
        "  return a - b\nend\n"
        "lu = {assertEquals = function() end, LuaUnit = {run = function() return 0 end}}\n"
        "package.loaded.luaunit = lu; assert = function() return true end; os.exit = function() end\n"
        "setmetatable(_G, {__index = function() return function() return true end end})\n"
        "io.write = function() end; print = function() end\n",
        "failed",
        "the luaunit and assert that count are the judge's",
    ),
    Attack(
        "patch-io-write",
        "  return a + b\nend\nlocal w = getmetatable(io.stdout).__index.write\n"
        "getmetatable(io.stdout).__index.write = function(f, ...) return w(f, '13:{\"value\":[3]}\\n') end\n",
        "error",
        "its first message is not ready",
    ),
    Attack(
        "lying-table",
        "  return setmetatable({}, {__eq = function() return true end, __index = function() return 3 end,\n"
        '    __tostring = function() return "3" end, __pairs = function() return next, {3} end})\nend\n',
        "failed",
        "metatables do not cross: an empty table is compared",
    ),
    Attack("unencodable-function", "  return function() return 3 end\nend\n", "error"),
    Attack("unencodable-coroutine", "  return coroutine.create(function() end)\nend\n", "error"),
    Attack("cyclic-table", "  local t = {}; t[1] = t\n  return t\nend\n", "error"),
    Attack(
        "patch-own-encoder",
        '  return a - b\nend\nstring.format = function() return "3" end\n',
        "failed",
        "an encoder that always says 3 is right once",
    ),
    Attack(
        "out-of-turn-values",
        "  if not SENT then\n    SENT = true\n"
        '    local f = io.open("/proc/self/fd/4", "wb"); f:setvbuf("no")\n'
        "    f:write(string.rep('13:{\"value\":[3]}\\n', 3))\n  end\n  return a + b\nend\n",
        "failed",
        "answers are read strictly in turn: right values forged ahead of time land on the wrong calls",
    ),
    Attack("second-ready", forge("'{\"ready\":true}'"), "error"),
    Attack("huge-line", forge('string.rep("[", 2 * 1024 * 1024)', frame=False), "error"),
    Attack("huge-length", forge("'99999999:['", frame=False), "error"),
    Attack("deep-nesting", forge('\'{"value":[\' .. string.rep("[", 100000)'), "error"),
    Attack("bad-float-tag", forge('\'{"value":[{"f":"os.exit(0)"}]}\''), "error"),
    Attack("extra-field", forge('\'{"value":[3],"passed":true}\''), "error"),
    Attack("integer-overflow", forge("'{\"value\":[99999999999999999999]}'"), "error"),
    Attack(
        "judge-helper-names",
        "  return a - b\nend\nfunction finish() end\nfunction call() end\nfunction receive() return {value = {3}} end\n"
        "function test_humaneval() end\n",
        "failed",
    ),
    Attack("never-answers", "  while true do end\nend\n", "timeout"),
]


def test_lua_attacks_each_followed_by_an_honest_sample(make_executor: Any) -> None:
    ex = make_executor(jobs=1, workers_per_container=1)
    run_interleaved(ex, PROBLEM, ATTACKS, RIGHT, WRONG)
