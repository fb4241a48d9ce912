"""MBPP: Google's ``mbpp.jsonl`` (974 tasks) and ``sanitized-mbpp.json`` (427), and MBPP+'s
``MbppPlus-OriginFmt.jsonl.gz`` (sanitized fields plus a ``test`` script), read as they are.

Task ids are ``Mbpp/<n>`` as in MBPP+, so one samples file can be judged against each. The prompt
is built the standard way (EvalPlus's MBPP+ prompt): a docstring holding the task's description and
its first test as an example; the model writes the whole function, and the code under test is
prompt + completion. The tests are the task's asserts (after ``test_setup_code`` / ``test_imports``)
or, for OriginFmt, its ``test`` script.

Splits of ``mbpp.jsonl`` (Google's README): 1-10 prompt (few-shot), 11-510 test, 511-600 validation,
601-974 train. The test split is the default; the split used is recorded in the suite's identity.
"""

from __future__ import annotations

import ast
import builtins
import warnings
from pathlib import Path
from typing import Any

from humaneval_lab.errors import InputFileError, UserInputError
from humaneval_lab.problems import Problem

SPLITS: dict[str, tuple[int, int]] = {
    "prompt": (1, 10),
    "test": (11, 510),
    "validation": (511, 600),
    "train": (601, 974),
    "all": (1, 1 << 30),
}


def is_mbpp(rec: Any) -> bool:
    return isinstance(rec, dict) and {"task_id", "text", "code", "test_list"} <= rec.keys()


def is_sanitized(rec: Any) -> bool:
    return isinstance(rec, dict) and {"task_id", "prompt", "code", "test_list"} <= rec.keys()


def split_range(split: str) -> tuple[int, int]:
    try:
        return SPLITS[split]
    except KeyError:
        raise UserInputError(f"unknown MBPP split {split!r} (known: {', '.join(SPLITS)})") from None


def _parse(code: str) -> ast.Module | None:
    """The syntax tree (parsing runs nothing), quietly: MBPP's code has invalid escapes ("\\d")."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return ast.parse(code)
        except SyntaxError:
            return None


def _top_level_names(code: str) -> tuple[list[str], set[str]]:
    """(functions defined at top level in order, every other top-level name) of ``code``."""
    tree = _parse(code)
    if tree is None:
        return [], set()
    funcs: list[str] = []
    others: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            funcs.append(node.name)
        elif isinstance(node, ast.ClassDef):
            others.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            others.update(t.id for t in targets if isinstance(t, ast.Name))
    return funcs, others


def _free_names(tests: str) -> set[str] | None:
    """Names the tests read and do not define or import themselves (None: they do not parse)."""
    tree = _parse(tests)
    if tree is None:
        return None
    read: set[str] = set()
    bound = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            bound.add(node.name)
    return read - bound


def _entry_and_isolation(code: str, tests: str) -> tuple[str, bool]:
    """The function the tests call, and whether they call nothing else of the solution's: only then
    can they run in their own process against the candidate's entry point (values crossing by value);
    otherwise (they build the solution's classes, call helpers) they run in-process, as MBPP does."""
    funcs, others = _top_level_names(code)
    free = _free_names(tests)
    used = [f for f in funcs if free is not None and f in free]
    entry = used[0] if used else (funcs[-1] if funcs else "")
    isolated = free is not None and bool(entry) and free == {entry} and not (others & free)
    return entry, isolated


def _prompt(description: str, first_test: str) -> str:
    return f'"""\n{description.strip()}\n{first_test.strip()}\n"""\n'


def _strings(path: Path, line: int, rec: dict[str, Any], name: str) -> list[str]:
    v = rec.get(name)
    if not isinstance(v, list) or not v or not all(isinstance(x, str) for x in v):
        raise InputFileError(path, f"field {name!r} must be a non-empty list of strings", line=line)
    return v


def _number(path: Path, line: int, rec: dict[str, Any]) -> int:
    n = rec.get("task_id")
    if isinstance(n, bool) or not isinstance(n, int):
        raise InputFileError(path, "field 'task_id' must be an integer", line=line)
    return n


def _problem(
    n: int, description: str, code: str, tests: str, first: str, fmt: str, extras: dict[str, Any]
) -> Problem:
    entry, isolated = _entry_and_isolation(code, tests)
    return Problem(
        task_id=f"Mbpp/{n}",
        language="python",
        prompt=_prompt(description, first),
        tests=tests,
        entry_point=entry,
        canonical_solution=code.replace("\r\n", "\n"),
        source_format=fmt,
        extras={**extras, "python_isolation": isolated},
    )


def read_mbpp(path: Path, line: int, rec: dict[str, Any]) -> Problem:
    """One record of ``mbpp.jsonl``: tests = ``test_setup_code`` + ``test_list``."""
    n = _number(path, line, rec)
    asserts = _strings(path, line, rec, "test_list")
    setup = rec.get("test_setup_code") or ""
    tests = (setup.replace("\r\n", "\n") + "\n" if setup.strip() else "") + "\n".join(asserts) + "\n"
    extras = {"challenge_test_list": rec.get("challenge_test_list") or []}
    return _problem(n, str(rec["text"]), str(rec["code"]), tests, asserts[0], "mbpp", extras)


def read_sanitized(path: Path, line: int, rec: dict[str, Any]) -> Problem:
    """One record of ``sanitized-mbpp.json`` (tests = ``test_imports`` + ``test_list``) or of
    ``MbppPlus-OriginFmt`` (tests = ``test_imports`` + its ``test`` script)."""
    n = _number(path, line, rec)
    asserts = _strings(path, line, rec, "test_list")
    imports = rec.get("test_imports") or []
    head = "".join(f"{i}\n" for i in imports if isinstance(i, str))
    origin = isinstance(rec.get("test"), str)
    body = rec["test"] if origin else "\n".join(asserts) + "\n"
    fmt = "mbpp+-originfmt" if origin else "mbpp-sanitized"
    return _problem(n, str(rec["prompt"]), str(rec["code"]), head + body, asserts[0], fmt, {})
