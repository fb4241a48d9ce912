"""Score samples: dedup, execute, stream verdicts to disk in sample order, resume, aggregate.

::

    scoring/
      __init__.py   score(): validate, plan, calibrate, pull jobs lazily through the executor, write
      settings.py   ScoreSettings (what can change a verdict) and LimitsPolicy (each problem's limit)
      calibrate.py  per-problem limits from the canonical solutions, kept in calibration.json
      results.py    the output folder: results.jsonl records, manifest, the resume check
      summary.py    Summary and summarize(): exact pass@k per problem, language and overall

Jobs are built lazily: ``score`` hands the executor a generator, and the executor pulls a few jobs
per worker ahead, so the programs built at any moment stay bounded however many samples there are
(a million samples hold a million small outcomes, never a million programs).

Samples whose task is outside ``problems`` (a ``--limit``/``--language``/``--task`` selection) are
skipped and counted; callers check first that every task exists at all (``read_samples`` against the
whole problem set).
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from humaneval_lab.errors import InfrastructureError, InputFileError, PassAtKError, UserInputError
from humaneval_lab.execution.base import Executor, Outcome, Status
from humaneval_lab.languages import get_language
from humaneval_lab.passk import Counts, usable_ks
from humaneval_lab.problems import ProblemSet
from humaneval_lab.records import Sample, file_sha256
from humaneval_lab.resume import JsonlWriter, truncate_to_lines, write_json_atomic
from humaneval_lab.scoring.calibrate import CALIBRATION, CalibrationPolicy, limits_policy_doc
from humaneval_lab.scoring.jobs import Item, ItemExecutor, JobCatalog
from humaneval_lab.scoring.results import (
    FIXED_HASH_SEED,
    MANIFEST,
    RESULTS,
    SUMMARY,
    dedup_key,
    hash_seed_of,
    prepare_output,
    result_line,
    result_record,
    sample_indices,
)
from humaneval_lab.scoring.settings import DEFAULT_KS, LimitsPolicy, ScoreSettings
from humaneval_lab.scoring.summary import Summary, harness_info, summarize

__all__ = [
    "CALIBRATION",
    "DEFAULT_KS",
    "FIXED_HASH_SEED",
    "MANIFEST",
    "RESULTS",
    "SUMMARY",
    "CalibrationPolicy",
    "LimitsPolicy",
    "ScoreSettings",
    "Summary",
    "dedup_key",
    "hash_seed_of",
    "result_record",
    "sample_indices",
    "score",
    "summarize",
]


FLUSH_INTERVAL_S = 0.05  # results.jsonl is flushed at most this often (and at the end)
PROGRESS_INTERVAL_S = 0.1  # progress(done, total) at most this often (and at the start and the end)


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


def _usable_ks(samples: Sequence[Sample], settings: ScoreSettings) -> tuple[list[int], list[int]]:
    """(ks to report, ks dropped because some problem has fewer samples); PassAtKError when a k the
    user asked for cannot be honest, or none can."""
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
    return list(keep), list(dropped)


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
    calibration: CalibrationPolicy | None = None,
) -> Summary:
    """Judge every sample of a task in ``problems`` and write results.jsonl, manifest.json and
    summary.json into ``out_dir``.

    Samples of other tasks are skipped and counted (``problems`` is a selection); the counts in
    ``executions`` add up to ``len(samples)``. ``name`` and ``model`` (see ``records.model_info``)
    go into the summary. ``overwrite``: start afresh instead of resuming (or refusing) an output
    folder made with other inputs or settings. Inputs are validated before anything is written;
    ``on_start`` is called once they are, just before the first execution.

    Time limits: see LimitsPolicy (``settings.calibrated``: measured on ``executor`` with
    ``calibration``, once per output folder, before the first sample runs; kept in calibration.json).
    The summary and manifest record ``executor.describe()``: a resume on another sandbox is refused.
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
    keep, dropped = _usable_ks(samples, settings)
    for lang in problems.languages:
        get_language(lang)  # fail fast on a language without a runner

    keys = [dedup_key(s) for s in samples]
    samples_sha = (
        file_sha256(Path(samples_path))
        if samples_path
        else hashlib.sha256("\n".join(keys).encode()).hexdigest()
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
        # How each problem's limits are made (the limits themselves: calibration.json). Not compared
        # on resume: calibration.json's own policy check refuses a folder measured otherwise.
        "limits_policy": limits_policy_doc(settings, calibration),
        # Only to say what changed when a resume is refused; the hashes above decide.
        "problem_set": problem_set_info,
        "samples": {"path": str(samples_path) if samples_path else None, "sha256": samples_sha[:12]},
    }
    outcomes, kept = prepare_output(out, manifest, samples, indices, keys, overwrite)
    truncate_to_lines(out / RESULTS, kept)

    if on_start:
        on_start()
    policy = LimitsPolicy(settings, problems, executor, out, calibration)
    to_run = any(keys[i] not in outcomes for i in range(kept, len(samples)))
    if to_run:
        policy.prepare()  # before the run: calibration runs on the same executor
    per_sample = settings.hash_seeds == "per-sample"
    seeds = [hash_seed_of(k, per_sample) for k in keys] if per_sample else None
    # dedup key -> the sample's position, for jobs handed out and not yet judged
    in_flight: dict[str, int] = {}
    executed = 0
    # What every job shares, made once per problem, not per sample (the driver carries tens of
    # thousands of samples a second): its problem and its limits (the language spec: JobCatalog).
    catalog = JobCatalog(by_id, {t: policy.limits(p) for t, p in by_id.items()} if to_run else {}, settings)
    limits_of = catalog.limits

    def items() -> Iterator[Item]:
        """One item per distinct sample not judged yet, made only when the executor asks for it."""
        nonlocal executed
        for i in range(kept, len(samples)):
            k = keys[i]
            if k in outcomes or k in in_flight:
                continue  # judged already (kept, or an identical sample), or on its way
            s = samples[i]
            in_flight[k] = i
            executed += 1
            seed = seeds[i] if seeds else FIXED_HASH_SEED
            yield (k, s.task_id, s.completion, s.includes_prompt, seed, s.fields, indices[i], s.line or i + 1)

    made: dict[int, str] = {}  # result lines an ItemExecutor made, by sample position, not yet written
    done_count = kept
    if progress:
        progress(done_count, len(samples))
    last_progress = time.monotonic()
    # Lines are flushed in blocks (FLUSH_INTERVAL_S): a kill loses at most the lines of the last
    # block, which the resume does not find on disk and judges again (see JsonlWriter).
    with JsonlWriter(out / RESULTS, flush_interval_s=FLUSH_INTERVAL_S) as writer:
        next_i = kept

        def flush_ready() -> None:
            nonlocal next_i, done_count, last_progress
            if next_i < len(samples) and keys[next_i] not in outcomes:
                return  # the next line in order is not judged yet: nothing to write
            i, total, block = next_i, len(samples), []
            while i < total and keys[i] in outcomes:
                text = made.pop(i, "") if made else ""
                if not text:  # judged here, kept from an earlier run, or an identical sample
                    s, k = samples[i], keys[i]
                    seed = seeds[i] if seeds else FIXED_HASH_SEED
                    text = result_line(s, indices[i], s.line or i + 1, by_id[s.task_id], k, outcomes[k], seed)
                block.append(text)
                i += 1
            writer.write_lines(block)  # the lines ready now, in order, in one write
            done_count += i - next_i
            next_i = i
            # A progress line costs more than a verdict; a few updates a second are enough to watch.
            now = time.monotonic()
            if progress and (now - last_progress >= PROGRESS_INTERVAL_S or done_count == len(samples)):
                progress(done_count, len(samples))
                last_progress = now

        flush_ready()

        def accept(job_id: str, outcome: Outcome) -> int:
            """Keep a verdict; the position of the sample it was judged for."""
            i = in_flight.pop(job_id, None)
            if i is None:
                raise InfrastructureError(f"executor {executor.name} returned a verdict for an unknown job")
            if outcome.status is Status.TIMEOUT:  # only a timeout's reason is worded (explain_timeout)
                outcome = policy.explain_timeout(outcome, limits_of[samples[i].task_id])
            outcomes[job_id] = outcome
            return i

        # An executor that builds jobs itself (--ray: on its nodes) gets the items and returns
        # verdicts in batches, each with its result line (JobCatalog.result_line: the same bytes as
        # written here), and what is ready is written once per batch; any other gets the jobs,
        # built here as it pulls them (the same JobCatalog.build).
        if isinstance(executor, ItemExecutor):
            for batch in executor.run_items(catalog, items()):
                for job_id, outcome, text in batch:
                    made[accept(job_id, outcome)] = text
                flush_ready()
        else:
            for job_id, outcome in executor.run(catalog.build_all(items())):
                accept(job_id, outcome)
                flush_ready()
        if next_i != len(samples):
            raise InfrastructureError(f"executor {executor.name} returned no verdict for sample {next_i}")

    # Who judges, as of the end: a --ray run's nodes may have joined (or been lost) since the start.
    # Only which machines judged may differ (what_changed does not match them), so the manifest is
    # rewritten with them and the summary records them.
    final_sandbox = executor.describe()
    if final_sandbox != sandbox:
        sandbox = manifest["sandbox"] = final_sandbox
        write_json_atomic(out / MANIFEST, manifest, sort_keys=True)
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
