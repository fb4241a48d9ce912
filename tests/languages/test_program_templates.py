"""A problem's program template makes exactly the program the spec documents, for every sample.

``JobCatalog.build`` (the one place a plain run and a ``--ray`` node make jobs) fills in each
problem's template instead of building every program anew. The expected programs here are written
out from the Python layout the spec documents (the isolated driver and its files; the in-process
file), not taken from the template code, and compared field by field and on the wire (file order
included), over whole real problem sets: HumanEval, HumanEval-X, MBPP (isolated and in-process
problems) and HumanEval+.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from humaneval_lab.execution.base import Job, Limits, Program
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.languages import python as py
from humaneval_lab.languages.base import ProgramTemplate
from humaneval_lab.problems import Problem, ProblemSet, load_problems
from humaneval_lab.scoring.jobs import JobCatalog
from humaneval_lab.scoring.settings import ScoreSettings

COMPLETIONS = [
    "    return 1\n",
    "",
    "    return 'ünï \\u2028 \"q\"'\n# trailing\n",
    py._HUMANEVAL_X_IMPORTS + "    pass\n",  # text the template itself holds, in the sample
]


def documented_program(problem: Problem, source: str) -> Program:
    """The Python program of ``source``, as the spec's docstring lays it out."""
    head = py._HUMANEVAL_X_IMPORTS if problem.source_format == "humaneval-x" else ""
    code = problem.tests + (
        f"\n\ncheck({problem.entry_point})\n" if problem.source_format == "human-eval" else ""
    )
    if py.isolated(problem):
        tests = {"entry_point": problem.entry_point, "prelude": head + problem.prompt, "tests": code}
        return Program(
            language="python",
            files={
                "hel_pydriver.py": py.driver_source(),
                "hel_pytests.py": py.driver_source("hel_pytests.py"),
                "candidate.py": head + source,
                "tests.json": json.dumps(tests),
            },
            run=("python3", "-I", "hel_pydriver.py", "candidate.py", "tests.json"),
            failure_markers=("AssertionError", "CandidateFailed"),
            harness="hel_pydriver.py",
        )
    return Program(
        language="python",
        files={"main.py": py._PROLOGUE + head + source + "\n" + code + py._EPILOGUE},
        run=("python3", "-I", "main.py"),
        failure_markers=("AssertionError",),
    )


def wire(job: Job) -> str:
    return json.dumps(job.to_wire())  # file order included: the runner writes them in this order


def python_sets(datasets: Path) -> list[ProblemSet]:
    return [
        load_problems(suite="humaneval"),
        load_problems(path=datasets / "humaneval-x" / "humaneval_python.jsonl.gz"),
        load_problems(path=datasets / "mbpp" / "mbpp.jsonl"),
        load_problems(path=datasets / "humaneval-plus" / "HumanEvalPlus.jsonl.gz"),
        load_problems(path=datasets / "multipl-e" / "humaneval-py-reworded.jsonl"),
    ]


def test_every_python_job_is_the_documented_program(datasets: Path) -> None:
    limits = Limits(timeout_s=7.0, cpu_time_s=3.0)
    kinds = set()
    for ps in python_sets(datasets):
        catalog = JobCatalog(ps.by_id, {p.task_id: limits for p in ps}, ScoreSettings(ks=(1,)))
        for n, problem in enumerate(ps):
            kinds.add((problem.source_format, py.isolated(problem)))
            for i, completion in enumerate(COMPLETIONS):
                whole = i % 2 == 1 and n % 3 == 0  # some samples carry their prompt
                text = problem.prompt + completion if whole else completion
                seed = (n * 7919 + i) % (1 << 32)
                item = (f"k{n}-{i}", problem.task_id, text, whole, seed, {}, i, n + 1)
                job = catalog.build(item)
                want = Job(
                    f"k{n}-{i}", documented_program(problem, problem.prompt + completion), limits, seed
                )
                assert job == want, (ps.name, problem.task_id, i)
                assert wire(job) == wire(want), (ps.name, problem.task_id, i)
                # and the spec's own build, which other callers use, is the same program
                assert get_language("python").build(problem, source_of(problem, text, whole)) == want.program
    # every layout was met: human-eval, HumanEval-X's imports, MBPP's in-process ones, EvalPlus
    assert {("human-eval", True), ("humaneval-x", True), ("mbpp", True), ("mbpp", False)} <= kinds
    assert {("evalplus", True), ("multipl-e", True)} <= kinds


def test_programs_of_one_template_share_nothing_mutable() -> None:
    problem = load_problems(suite="humaneval").problems[0]
    maker = get_language("python").program_maker(problem)
    a, b = maker("    return 1\n"), maker("    return 2\n")
    assert a.files["candidate.py"] != b.files["candidate.py"]
    assert a.files is not b.files and a.env is not b.env and a.judge_files is not b.judge_files
    assert list(a.files) == ["hel_pydriver.py", "hel_pytests.py", "candidate.py", "tests.json"]


def test_with_files_is_replace_and_job_of_is_the_constructor() -> None:
    p = Program("lua", {"a": "1", "b": "2"}, ("lua", "a"), (("luac", "a"),), {"E": "1"}, ("X",), True,
                None, ("judge",), {"j": "3"})  # fmt: skip
    q = p.with_files({"a": "9", "b": "2"})
    assert q == dataclasses.replace(p, files={"a": "9", "b": "2"})
    assert q.env == p.env and q.env is not p.env and q.judge_files is not p.judge_files
    assert Job.of("id", p, Limits(), 5) == Job("id", p, Limits(), 5)
    assert Job.of("id", p, Limits(), None) == Job("id", p, Limits(), None)
    for bad in (-1, 1 << 32):
        with pytest.raises(ValueError, match=r"hash_seed must be in \[0, 2\*\*32\)"):
            Job.of("id", p, Limits(), bad)
        with pytest.raises(ValueError, match=r"hash_seed must be in \[0, 2\*\*32\)"):
            Job("id", p, Limits(), bad)


def test_a_template_whose_open_file_is_not_head_and_tail_is_refused() -> None:
    p = Program("python", {"main.py": "head-tail"}, ("python3", "main.py"))
    assert ProgramTemplate(p, "main.py", "head-", "tail").fill("X").files == {"main.py": "head-Xtail"}
    with pytest.raises(ValueError, match="not its head and tail"):
        ProgramTemplate(p, "main.py", "head", "")
    with pytest.raises(ValueError, match="not its head and tail"):
        ProgramTemplate(p, "other.py")


def test_a_spec_without_a_template_builds_each_program(datasets: Path) -> None:
    ps = load_problems(path=datasets / "multipl-e" / "humaneval-lua-reworded.jsonl").select(limit=5)
    spec = get_language("lua")
    assert spec.template is None
    catalog = JobCatalog(ps.by_id, {p.task_id: Limits() for p in ps}, ScoreSettings(ks=(1,)))
    for n, problem in enumerate(ps):
        item = (f"k{n}", problem.task_id, "  return 1\nend\n", False, 3, {}, 0, 1)
        want = Job(f"k{n}", spec.build(problem, problem.prompt + "  return 1\nend\n"), Limits(), 3)
        assert catalog.build(item) == want and wire(catalog.build(item)) == wire(want)
