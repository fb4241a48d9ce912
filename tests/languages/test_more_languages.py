"""C#, D, Elixir, Haskell, OCaml, R, Racket and Scala judged for real, through ``humaneval-lab
score`` and the Docker sandbox, on MultiPL-E's files (which ship no solutions: the right bodies are
written here).

Each language: right bodies pass (HumanEval_0 is in ``test_run_languages``), a wrong body fails on
every problem of the file, and completions that try to fake a pass do not pass.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.problems import Problem, read_problem_file

from .conftest import MULTIPL_E
from .test_run_languages import score

pytestmark = [pytest.mark.docker]

SUFFIX = {
    "csharp": "cs", "d": "d", "elixir": "elixir", "haskell": "hs", "ocaml": "ml", "r": "r",
    "racket": "rkt", "scala": "scala",
}  # fmt: skip
GCD = "HumanEval_13_greatest_common_divisor"
STRLEN = "HumanEval_23_strlen"
# R and Elixir answers cross between two processes as data: NULL/nil, vectors/tuples, floats too.
LONGEST = "HumanEval_12_longest"
SUM_PRODUCT = "HumanEval_8_sum_product"
MAD = "HumanEval_4_mean_absolute_deviation"

# language -> {task: right completion}
RIGHT: dict[str, dict[str, str]] = {
    "csharp": {
        GCD: "        while (b != 0) { long t = a % b; a = b; b = t; }\n        return a;\n",
        STRLEN: "        return str.Length;\n",
    },
    "d": {
        GCD: "{\n    while (b != 0) { auto t = a % b; a = b; b = t; }\n    return a;\n}\n",
        STRLEN: "{\n    return cast(long) string.length;\n}\n",
    },
    "elixir": {
        GCD: "    Integer.gcd(a, b)\n  end\nend\n",
        STRLEN: "    String.length(string)\n  end\nend\n",
        LONGEST: "    Enum.reduce(strings, nil, fn s, acc ->\n"
        "      if acc == nil or String.length(s) > String.length(acc), do: s, else: acc\n"
        "    end)\n  end\nend\n",
        SUM_PRODUCT: "    {Enum.sum(numbers), Enum.reduce(numbers, 1, &(&1 * &2))}\n  end\nend\n",
        MAD: "    m = Enum.sum(numbers) / length(numbers)\n"
        "    Enum.sum(Enum.map(numbers, &abs(&1 - m))) / length(numbers)\n  end\nend\n",
    },
    "haskell": {GCD: " gcd a b\n", STRLEN: " length string\n"},
    "ocaml": {
        GCD: "  let rec g a b = if b = 0 then a else g b (a mod b) in g a b\n",
        STRLEN: "  String.length string\n",
    },
    "r": {
        GCD: "  while (b != 0) { t <- a %% b; a <- b; b <- t }\n  a\n}\n",
        STRLEN: "  nchar(string)\n}\n",
        LONGEST: "  if (length(strings) == 0) return(NULL)\n  strings[which.max(nchar(strings))]\n}\n",
        SUM_PRODUCT: "  c(sum(numbers), prod(numbers))\n}\n",
        MAD: "  mean(abs(numbers - mean(numbers)))\n}\n",
    },
    "racket": {GCD: "  (gcd a b))\n", STRLEN: "  (string-length string))\n"},
    "scala": {
        GCD: "        if (b == 0) a else greatestCommonDivisor(b, a % b)\n",
        STRLEN: "        string.length.toLong\n",
    },
}


def problems(language: str) -> list[Problem]:
    return read_problem_file(MULTIPL_E / f"humaneval-{SUFFIX[language]}-reworded.jsonl")


def _return_type(p: Problem, pattern: str) -> str:
    m = re.search(pattern, p.prompt.rstrip().splitlines()[-1])
    assert m, p.prompt[-200:]
    return m.group(1)


_CS_RETURN = r"public static (.+?) \w+\("
_SCALA_RETURN = r"\)\s*:\s*(.+?)\s*=\s*\{$"


def wrong(language: str, p: Problem) -> str:
    """A cheap wrong completion that compiles for any problem of the file: the return type's
    default value where the language is typed, else a value no test expects."""
    if language == "csharp":
        return f"        return default({_return_type(p, _CS_RETURN)});\n"
    if language == "scala":
        return f"        null.asInstanceOf[{_return_type(p, _SCALA_RETURN)}]\n"
    if language == "d":
        return "{\n    return typeof(return).init;\n}\n"
    return {
        "elixir": "    :hel_wrong\n  end\nend\n",
        "haskell": ' error "hel-wrong"\n',
        "ocaml": '  failwith "hel-wrong"\n',
        "r": '  "hel-wrong"\n}\n',
        "racket": "  'hel-wrong)\n",
    }[language]


def _score(tmp_path: Path, language: str, samples: list[dict[str, str]]) -> list[dict[str, Any]]:
    path = MULTIPL_E / f"humaneval-{SUFFIX[language]}-reworded.jsonl"
    # A generous limit: scalac alone takes ~5 s of CPU, and a loaded 2-core host stretches that.
    return score(tmp_path, samples, "--problems", str(path), "--only-sampled", timeout=300)


@pytest.mark.parametrize("language", sorted(RIGHT))
def test_right_bodies_pass(tmp_path: Path, language: str) -> None:
    samples = [{"task_id": t, "completion": c} for t, c in RIGHT[language].items()]
    results = _score(tmp_path, language, samples)
    assert {r["task_id"]: (r["verdict"], r["reason"]) for r in results if not r["passed"]} == {}
    assert len(results) == len(samples)


# A full-file sweep judges ~160 programs. Measured on a quiet 2-core host: elixir 93 s, haskell 88 s,
# racket 102 s (beside another Docker test run); scala's every-8th sweep alone takes 87 s (~5 s of CPU
# per scalac), so its whole file (~12 min) is left to `make test-exhaustive` and CI sweeps every 8th
# problem (a fixed spread, not picked by outcome). On a host at load 20-35 the same sweeps took 5-13 min.
_SLOW = {"scala"}
_STRIDE = 8


def _sweeps() -> list[Any]:
    params = []
    for lang in sorted(SUFFIX):
        if lang in _SLOW:
            params.append(pytest.param(lang, _STRIDE, id=f"{lang}-every-{_STRIDE}th"))
            params.append(pytest.param(lang, 1, id=f"{lang}-all", marks=[pytest.mark.exhaustive]))
        else:
            params.append(pytest.param(lang, 1, id=f"{lang}-all"))
    return params


@pytest.mark.parametrize(("language", "stride"), _sweeps())
def test_wrong_body_fails_every_problem(tmp_path: Path, language: str, stride: int) -> None:
    every = problems(language)
    ps = every[::stride]
    results = _score(
        tmp_path, language, [{"task_id": p.task_id, "completion": wrong(language, p)} for p in ps]
    )
    assert len(every) >= 150 and len(results) == len(ps) >= len(every) // stride
    assert {r["task_id"]: r["verdict"] for r in results if r["verdict"] not in ("failed", "error")} == {}


# Completions that try to pass without being right, for GCD (the right answer is never 0, the
# attacks return 0 or nothing). Each must not pass.
ATTACKS: dict[str, dict[str, str]] = {
    "csharp": {
        "exit 0 early": "        System.Environment.Exit(0);\n        return 0;\n",
        "fake token": '        System.Console.WriteLine("0123456789abcdef0123456789abcdef");\n'
        "        System.Environment.Exit(0);\n        return 0;\n",
        "exit 0 in an exit hook": "        System.AppDomain.CurrentDomain.ProcessExit += (s, e) => "
        "System.Environment.Exit(0);\n        return 0;\n",
        "silence Debug.Assert": "        System.Diagnostics.Trace.Listeners.Clear();\n        return 0;\n",
        "own Debug class": "        return 0;\n    }\n    public static class Debug {\n"
        "        public static void Assert(bool b) { }\n",
        "read the token": "        var s = System.Console.In.ReadToEnd();\n        System.Console.WriteLine(s);\n"
        "        System.Environment.Exit(0);\n        return 0;\n",
    },
    "scala": {
        "exit 0 early": "        sys.exit(0)\n",
        "exit 0 in a shutdown hook": "        sys.addShutdownHook { Runtime.getRuntime().halt(0) }\n        0L\n",
        "own assert": "        0L\n    }\n    def assert(b: Boolean): Unit = {\n",
        "read the token": "        println(scala.io.StdIn.readLine())\n        sys.exit(0)\n",
    },
    "d": {
        "exit 0 early": "{\n    import core.stdc.stdlib : exit;\n    exit(0);\n    return 0;\n}\n",
        "read the token in a module constructor": "{\n    return 0;\n}\nstatic this() {\n"
        "    import std.stdio;\n    writeln(stdin.readln());\n    import core.stdc.stdlib : exit;\n    exit(0);\n}\n",
        "silence assert": "{\n    import core.exception;\n    assertHandler = (string f, size_t l, string m) "
        "nothrow {};\n    return 0;\n}\n",
        "replace _exit": "{\n    return 0;\n}\nextern (C) void _exit(int) {}\n",
        "string mixin": '{\n    return 0;\n}\nmixin("extern (C) void _exit(int) {}");\n',
    },
    "haskell": {
        "own main": " 0\nmain :: IO ()\nmain = pure ()\n",
        "own error": " 0\nerror :: String -> a\nerror _ = undefined\n",
        # The FFI reaches libc (exit, system, raw memory): refused.
        "exit 0 through the FFI": ' helExit 0 `seq` 0\nforeign import ccall unsafe "stdlib.h exit" helExit :: Int -> Int\n',
    },
    "ocaml": {
        "exit 0 early": "  exit 0\n",
        "own equality": "  0\nlet (=) _ _ = true\n",
        "exit 0 at exit": "  at_exit (fun () -> exit 0); 0\n",
        "read the closure": "  let _ = Obj.repr Hel_judge.run in 0\n",
        "read the token": "  print_endline (read_line ()); exit 0\n",
    },
    "racket": {
        "exit 0 early": "  (exit 0))\n",
        "own equal?": "  0)\n(define (equal? a b) #t)\n",
        "exit-handler": "  (exit-handler void)\n  0)\n",
        "struct equal to anything": "  (hel-any))\n(struct hel-any () #:property prop:equal+hash\n"
        "  (list (lambda (a b r) #t) (lambda (a r) 0) (lambda (a r) 0)))\n",
        "silence stderr": "  (current-error-port (open-output-nowhere))\n  0)\n",
        "read the token": "  (displayln (read-line))\n  (exit 0))\n",
    },
    # R and Elixir are judged in two processes: the candidate's process holds no token and no test.
    "r": {
        "quit early": "  quit(status = 0)\n}\n",
        "own stopifnot": "  0\n}\nstopifnot <- function(...) invisible(NULL)\nisTRUE <- function(x) TRUE\n",
        # The one-process judge's token was the first line of stdin, read into a closure.
        "read the token": '  cat("\\n", readLines(file("stdin"), n = 1L), "\\n", sep = "")\n  quit(status = 0)\n}\n',
        "read the token at load": '  0\n}\ncat("\\n", readLines(file("stdin"), n = 1L), "\\n", sep = "")\nquit(status = 0)\n',
        "own all.equal in base": '  0\n}\nunlockBinding("all.equal", baseenv())\n'
        'assign("all.equal", function(...) TRUE, envir = baseenv())\n',
        "a value with its own all.equal": '  structure(0, class = "hel")\n}\nall.equal.hel <- function(...) TRUE\n',
        "a closure as the answer": "  function(...) TRUE\n}\n",
        "forge the channel": '  writeLines("V d1 0x1p+0", file("/proc/self/fd/4"))\n  quit(status = 0)\n}\n',
    },
    "elixir": {
        "halt 0 early": "    System.halt(0)\n  end\nend\n",
        # The one-process judge's token was the first line of stdin, read into a script variable.
        "read the token": '    IO.write("\\n" <> IO.read(:stdio, :line))\n    System.halt(0)\n  end\nend\n',
        "exit the test process": "    exit(:normal)\n  end\nend\n",
        "a stream that halts when enumerated": "    Stream.map([1], fn _ -> System.halt(0) end)\n  end\nend\n",
        "a fun as the answer": "    fn -> 1 end\n  end\nend\n",
        "replace ExUnit.Runner": "    Code.compiler_options(ignore_module_conflict: true)\n"
        '    Code.eval_string("defmodule ExUnit.Runner do def run(_, _), do: %{total: 1, failures: 0} end")\n'
        "    0\n  end\nend\n",
    },
}


@pytest.mark.parametrize("language", sorted(ATTACKS))
def test_attacks_do_not_pass(tmp_path: Path, language: str) -> None:
    attacks = ATTACKS[language]
    samples = [{"task_id": GCD, "completion": c, "attack": name} for name, c in attacks.items()]
    samples.append({"task_id": GCD, "completion": RIGHT[language][GCD], "attack": "none (right)"})
    results = _score(tmp_path, language, samples)
    verdicts = {r["attack"]: (r["verdict"], r["reason"]) for r in results}
    assert verdicts.pop("none (right)")[0] == "passed"
    assert {a: v for a, v in verdicts.items() if v[0] not in ("failed", "error")} == {}
    if language == "haskell":
        assert verdicts["exit 0 through the FFI"][0] == "error"


# R and Elixir answers cross between processes: every kind of value the codecs carry must arrive
# exactly (R's `identical`, Elixir's `===`), and a near miss (an integer for a double) must not.
# (R's -0 is computed: its byte compiler folds a literal `-0` to 0 once a function is compiled.)
_R_VALUE = (
    'list(a = c(1L, NA), b = c("x", NA, "\\u00e9", ""), c = NULL, d = c(TRUE, NA, FALSE),'
    " e = c(-0.5, NaN, Inf, -Inf, NA, 1e-310, 0.1), f = list(), g = character(0))"
)
_EX_VALUE = "%{1 => [1.5, 2], \"k\" => {:ok, <<1, 2, 255>>}, :a => [1 | 2], nil => 'chars'}"
EXACT: dict[str, dict[str, str]] = {
    "r": {
        "prompt": "values <- function(x) {\n",
        "tests": "test_humaneval <- function() {\n    candidate <- values\n"
        f"    stopifnot(identical(candidate(1L), {_R_VALUE}))\n"
        "    stopifnot(identical(1 / candidate(2L), -Inf))\n"
        '    stopifnot(identical(candidate(3L), c(x = "y")))\n}\ntest_humaneval()\n',
        "right": f'  if (x == 1L) return({_R_VALUE})\n  if (x == 2L) return(-1 / x^2000)\n  c(x = "y")\n}}\n',
        "wrong": f"  if (x == 1L) return({_R_VALUE.replace('1L, NA', '1, NA')})\n  if (x == 2L) return(-1 / x^2000)\n"
        '  c(x = "y")\n}\n',
    },
    "elixir": {
        "prompt": "defmodule HumanEval do\n  def candidate(x), do: values(x)\n  def values(x) do\n",
        "tests": "ExUnit.start()\ndefmodule HumanEvalTest do\n  use ExUnit.Case, async: true\n"
        f"  test 'values' do\n    assert {_EX_VALUE} === HumanEval.candidate(1)\n"
        "    assert 12345678901234567890123 === HumanEval.candidate(2)\n"
        "    assert [] === HumanEval.candidate([])\n  end\nend\n",
        "right": f"    case x do\n      1 -> {_EX_VALUE}\n      2 -> 12345678901234567890123\n"
        "      [] -> []\n    end\n  end\nend\n",
        "wrong": f"    case x do\n      1 -> {_EX_VALUE.replace('2]', '2.0]')}\n      2 -> 12345678901234567890123\n"
        "      [] -> []\n    end\n  end\nend\n",
    },
}


@pytest.mark.parametrize("language", sorted(EXACT))
def test_values_cross_exactly(tmp_path: Path, language: str) -> None:
    case = EXACT[language]
    assert case["right"] != case["wrong"]
    problem = {
        "task_id": f"exact/{language}", "language": language, "entry_point": "values",
        "prompt": case["prompt"], "canonical_solution": case["right"], "tests": case["tests"],
    }  # fmt: skip
    path = tmp_path / "exact.jsonl"
    path.write_text(json.dumps(problem) + "\n")
    samples = [{"task_id": problem["task_id"], "completion": case[k], "kind": k} for k in ("right", "wrong")]
    results = score(tmp_path, samples, "--problems", str(path), "--only-sampled", timeout=300)
    verdicts = {r["kind"]: (r["verdict"], r["reason"]) for r in results}
    assert verdicts["right"][0] == "passed", verdicts
    assert verdicts["wrong"][0] == "failed", verdicts
