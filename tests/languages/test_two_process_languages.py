"""Ruby and Lua judged in two processes (trusted judge + candidate), through ``score`` and the sandbox.

Values must cross so that the tests' own comparisons mean what they mean in one process; every wrong
answer of the right type must fail; the reason names the failing call.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.problems import load_suite

from .test_run_languages import score

pytestmark = [pytest.mark.docker, pytest.mark.slow]

RUBY_VALUES_PROMPT = "def values(k)\n"
RUBY_VALUES = r"""  case k
  when 0 then [1, -2, 2**100, -(2**70)]
  when 1 then [1.5, 2.0, Float::NAN, Float::INFINITY, -Float::INFINITY, -0.0, 0.1]
  when 2 then ["", "é\n\"\\\u0000", :sym, "bin\xff".b]
  when 3 then {1 => "a", "1" => :b, [1, 2] => {nil => 2.5}}
  when 4 then nil
  when 5 then true
  when 6 then false
  when 7 then Rational(1, 3)
  when 8 then Class.new(Array).new([1, 2])
  else "#{k.class}:#{k.inspect}"
  end
end
"""
RUBY_VALUES_TESTS = r"""candidate = method(:values)
v = candidate.call(0)
raise "ints failed" unless v == [1, -2, 2**100, -(2**70)] && v.all? { |x| x.instance_of?(Integer) }
f = candidate.call(1)
raise "floats failed" unless f[0] == 1.5 && f[1].instance_of?(Float) && f[1] == 2 && f[2].nan?
raise "infinities failed" unless f[3] == Float::INFINITY && f[4] == -Float::INFINITY && 1.0 / f[5] < 0 && f[6] == 0.1
s = candidate.call(2)
raise "strings failed" unless s == ["", "é\n\"\\\u0000", :sym, "bin\xff".b] && s[2].instance_of?(Symbol)
raise "binary failed" unless s[3].encoding == Encoding::BINARY && s[1].encoding == Encoding::UTF_8
h = candidate.call(3)
raise "hash failed" unless h == {1 => "a", "1" => :b, [1, 2] => {nil => 2.5}} && h.keys[0].instance_of?(Integer)
raise "nil failed" unless candidate.call(4).nil? && candidate.call(5) == true && candidate.call(6) == false
raise "rational failed" unless candidate.call(7) == Rational(1, 3) && candidate.call(7) == 1r / 3
raise "subclass failed" unless candidate.call(8) == [1, 2] && candidate.call(8).instance_of?(Array)
raise "args failed" unless candidate.call([1, {"a" => nil}, :s, 2.0]) == %(Array:[1, {"a"=>nil}, :s, 2.0])
raise "int is not float failed" if candidate.call(0)[0].eql?(1.0)
"""

LUA_VALUES_PROMPT = "local function values(k)\n"
LUA_VALUES = r"""  if k == 0 then return 1, 2.0, -0.0, 0.1, math.maxinteger, math.mininteger end
  if k == 1 then return {1, nil, 3, x = "y", [2.5] = true, [true] = {}} end
  if k == 2 then return "bytes\0\255\n\"\\" end
  if k == 3 then return 0/0, math.huge, -math.huge end
  if k == 4 then return nil, nil end
  if k == 5 then return end
  if type(k) == "table" then return #k, k.a, math.type(k[1]), select("#", table.unpack(k)) end
end
"""
LUA_VALUES_TESTS = r"""local a, b, c, d, e, f = values(0)
assert(math.type(a) == "integer" and a == 1, "int failed")
assert(math.type(b) == "float" and b == 2.0, "float failed")
assert(1 / c == -math.huge, "negative zero failed")
assert(d == 0.1 and e == math.maxinteger and f == math.mininteger, "exact failed")
local t = values(1)
assert(t[1] == 1 and t[2] == nil and t[3] == 3 and t.x == "y", "table failed")
assert(t[2.5] == true and type(t[true]) == "table" and getmetatable(t) == nil, "keys failed")
assert(values(2) == "bytes\0\255\n\"\\", "bytes failed")
local n, i, ni = values(3)
assert(n ~= n and i == math.huge and ni == -math.huge, "non-finite failed")
assert(select("#", values(4)) == 2, "two nils failed")
assert(select("#", values(5)) == 0, "no results failed")
local len, av, mt, cnt = values({1.5, 2, a = "z"})
assert(len == 2 and av == "z" and mt == "float" and cnt == 2, "arguments failed")
"""


def _native(tmp_path: Path, language: str, prompt: str, tests: str, entry: str) -> Path:
    path = tmp_path / f"{language}.jsonl"
    rec = {"task_id": f"{language}/values", "language": language, "prompt": prompt, "tests": tests,
           "entry_point": entry}  # fmt: skip
    path.write_text(json.dumps(rec) + "\n")
    return path


@pytest.mark.parametrize(
    ("language", "prompt", "body", "tests"),
    [
        ("ruby", RUBY_VALUES_PROMPT, RUBY_VALUES, RUBY_VALUES_TESTS),
        ("lua", LUA_VALUES_PROMPT, LUA_VALUES, LUA_VALUES_TESTS),
    ],
)
def test_values_cross_as_the_tests_compare_them(
    tmp_path: Path, language: str, prompt: str, body: str, tests: str
) -> None:
    problems = _native(tmp_path, language, prompt, tests, "values")
    samples = [{"task_id": f"{language}/values", "completion": body}]
    # The same program with one value off in each check must fail that check.
    broken = body.replace("2**100", "2**100 + 1").replace("math.maxinteger,", "math.maxinteger - 1,")
    samples.append({"task_id": f"{language}/values", "completion": broken, "kind": "wrong"})
    results = score(tmp_path, samples, "--problems", str(problems))
    assert results[0]["verdict"] == "passed", (results[0]["reason"], results[0]["stderr_tail"][-500:])
    assert results[1]["verdict"] == "failed", results[1]


# Wrap the canonical solution: same type, wrong value (numbers + 1, strings + "x", booleans negated,
# one more element in arrays/tables).
RUBY_WRONG = """
alias hel_right {entry}
def {entry}(*args)
  v = hel_right(*args)
  case v
  when Integer, Float then v + 1
  when String then v + "x"
  when true, false then !v
  when Array then v + [v.first || 0]
  when Hash then v.merge("hel" => 1)
  else 0
  end
end
"""
LUA_WRONG = """
local hel_right = {entry}
{entry} = function(...)
  local v = hel_right(...)
  if type(v) == "number" then return v + 1 end
  if type(v) == "string" then return v .. "x" end
  if type(v) == "boolean" then return not v end
  if type(v) == "table" then local c = {{}}; for k, x in pairs(v) do c[k] = x end; c[#c + 1] = v[1] or 0; return c end
  return 0
end
"""


@pytest.mark.parametrize("language", ["ruby", "lua"])
def test_every_polyglot_problem_passes_right_and_fails_a_wrong_value(tmp_path: Path, language: str) -> None:
    suite = [p for p in load_suite("polyglot") if p.language == language]
    wrong = RUBY_WRONG if language == "ruby" else LUA_WRONG
    samples: list[dict[str, Any]] = []
    for p in suite:
        samples.append({"task_id": p.task_id, "completion": p.canonical_solution})
        samples.append({"task_id": p.task_id, "completion": p.canonical_solution + wrong.format(entry=p.entry_point),
                        "kind": "wrong"})  # fmt: skip
    results = score(tmp_path, samples, "--suite", "polyglot", "--language", language)
    assert len(results) == 2 * len(suite) >= 30
    assert [(r["task_id"], r["reason"]) for r in results if "kind" not in r and not r["passed"]] == []
    bad = [
        (r["task_id"], r["verdict"], r["reason"]) for r in results if "kind" in r and r["verdict"] != "failed"
    ]
    assert bad == []
    for r in (r for r in results if "kind" in r):
        # The reason names the failing line of the tests and what the candidate returned.
        assert f"tests.{'rb' if language == 'ruby' else 'lua'}:" in r["reason"] and "got " in r["reason"], r


def test_multipl_e_failure_names_the_call_and_the_value(tmp_path: Path) -> None:
    from .conftest import MULTIPL_E

    name = "HumanEval_0_has_close_elements"
    for suffix, body, expect in (
        ("rb", "  true\nend\n", "assert_equal(false, candidate.call([1.0, 2.0, 3.9, 4.0, 5.0, 2.2], 0.05)) -- <false> expected but was <true>"),
        ("lua", "  return true\nend\n", "lu.assertEquals(candidate({1.0, 2.0, 3.9, 4.0, 5.0, 2.2}, 0.05), false) -- expected: false, actual: true"),
    ):  # fmt: skip
        (tmp_path / suffix).mkdir()
        results = score(tmp_path / suffix, [{"task_id": name, "completion": body}],
                        "--problems", str(MULTIPL_E / f"humaneval-{suffix}-reworded.jsonl"), "--task", name)  # fmt: skip
        assert results[0]["verdict"] == "failed"
        assert expect in results[0]["reason"], results[0]["reason"]


LOCAL_PATH_SCRIPT = """
import json, sys
sys.path.insert(0, "/runner")
from hel.judge import execute_job  # as the local executor uses it: no zygote, no uid switching
for job in json.loads(sys.stdin.read()):
    print(json.dumps([job["id"], execute_job(job, "/work")["status"]]))
"""


def test_the_local_executor_path_judges_the_same(tmp_path: Path) -> None:
    """``--sandbox local`` runs ``execute_job`` in-process (plain subprocesses, no uids). This host
    has no ruby/lua, so that path runs inside the sandbox image, as one unprivileged user."""
    from humaneval_lab.execution.base import Job, Limits
    from humaneval_lab.execution.docker import default_image, docker_client
    from humaneval_lab.languages import get_language

    jobs, expect = [], {}
    for language, wrong, leave in (
        ("ruby", "  7\nend\n", "  exit 0\nend\n"),
        ("lua", "  return 7\nend\n", "  os.exit(0)\nend\n"),
    ):
        p = next(q for q in load_suite("polyglot") if q.language == language)
        for name, completion, verdict in (("right", p.canonical_solution, "passed"), ("wrong", wrong, "failed"),
                                          ("exit", leave, "error")):  # fmt: skip
            job = Job(
                f"{language}-{name}", get_language(language).build(p, p.prompt + completion), Limits(20.0)
            )
            jobs.append(job.to_wire())
            expect[job.id] = verdict
    (tmp_path / "jobs.json").write_text(json.dumps(jobs))
    tmp_path.chmod(0o755)  # mounted as /jobs, read by uid 10001
    (tmp_path / "jobs.json").chmod(0o644)
    runner_dir = Path(__file__).resolve().parents[2] / "sandbox" / "runner"
    client = docker_client()
    try:
        out = client.containers.run(
            default_image(), ["sh", "-c", f"python3 -c '{LOCAL_PATH_SCRIPT}' < /jobs/jobs.json"],
            user="10001:10001", network_disabled=True, remove=True, working_dir="/",
            tmpfs={"/work": "exec,size=64m,uid=10001,gid=10001"},
            volumes={str(runner_dir): {"bind": "/runner/hel", "mode": "ro"}, str(tmp_path): {"bind": "/jobs", "mode": "ro"}},
        )  # fmt: skip
    finally:
        client.close()
    got = dict(json.loads(line) for line in out.decode().splitlines())
    assert got == expect


@pytest.mark.parametrize(("suffix", "body"), [("rb", "  nil\nend\n"), ("lua", "  return nil\nend\n")])
def test_every_multipl_e_problem_runs_its_tests_against_the_candidate(
    tmp_path: Path, suffix: str, body: str
) -> None:
    """Each of the 161 problems: the judge starts, stubs the entry point, reaches the candidate and
    fails the nil answer with a reason from the tests (never a judge failure, never a pass)."""
    from humaneval_lab.problems import read_problem_file

    from .conftest import MULTIPL_E

    path = MULTIPL_E / f"humaneval-{suffix}-reworded.jsonl"
    problems = read_problem_file(path)
    results = score(
        tmp_path, [{"task_id": p.task_id, "completion": body} for p in problems], "--problems", str(path)
    )
    assert len(results) == len(problems) == 161
    bad = [(r["task_id"], r["verdict"], r["reason"]) for r in results if r["verdict"] != "failed"]
    assert bad == []
    assert all(f"tests.{suffix}:" in r["reason"] and "nil" in r["reason"] for r in results)
