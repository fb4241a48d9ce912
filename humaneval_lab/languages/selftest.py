"""Per-language self-test for ``humaneval-lab sandbox check``: for every language, its toolchain is
present and a known-good and a known-bad program are judged right by the given executor.

(A module without ``SPEC``: the registry skips it.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from humaneval_lab.execution.base import Executor, Job, Limits, Outcome, Program, Status
from humaneval_lab.languages import all_languages, get_language, source_of
from humaneval_lab.problems import Problem


@dataclass(frozen=True)
class Case:
    prompt: str
    good: str
    bad: str
    tests: str


# A two-line problem per language, in our native format (prompt + completion + "\n" + tests). The
# tests also touch the libraries HumanEval-X needs (testify, regex/md5/rand, js-md5's shim...).
CASES: dict[str, Case] = {
    "python": Case("def add(a, b):\n", "    return a + b\n", "    return a - b\n", "assert add(2, 3) == 5\n"),
    "cpp": Case(
        "#include <cassert>\n#include <openssl/md5.h>\n#include <boost/any.hpp>\nint add(int a, int b) {\n",
        "    return a + b;\n}\n", "    return a - b;\n}\n",
        "int main() {\n    boost::any x = 1;\n    assert(add(2, 3) == 5);\n    return 0;\n}\n",
    ),
    "java": Case(
        "import java.util.*;\nimport org.javatuples.*;\nclass Solution {\n    public static int add(int a, int b) {\n",
        "        return a + b;\n    }\n}\n", "        return a - b;\n    }\n}\n",
        "public class Main {\n    public static void main(String[] args) {\n"
        "        if (Solution.add(2, 3) != 5) throw new AssertionError(\"add\");\n"
        "        Pair<Integer, Integer> p = Pair.with(1, 2);\n    }\n}\n",
    ),
    "javascript": Case(
        "function add(a, b) {\n", "  return a + b;\n}\n", "  return a - b;\n}\n",
        "const assert = require('node:assert');\nassert.strictEqual(add(2, 3), 5);\n"
        "console.assert(add(2, 3) === 5);\n",
    ),
    "typescript": Case(
        "function add(a: number, b: number): number {\n", "  return a + b;\n}\n", "  return a - b;\n}\n",
        "if (add(2, 3) !== 5) { throw new Error('check failed: add'); }\n",
    ),
    "go": Case(
        "package main\n\nimport (\n\t\"testing\"\n\n\t\"github.com/stretchr/testify/assert\"\n)\n\nfunc Add(a, b int) int {\n",
        "\treturn a + b\n}\n", "\treturn a - b\n}\n",
        "func TestAdd(t *testing.T) {\n\tassert.Equal(t, 5, Add(2, 3))\n}\n",
    ),
    "rust": Case(
        "fn add(a: i32, b: i32) -> i32 {\n", "    a + b\n}\n", "    a - b\n}\n",
        "fn main() {\n    assert_eq!(add(2, 3), 5);\n    assert!(regex::Regex::new(\"^a+$\").unwrap().is_match(\"aa\"));\n"
        "    let _ = format!(\"{:x}\", md5::compute(b\"x\"));\n    let _: u8 = rand::random();\n}\n",
    ),
    "ruby": Case("def add(a, b)\n", "  a + b\nend\n", "  a - b\nend\n", "raise 'add failed' unless add(2, 3) == 5\n"),
    "lua": Case(
        "local function add(a, b)\n", "  return a + b\nend\n", "  return a - b\nend\n",
        "local lu = require('luaunit')\nassert(add(2, 3) == 5, 'add failed')\n",
    ),
    "php": Case(
        "<?php\nfunction add($a, $b) {\n", "    return $a + $b;\n}\n", "    return $a - $b;\n}\n",
        "if (add(2, 3) !== 5) { throw new Exception('Test failed!'); }\n",
    ),
    "perl": Case(
        "use strict;\nuse Test::Deep;\nsub add {\n    my ($a, $b) = @_;\n", "    return $a + $b;\n}\n",
        "    return $a - $b;\n}\n", "die \"check failed: add\\n\" unless eq_deeply(add(2, 3), 5);\n",
    ),
    "bash": Case(
        "add() {\n", "    echo $(( $1 + $2 ))\n}\n", "    echo $(( $1 - $2 ))\n}\n",
        '[[ "$(add 2 3)" == 5 ]] || { echo "add failed" >&2; exit 1; }\n',
    ),
    # The languages below take MultiPL-E's layout for native problems too.
    "csharp": Case(
        "using System;\nusing System.Numerics;\nusing System.Diagnostics;\nusing System.Collections.Generic;\n"
        "class Problem {\n    public static long Add(long a, long b) {\n",
        "        return a + b;\n", "        return a - b;\n",
        "    }\n    public static void Main(string[] args) {\n    Debug.Assert(Add(2L, 3L) == (5L));\n"
        "    Debug.Assert(BigInteger.Parse(\"5\") == new BigInteger(Add(2L, 3L)));\n    }\n\n}\n",
    ),
    "d": Case(
        "import std.math;\nimport std.typecons;\nlong add(long a, long b) \n",
        "{\n    return a + b;\n}\n", "{\n    return a - b;\n}\n",
        "unittest\n{\n    alias candidate = add;\n    assert(candidate(2L, 3L) == 5L);\n"
        "    assert(tuple(1L, 2L)[1] == 2L);\n}\nvoid main(){}\n",
    ),
    "elixir": Case(
        "defmodule HumanEval do\n  def candidate(a, b), do: add(a, b)\n  def add(a, b) do\n",
        "    a + b\n  end\nend\n", "    a - b\n  end\nend\n",
        "ExUnit.start()\ndefmodule HumanEvalTest do\n  use ExUnit.Case, async: true\n"
        "  test 'add' do\n    assert 5 == HumanEval.candidate(2, 3)\n  end\nend\n",
    ),
    "haskell": Case(
        "add :: Int -> Int -> Int\nadd a b =", " a + b\n", " a - b\n",
        "\nmain :: IO ()\nmain = do\n  let candidate = add\n"
        "  if candidate 2 3 == 5 then pure () else error \"assertion failed\"\n  pure ()\n",
    ),
    "ocaml": Case(
        "let add (a : int) (b : int) : int =\n", "  a + b\n", "  a - b\n",
        "\nlet assertions =\n let candidate = add in\n  (assert ((candidate 2 3) = 5));\n  ()\n",
    ),
    "r": Case(
        "add <- function(a, b) {\n", "  a + b\n}\n", "  a - b\n}\n",
        "test_humaneval <- function() {\n    candidate <- add\n"
        "    stopifnot(isTRUE(all.equal(candidate(2, 3), 5)))\n}\ntest_humaneval()\n",
    ),
    "racket": Case(
        "#lang racket\n(define (add a b)\n", "  (+ a b))\n", "  (- a b))\n",
        "(require rackunit)\n\n(define (test-humaneval)\n  (let ((candidate add))\n"
        "    (check-within (candidate 2 3) 5 0.001)\n))\n\n(test-humaneval)\n",
    ),
    "scala": Case(
        "import scala.math._\nimport scala.collection.mutable._\nobject Problem {\n"
        "    def add(a : Long, b : Long) : Long = {\n",
        "        a + b\n", "        a - b\n",
        "    }\n    def main(args: Array[String]) = {\n    assert(add((2l), (3l)) == (5l));\n    }\n\n}\n",
    ),
}  # fmt: skip


# scalac takes ~5 s of CPU per program (javac ~1 s): on a busy host its known-good program needs
# more than the others' limit.
_SLOW_COMPILE = {"scala": 3}


@dataclass(frozen=True)
class SelfTestResult:
    language: str
    case: str  # "toolchain", "good" or "bad"
    ok: bool
    outcome: Outcome

    @property
    def summary(self) -> str:
        want = {"toolchain": "tools present", "good": "passes", "bad": "fails"}[self.case]
        got = self.outcome.status.value + (f" ({self.outcome.reason})" if self.outcome.reason else "")
        return f"{self.language}: known-{self.case} program {want}: {'ok' if self.ok else 'NO'} [{got}]"


def problem_for(language: str) -> Problem:
    c = CASES[language]
    return Problem(f"selftest/{language}", language, c.prompt, c.tests, "add", c.good, source_format="native")


def _toolchain_program(language: str, tools: Sequence[str]) -> Program:
    script = (
        'for t in "$@"; do command -v "$t" >/dev/null || { echo "missing: $t" >&2; exit 1; }; done; '
        'IFS= read -r tok; printf "%s\\n" "$tok"'
    )
    return Program(language=language, files={}, run=("sh", "-c", script, "toolchain", *tools))


def jobs_for(languages: Sequence[str] | None = None, timeout_s: float = 60.0) -> list[tuple[str, str, Job]]:
    names = list(languages) if languages else [s.name for s in all_languages()]
    out = []
    for name in names:
        spec = get_language(name)
        limits = Limits(timeout_s=timeout_s * _SLOW_COMPILE.get(spec.name, 1))
        out.append(
            (
                spec.name,
                "toolchain",
                Job(f"{spec.name}:toolchain", _toolchain_program(spec.name, spec.image_tools), limits),
            )
        )
        if spec.name not in CASES:
            continue
        p = problem_for(spec.name)
        for case, completion in (("good", CASES[spec.name].good), ("bad", CASES[spec.name].bad)):
            out.append(
                (spec.name, case, Job(f"{spec.name}:{case}", spec.build(p, source_of(p, completion)), limits))
            )
    return out


def run_selftest(
    executor: Executor, languages: Sequence[str] | None = None, timeout_s: float = 60.0
) -> list[SelfTestResult]:
    """Judge each language's known-good and known-bad program (and its toolchain) with ``executor``.

    Compiled languages get a generous timeout: a cold container builds caches on first use.
    """
    planned = jobs_for(languages, timeout_s)
    by_id = {job.id: (lang, case) for lang, case, job in planned}
    results: dict[str, SelfTestResult] = {}
    for job_id, outcome in executor.run(job for _, _, job in planned):
        lang, case = by_id[job_id]
        ok = (
            outcome.passed
            if case in ("toolchain", "good")
            else outcome.status in (Status.FAILED, Status.ERROR)
        )
        results[job_id] = SelfTestResult(lang, case, ok, outcome)
    return [results[job.id] for _, _, job in planned if job.id in results]
