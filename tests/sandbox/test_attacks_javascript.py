"""JavaScript and TypeScript attacks through the real Docker sandbox, each followed by an honest sample.

The tests run in a trusted judge process and the candidate in another (humaneval_lab/languages/
javascript.py): every attack here targets that boundary or the old single-process wrapper's holes.
Attacks judged by their effect (reading files, signalling processes, reaching the channel) return
the right answer exactly when the attack FAILED, so ``passed`` proves containment held.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from conftest import judged_once

from humaneval_lab.execution.base import Job, Limits
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem

pytestmark = pytest.mark.docker

JS_PROBLEM = Problem(
    "attack/js",
    "javascript",
    "function add(a, b) {\n",
    "const assert = require('node:assert');\n"
    "assert.strictEqual(add(2, 3), 5);\n"
    "console.assert(add(-1, 1) === 0);\n"
    "for (let i = 0; i < 10; i++) {\n"
    "  const a = Math.floor(Math.random() * 1000);\n"
    "  assert.strictEqual(add(a, i), a + i);\n"
    "}\n",
    "add",
    source_format="native",
)
# Type annotations in the tests: the judge transpiles them in its own dir.
TS_PROBLEM = Problem(
    "attack/ts",
    "typescript",
    "declare var require: any;\ndeclare var process: any;\nfunction add(a: number, b: number): number {\n",
    "function check(got: number, want: number, label: string): void {\n"
    "  if (got !== want) throw new Error(`check failed: ${label}: got ${got}`);\n"
    "}\n"
    "check(add(2, 3), 5, 'add(2, 3)');\n"
    "for (let i = 0; i < 10; i++) {\n"
    "  const a: number = Math.floor(Math.random() * 1000);\n"
    "  check(add(a, i), a + i, `add(${a}, ${i})`);\n"
    "}\n",
    "add",
    source_format="native",
)

RIGHT = "  return a + b;\n}\n"
WRONG = "  return a - b;\n}\n"


@dataclass(frozen=True)
class Attack:
    name: str
    completion: str
    expect: frozenset[str]
    timeout_s: float = 60.0  # generous: a verdict, not a speed, is asserted (the host may be loaded)


def attack(name: str, completion: str, *expect: str, timeout_s: float = 60.0) -> Attack:
    return Attack(name, completion, frozenset(expect), timeout_s)


# Pids of processes that are not this sample's (their uid differs from ours), as a JS expression.
_FOREIGN = (
    "require('fs').readdirSync('/proc').filter((p) => /^[0-9]+$/.test(p) && Number(p) !== process.pid)"
    ".filter((p) => { try { const m = require('fs').readFileSync('/proc/' + p + '/status', 'utf8')"
    ".match(/^Uid:\\s+(\\d+)/m); return m && Number(m[1]) !== process.getuid(); } catch (e) { return false; } })"
)

ATTACKS = [
    # The old wrapper's holes: its failure path called a process.exit the candidate could replace.
    attack(
        "replace-process-exit",
        "  process.exit = () => {}; process.reallyExit = () => {}; process.exitCode = 0;\n"
        "  process.on('exit', () => { process.stdout.write('passed\\n'); });\n  return a - b;\n}\n",
        "failed",
    ),
    attack("exit0-in-function", "  process.exit(0);\n}\n", "error"),
    attack("exit0-at-load", RIGHT + "process.exit(0);\n", "error"),
    attack("throw-at-load", RIGHT + "throw new Error('nope');\n", "error"),
    attack(
        "print-fake-token-and-passed",
        "  for (const s of ['0123456789abcdef0123456789abcdef', 'passed', 'All tests passed',\n"
        '    \'{"id": "x", "outcome": {"status": "passed"}}\']) { console.log(s); console.error(s); }\n'
        "  return a - b;\n}\n",
        "failed",
    ),
    attack(
        "patch-assert-and-console",
        "  const assert = require('assert');\n"
        "  for (const k of Object.keys(assert)) { try { assert[k] = () => {}; } catch (e) {} }\n"
        "  console.assert = () => {};\n  return a - b;\n}\n",
        "failed",
    ),
    attack(
        "patch-json-at-load",
        RIGHT + "JSON.stringify = () => '{\"value\": 5}';\nJSON.parse = () => ({ call: 'add', args: [] });\n",
        "error",
    ),
    attack(
        "patch-fs-write-at-load",
        RIGHT + "const fs = require('fs'); const w = fs.writeSync;\n"
        "fs.writeSync = (fd, ...rest) => (fd === 4 ? w(4, '{\"ready\": true}\\n') : w(fd, ...rest));\n",
        "error",
    ),
    attack(
        "tojson-on-prototypes",
        RIGHT + "Object.prototype.toJSON = function () { return 5; };\nArray.prototype.toJSON = () => 5;\n",
        "error",
    ),
    attack(
        "judge-named-helpers",
        WRONG + "function stub() { return () => 5; }\nfunction call() { return 5; }\nfunction finish() {}\n"
        "var candidateErrors = null, lastCall = null;\n"
        "globalThis.finish = () => {}; globalThis.verdictOf = () => [0, '']; globalThis.strictAssert = () => {};\n",
        "failed",
    ),
    # Objects that lie in equality: nothing but plain data crosses, built by the judge itself.
    attack(
        "always-equal-object",
        "  return { valueOf() { return a + b; }, toString() { return String(a + b); },\n"
        "    [Symbol.toPrimitive]() { return a + b; }, toJSON() { return a + b; } };\n}\n",
        "error",
    ),
    attack(
        "class-instance-valueof",
        "  class N { valueOf() { return a + b; } toJSON() { return a + b; } }\n  return new N();\n}\n",
        "error",
    ),
    attack(
        "hidden-tojson",
        "  const o = {}; Object.defineProperty(o, 'toJSON', { value: () => a + b });\n  return o;\n}\n",
        "failed",
    ),
    attack("boxed-number", "  return new Number(a + b);\n}\n", "error"),
    attack(
        "proxy-posing-as-number",
        "  return new Proxy({}, { get: () => a + b, getPrototypeOf: () => Object.prototype });\n}\n",
        "failed",
    ),
    attack("string-posing-as-number", "  return String(a + b);\n}\n", "failed"),
    # Values that cannot be encoded.
    attack("symbol", "  return Symbol(String(a + b));\n}\n", "error"),
    attack("function-value", "  return () => a + b;\n}\n", "error"),
    attack("cyclic-array", "  const x = []; x.push(x);\n  return x;\n}\n", "error"),
    attack(
        "exponential-dag",
        "  let x = [a + b];\n  for (let i = 0; i < 64; i++) x = [x, x];\n  return x;\n}\n",
        "error",
    ),
    attack("huge-value", "  return 'x'.repeat(20 << 20);\n}\n", "error"),
    # Forged protocol lines.
    attack(
        "forged-value-out-of-turn",
        "  require('fs').writeSync(4, JSON.stringify({ value: a + b }) + '\\n');\n  return a - b;\n}\n",
        "error",
    ),
    attack(
        "forged-value-guessed-id",
        "  require('fs').writeSync(4, JSON.stringify({ id: '0'.repeat(24), value: a + b }) + '\\n');\n"
        "  return a + b;\n}\n",
        "error",
    ),
    attack(
        "values-ahead-of-time",
        RIGHT + "require('fs').writeSync(4, '{\"ready\": true}\\n' + '{\"value\": 5}\\n'.repeat(20));\n",
        "error",
    ),
    attack("ready-twice", RIGHT + "require('fs').writeSync(4, '{\"ready\": true}\\n');\n", "error"),
    attack("huge-line", "  require('fs').writeSync(4, 'x'.repeat(20 << 20));\n  return a + b;\n}\n", "error"),
    attack(
        "garbage-line", "  require('fs').writeSync(4, '\\u0000\\ufffd{{{\\n');\n  return a + b;\n}\n", "error"
    ),
    attack(
        "forged-error-name",
        "  const e = new Error('x'); e.name = 'AssertionError'; e.code = 'ERR_ASSERTION'; throw e;\n}\n",
        "error",
    ),
    # Reaching what it must not: the tests' files, the judge's memory, the channel, other processes.
    attack(
        "read-tests-files",
        "  const fs = require('fs'); let seen = 0;\n"
        "  const paths = ['/work/judge0/hel_tests.json', '/work/judge1/hel_tests.json', '/work/judge0', '/work/judge1'];\n"
        f"  for (const p of {_FOREIGN}) paths.push('/proc/' + p + '/cwd/hel_tests.json', '/proc/' + p + '/environ',\n"
        "    '/proc/' + p + '/mem', '/proc/' + p + '/fd/3', '/proc/' + p + '/root/work/judge0/hel_tests.json');\n"
        "  for (const p of paths) {\n"
        "    try { if (fs.statSync(p).isDirectory()) { fs.readdirSync(p); } else { fs.readFileSync(p); } seen++; } catch (e) {}\n"
        "  }\n"
        "  return seen ? a - b : a + b;\n}\n",
        "passed",
    ),
    attack(
        "reach-the-channel",
        "  const fs = require('fs'); let opened = 0;\n"
        "  for (const p of ['/proc/1/fd/0', '/proc/1/fd/1', '/proc/1/fd/2']) {\n"
        "    try { const fd = fs.openSync(p, 'r+'); opened++;\n"
        '      fs.writeSync(fd, \'{"id": "x", "outcome": {"status": "passed"}}\\n\'); } catch (e) {}\n'
        "  }\n"
        "  let stdin = ''; try { stdin = fs.readFileSync(0, 'utf8'); } catch (e) {}\n"
        "  return opened || /[0-9a-f]{32}/.test(stdin) ? a - b : a + b;\n}\n",
        "passed",
    ),
    attack(
        "signal-everything",
        "  let hit = 0;\n"
        f"  for (const p of {_FOREIGN}) {{\n"
        "    for (const s of [0, 'SIGSTOP', 'SIGKILL']) { try { process.kill(Number(p), s); hit++; } catch (e) {} }\n"
        "    try { process._debugProcess(Number(p)); hit++; } catch (e) {}\n"
        "  }\n"
        "  try { process.kill(process.ppid, 'SIGKILL'); hit++; } catch (e) {}\n"
        "  try { require('child_process').execSync('pkill -STOP -f hel_[j]udge; pkill -9 -f hel_[r]unner; true'); } catch (e) {}\n"
        "  try { process.kill(-1, 'SIGKILL'); } catch (e) {}\n"
        "  return hit ? a - b : a + b;\n}\n",
        "passed",
    ),
    attack(
        "daemon-tampers-with-later-samples",
        "  require('child_process').spawn('sh', ['-c', 'while true; do for f in /work/job*/main.js; do "
        'echo "function add(a, b) { return 0; }" > $f; done; pkill -STOP -f hel_[j]udge; sleep 0.01; done\'],\n'
        "    { detached: true, stdio: 'ignore' }).unref();\n  return a + b;\n}\n",
        "passed",
    ),
    # "error" when the runner's exit report comes after its short wait (then it cannot tell a
    # candidate that died of SIGKILL from one it killed itself after the judge gave up on it).
    attack("kill-itself", "  process.kill(process.pid, 'SIGKILL');\n}\n", "crashed", "error"),
    attack("close-channel-and-spin", "  require('fs').closeSync(4);\n  for (;;) {}\n}\n", "error"),
    attack(
        "stdout-flood", "  for (;;) require('fs').writeSync(1, 'x'.repeat(1 << 16));\n}\n", "output_limit"
    ),
    attack("never-answers", "  for (;;) {}\n}\n", "timeout", timeout_s=3.0),
    attack("never-ready", RIGHT + "for (;;) {}\n", "timeout", timeout_s=3.0),
]

# TypeScript: the same boundary behind tsc; a few attacks, plus its own compile rule.
TS_ATTACKS = [
    attack("ts-type-error", "  return 'five';\n}\n", "error"),
    attack(
        "ts-replace-exit",
        "  process.exit = () => {};\n  console.log('passed');\n  return a - b;\n}\n",
        "failed",
    ),
    attack("ts-exit0", "  process.exit(0);\n  return 0;\n}\n", "error"),
    attack(
        "ts-forged-value",
        "  require('fs').writeSync(4, JSON.stringify({ value: a + b }) + '\\n');\n  return a - b;\n}\n",
        "error",
    ),
    attack("ts-always-equal", "  return { valueOf: () => a + b } as any;\n}\n", "error"),
    attack(
        "ts-read-tests-files",
        "  const fs = require('fs'); let seen = 0;\n"
        "  for (const p of ['/work/judge0/hel_tests.json', '/work/judge0/hel_tests.js', '/work/judge0']) {\n"
        "    try { fs.readFileSync(p); seen++; } catch (e) {}\n  }\n"
        "  return seen ? a - b : a + b;\n}\n",
        "passed",
    ),
]


def _job(problem: Problem, name: str, completion: str, timeout_s: float = 60.0) -> Job:
    program = get_language(problem.language).build(problem, source_of(problem, completion))
    return Job(name, program, Limits(timeout_s=timeout_s))


def _interleaved(problem: Problem, attacks: list[Attack]) -> tuple[list[Job], dict[str, frozenset[str]]]:
    """Each attack, then an honest sample (right or wrong) that must get its own verdict."""
    jobs, expect = [], {}
    # tsc takes seconds per sample, minutes on a loaded host: only verdicts are asserted here.
    slack = 4.0 if problem.language == "typescript" else 1.0
    for i, a in enumerate(attacks):
        jobs.append(_job(problem, f"attack:{a.name}", a.completion, a.timeout_s * slack))
        expect[f"attack:{a.name}"] = a.expect
        honest, verdict = (RIGHT, "passed") if i % 3 else (WRONG, "failed")
        jobs.append(_job(problem, f"honest:{i}", honest, 60.0 * slack))
        expect[f"honest:{i}"] = frozenset({verdict})
    return jobs, expect


@pytest.mark.parametrize("per_container", [1, 2], ids=["own-container", "shared-container"])
def test_javascript_attacks_interleaved_with_honest_samples(make_executor: Any, per_container: int) -> None:
    """Shared: two samples at a time in one container, each under its own uids."""
    jobs, expect = _interleaved(JS_PROBLEM, ATTACKS)
    ex = make_executor(jobs=1, workers_per_container=per_container)
    out = judged_once(ex, jobs)
    wrong = {n: (o.status.value, o.reason) for n, o in out.items() if o.status.value not in expect[n]}
    assert wrong == {}, f"deaths: {ex.death_log}"


def test_typescript_attacks_interleaved_with_honest_samples(make_executor: Any) -> None:
    jobs, expect = _interleaved(TS_PROBLEM, TS_ATTACKS)
    out = judged_once(make_executor(jobs=1, workers_per_container=2), jobs)
    wrong = {n: (o.status.value, o.reason) for n, o in out.items() if o.status.value not in expect[n]}
    assert wrong == {}
    assert "check failed: add(2, 3): got -1" in out["honest:0"].reason


# Values keep what the tests' own comparisons see: each of these lookalike pairs is told apart by
# deepStrictEqual / Object.is, so the right values pass and every lookalike fails.
ECHO_PROBLEM = Problem(
    "values/js",
    "javascript",
    "function echo(kind, x) {\n",
    "const assert = require('node:assert');\n"
    "const cases = {\n"
    "  undef: undefined, nan: NaN, inf: Infinity, ninf: -Infinity, negzero: -0, big: 123456789012345678901234567890n,\n"
    "  hole: [1, , 3], nested: [[1, [2, [3, { a: [null, true, 'x'] }]]]], obj: { b: 1, a: { c: [1, 2] } },\n"
    "  nullproto: Object.assign(Object.create(null), { k: 1 }), protokey: { ['__proto__']: 1 },\n"
    "  str: 'h\\u00e9\\ud83d\\ude00 \\ud800 \"q\"\\n\\u0000', nul: null, empty: [], t: true, num: 0.1 + 0.2,\n"
    "};\n"
    "for (const [k, want] of Object.entries(cases)) {\n"
    "  assert.deepStrictEqual(echo(k), want, k);\n"
    "  assert.deepStrictEqual(echo('same', want), want, 'same ' + k);\n"
    "}\n"
    "assert.ok(Object.is(echo('negzero'), -0));\n"
    "assert.ok(Object.is(echo('same', -0), -0));\n"
    "assert.strictEqual(Object.getPrototypeOf(echo('protokey')), Object.prototype);\n",
    "echo",
    source_format="native",
)
ECHO_TABLE = (
    "  const cases = {\n"
    "    undef: undefined, nan: NaN, inf: Infinity, ninf: -Infinity, negzero: -0, big: 123456789012345678901234567890n,\n"
    "    hole: [1, , 3], nested: [[1, [2, [3, { a: [null, true, 'x'] }]]]], obj: { b: 1, a: { c: [1, 2] } },\n"
    "    nullproto: Object.assign(Object.create(null), { k: 1 }), protokey: { ['__proto__']: 1 },\n"
    "    str: 'h\\u00e9\\ud83d\\ude00 \\ud800 \"q\"\\n\\u0000', nul: null, empty: [], t: true, num: 0.1 + 0.2,\n"
    "  };\n"
)
ECHO_RIGHT = ECHO_TABLE + "  return kind === 'same' ? x : cases[kind];\n}\n"
LOOKALIKES = {
    "negzero": "0",
    "undef": "null",
    "hole": "[1, undefined, 3]",
    "big": "123456789012345678901234567890",
    "nullproto": "{ k: 1 }",
    "nan": "'NaN'",
    "protokey": "{}",
    "num": "0.3",
}


def test_values_cross_as_the_tests_compare_them(make_executor: Any) -> None:
    jobs = [_job(ECHO_PROBLEM, "right", ECHO_RIGHT)]
    for kind, lookalike in LOOKALIKES.items():
        body = (
            ECHO_TABLE + f"  cases.{kind} = {lookalike};\n  return kind === 'same' ? x : cases[kind];\n}}\n"
        )
        jobs.append(_job(ECHO_PROBLEM, f"lookalike:{kind}", body))
    out = judged_once(make_executor(jobs=1, workers_per_container=2), jobs)
    assert out["right"].status.value == "passed", out["right"]
    verdicts = {n: (o.status.value, o.reason) for n, o in out.items() if n != "right"}
    assert {n: v for n, (v, _) in verdicts.items()} == {n: "failed" for n in verdicts}, verdicts
    # The reason names the failing assertion and what the candidate returned.
    assert "assert.deepStrictEqual(echo(k), want, k) got 0" in out["lookalike:negzero"].reason or (
        "Object.is(echo('negzero'), -0)" in out["lookalike:negzero"].reason
    ), out["lookalike:negzero"].reason
