"""PHP, Perl and Bash judged by two processes, through the real sandbox: a wrong value of the right
type fails every polyglot problem, and the reason line names the call that failed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.problems import Problem, load_suite

from .conftest import MULTIPL_E
from .multipl_e_bodies import BODIES
from .test_run_languages import score

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _wrong_php(p: Problem) -> str:
    params = re.findall(r"function\s+\w+\s*\((.*)\)\s*\{\s*$", p.prompt, re.MULTILINE)[-1]
    return (
        "    return __w_wrong(__w_right(...func_get_args()));\n}\n"
        "function __w_wrong($v) {\n"
        "    if (is_bool($v)) return !$v;\n    if (is_int($v)) return $v + 1;\n"
        "    if (is_float($v)) return $v + 1.5;\n    if (is_string($v)) return $v . 'x';\n"
        "    if (is_array($v) && array_is_list($v)) { $v[] = $v[0] ?? 0; return $v; }\n"
        "    if (is_array($v)) { $v['__x'] = 1; return $v; }\n    return 0;\n}\n"
        f"function __w_right({params}) {{\n" + (p.canonical_solution or "")
    )


def _wrong_perl(p: Problem) -> str:
    after_sub = p.prompt[re.search(r"^sub \w+ \{\n", p.prompt, re.MULTILINE).end() :]  # type: ignore[union-attr]
    return (
        "    return __w_wrong(__w_right(@_));\n}\n"
        "sub __w_wrong {\n    my ($v) = @_;\n    return 0 unless defined $v;\n"
        "    return [@$v, $v->[0] // 0] if ref $v eq 'ARRAY';\n"
        "    return {%$v, __x => 1} if ref $v eq 'HASH';\n"
        "    return $v =~ /^-?\\d+(?:\\.\\d+)?$/ ? $v + 1 : $v . 'x';\n}\n"
        "sub __w_right {\n" + after_sub + (p.canonical_solution or "")
    )


def _wrong_bash(p: Problem) -> str:
    return '  __w_wrong "$(__w_right "$@")"\n}\n__w_wrong() { printf \'%sx\\n\' "$1"; }\n__w_right() {\n' + (
        p.canonical_solution or ""
    )


WRONG = {"php": _wrong_php, "perl": _wrong_perl, "bash": _wrong_bash}


@pytest.mark.parametrize("language", sorted(WRONG))
def test_a_wrong_value_of_the_right_type_fails_every_problem(tmp_path: Path, language: str) -> None:
    problems = [p for p in load_suite("polyglot") if p.language == language]
    samples = [{"task_id": p.task_id, "completion": WRONG[language](p)} for p in problems]
    results = score(tmp_path, samples, "--suite", "polyglot", "--language", language)
    assert len(results) == len(problems) == 15
    assert {r["task_id"]: r["verdict"] for r in results if r["verdict"] != "failed"} == {}, [
        (r["task_id"], r["reason"]) for r in results if r["verdict"] != "failed"
    ]


# What the reason line of a wrong MultiPL-E answer says: the check, the call and what it gave.
REASONS: dict[str, tuple[str, ...]] = {
    "php": (
        "Test failed!",
        "has_close_elements([1.0,2.0,3.9,4.0,5.0,2.2],0.3) returned false",
        "tests line 6",
    ),
    "perl": ('Test failed: has_close_elements([1,2,3.9,4,5,2.2],0.3) returned ("")', "tests line 6"),
    "bash": (
        'Test failed: [[ $(candidate "1.0 2.0 3.9 4.0 5.0 2.2" "0.3") = "true" ]]',
        "tests line 9",
        "has_close_elements",
    ),
}


@pytest.mark.parametrize("language", sorted(REASONS))
def test_the_reason_names_the_failing_call(tmp_path: Path, language: str) -> None:
    suffix, _, wrong = BODIES[language]
    name = "HumanEval_0_has_close_elements"
    results: list[dict[str, Any]] = score(
        tmp_path,
        [{"task_id": name, "completion": wrong}],
        "--problems", str(MULTIPL_E / f"humaneval-{suffix}-reworded.jsonl"), "--task", name,
    )  # fmt: skip
    assert results[0]["verdict"] == "failed", results[0]
    for part in REASONS[language]:
        assert part in results[0]["reason"], results[0]["reason"]
