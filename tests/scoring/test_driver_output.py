"""The driver's fast path writes exactly the documented results, and a kill mid-run resumes exactly.

Expectations are computed here from each sample and its verdict (the record contract in
scoring/results.py), not from the code under test: a faster writer must not move one byte.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

from humaneval_lab.execution.base import Job, Outcome, Status
from humaneval_lab.execution.fake import FakeExecutor
from humaneval_lab.problems import load_problems
from humaneval_lab.records import Sample, read_samples
from humaneval_lab.scoring import ScoreSettings, score
from humaneval_lab.scoring.results import result_line, result_record

from ..conftest import write_jsonl

# completion marker -> the verdict the fake sandbox gives it
VERDICTS = {
    "PASS": Outcome(Status.PASSED, "", "", 0.123456, cpu_s=0.0123456),
    "FAIL": Outcome(Status.FAILED, "AssertionError", "Traceback...\nAssertionError\n", 0.5),
    "SLOW": Outcome(
        Status.TIMEOUT, "run exceeded the time limit", "", 3.00004, timeout="wall", cpu_s=0.50004
    ),
    "BOOM": Outcome(Status.ERROR, "", "Segmentation fault é\n", 0.01),
}


def judge(job: Job) -> Outcome:
    text = job.program.files["candidate.py"]
    return next(o for mark, o in VERDICTS.items() if mark in text)


def key_of(task_id: str, completion: str) -> str:
    h = hashlib.sha256()
    for part in (task_id, "0", completion):
        h.update(part.encode() + b"\0")
    return h.hexdigest()[:32]


def expected_line(row: dict[str, Any], line: int, index: int, timeout_s: float) -> str:
    mark = next(m for m in VERDICTS if m in row["completion"])
    o = VERDICTS[mark]
    reason = o.reason
    result = {"PASS": "passed", "SLOW": "timed out"}.get(
        mark, f"{o.status.value}: {reason}" if reason else o.status.value
    )
    if mark == "SLOW":
        reason = f"timed out after {timeout_s:.1f} s (--timeout)"
    rec = dict(row)
    rec.update(
        task_id=row["task_id"], sample_index=index, line=line, language="python", passed=mark == "PASS",
        result=result, verdict=o.status.value, reason=reason, stderr_tail=o.stderr_tail,
        duration_s=round(o.duration_s, 4), cpu_s=round(o.cpu_s, 4),
        dedup_key=key_of(row["task_id"], row["completion"]), hash_seed=0,
    )  # fmt: skip
    if o.timeout:
        rec["timeout"] = o.timeout  # last, and only on a timeout
    return json.dumps(rec, ensure_ascii=False) + "\n"


def mixed_rows(n_problems: int, per_problem: int) -> list[dict[str, Any]]:
    """Every verdict kind, duplicates (judged once, written twice), extra fields kept in place, a
    field named like a result field (overwritten where it stands), non-ASCII text."""
    rows = []
    for p in load_problems().select(limit=n_problems):
        for j in range(per_problem):
            mark = list(VERDICTS)[j % len(VERDICTS)]
            row: dict[str, Any] = {
                "task_id": p.task_id,
                "completion": f"    # {mark} ünï {j % 7}\n    return 1\n",
            }
            if j % 3 == 0:
                row = {"model": "m-é", **row, "passed": "stale", "extra": [j, {"x": None}]}
            elif j % 5 == 0:
                row = {**row, "sample_index": j, "seed": 2**40}  # its own index (= its ordinal here)
            rows.append(row)
    return rows


def test_results_are_byte_for_byte_the_record_contract(tmp_path: Path) -> None:
    rows = mixed_rows(6, 40)
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    ps = load_problems().select(limit=6)
    ex = FakeExecutor(judge)
    summary = score(read_samples(path, ps), ps, ex, tmp_path / "out", ScoreSettings(ks=(1,), timeout_s=3.0),
                    samples_path=path)  # fmt: skip
    per: dict[str, int] = {}
    want = []
    for line, row in enumerate(rows, 1):
        index = per.get(row["task_id"], 0)
        per[row["task_id"]] = index + 1
        want.append(expected_line(row, line, index, 3.0))
    assert (tmp_path / "out" / "results.jsonl").read_text(encoding="utf-8") == "".join(want)
    distinct = {key_of(r["task_id"], r["completion"]) for r in rows}
    assert sorted(ex.executed) == sorted(distinct)  # each distinct sample judged once
    assert summary.verdicts == {"passed": 60, "failed": 60, "timeout": 60, "error": 60}
    # The summary's counts: overall sorted, per problem in the order of their first sample (the bytes
    # of summary.json depend on it).
    data = json.loads((tmp_path / "out" / "summary.json").read_text())
    status_of = {m: o.status.value for m, o in VERDICTS.items()}
    firsts: dict[str, dict[str, int]] = {}
    overall: dict[str, int] = {}
    for row in rows:
        v = status_of[next(m for m in VERDICTS if m in row["completion"])]
        per = firsts.setdefault(row["task_id"], {})
        per[v] = per.get(v, 0) + 1
        overall[v] = overall.get(v, 0) + 1
    assert list(data["verdicts"].items()) == sorted(overall.items())
    got = {t: list(row["verdicts"].items()) for t, row in data["problems"].items()}
    assert got == {t: list(per.items()) for t, per in firsts.items()}


_CHILD = """
import sys, time
from pathlib import Path
from humaneval_lab.execution.base import Outcome, Status
from humaneval_lab.execution.fake import FakeExecutor
from humaneval_lab.problems import load_problems
from humaneval_lab.records import read_samples
from humaneval_lab.records import Sample
from humaneval_lab.scoring import ScoreSettings, score
from humaneval_lab.scoring.results import result_line, result_record

def judge(job):
    time.sleep(0.002)  # slow enough to be killed mid-run
    return Outcome(Status.PASSED if "PASS" in job.program.files["candidate.py"] else Status.FAILED, "", "", 0.25)

ps = load_problems().select(limit=6)
path = Path(sys.argv[1])
score(read_samples(path, ps), ps, FakeExecutor(judge), sys.argv[2], ScoreSettings(ks=(1,)), samples_path=path)
"""


def test_sigkill_mid_run_then_resume_judges_exactly_what_is_not_on_disk(tmp_path: Path) -> None:
    rows = [{"task_id": r["task_id"], "completion": r["completion"].replace("SLOW", "PASS").replace("BOOM", "FAIL")
             + f"# {i}\n"} for i, r in enumerate(mixed_rows(6, 500))]  # fmt: skip
    path = write_jsonl(tmp_path / "s.jsonl", rows)
    out = tmp_path / "out"
    results = out / "results.jsonl"
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(_CHILD), str(path), str(out)])
    try:
        deadline = time.monotonic() + 120
        while not (results.exists() and results.stat().st_size > 20_000):
            assert child.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    assert child.returncode == -signal.SIGKILL
    raw = results.read_bytes()
    whole = raw.count(b"\n")
    assert 0 < whole < len(rows)  # killed mid-run
    ps = load_problems().select(limit=6)

    def judge(job: Job) -> Outcome:
        return Outcome(
            Status.PASSED if "PASS" in job.program.files["candidate.py"] else Status.FAILED, "", "", 0.25
        )

    ex = FakeExecutor(judge)
    score(read_samples(path, ps), ps, ex, out, ScoreSettings(ks=(1,)), samples_path=path)
    # Exactly the samples whose lines were not (whole) on disk are judged again, none twice.
    assert ex.executed == [key_of(r["task_id"], r["completion"]) for r in rows[whole:]]
    fresh = tmp_path / "fresh"
    score(read_samples(path, ps), ps, FakeExecutor(judge), fresh, ScoreSettings(ks=(1,)), samples_path=path)
    assert results.read_bytes() == (fresh / "results.jsonl").read_bytes()
    assert raw[: raw.rindex(b"\n") + 1] == results.read_bytes()[: raw.rindex(b"\n") + 1]


def test_result_line_is_the_record_encoded_whatever_the_fields_hold() -> None:
    from types import MappingProxyType

    p = load_problems().select(limit=1).problems[0]
    odd = [
        {"task_id": p.task_id, "completion": "x"},
        {"completion": "x"},  # no task_id among the fields
        {"task_id": "other", "completion": "x"},  # a field that differs from the sample's task
        {"task_id": p.task_id, "sample_index": 7, "completion": "x"},  # its own index, not ours
        {"task_id": p.task_id, "sample_index": True, "completion": "x"},
        {"task_id": p.task_id, "verdict": "x", "hash_seed": None},
        {1: "int key", "task_id": p.task_id, "\u2028": "\ud800"},
        MappingProxyType({"task_id": p.task_id}),
        {},
    ]
    outcomes = [
        Outcome(Status.PASSED),
        Outcome(Status.FAILED, 'a\nb "q" é', "\x00\x1f", 1e-7),
        Outcome(Status.TIMEOUT, "", "", float("inf"), timeout="wall", cpu_s=float("nan")),
        Outcome(Status.ERROR, "", "", -0.0),
    ]
    for fields in odd:
        for o in outcomes:
            s = Sample(p.task_id, "x", False, fields, 3)
            rec = result_record(s, 1, 3, p, "k" * 32, o, 12)
            assert result_line(s, 1, 3, p, "k" * 32, o, 12) == json.dumps(rec, ensure_ascii=False) + "\n"


def test_durations_are_written_as_the_record_rounds_them_whatever_their_value() -> None:
    """The fast line writes round(x, 4) without calling round: every value must come out the same,
    ties at the fifth decimal (exact in binary: k/32), long decimals, large, tiny and negative ones
    (and the bound where the fast path hands over to the record's encoder) included."""
    import random

    rng = random.Random(14)
    values = [k / 32 for k in range(0, 4000)] + [k / 10**5 for k in range(0, 20000, 7)]
    values += [10 ** rng.uniform(-7, 9.7) for _ in range(20000)] + [rng.random() for _ in range(5000)]
    values += [2.0**32 - 1e-4, 2.0**32 - 0.5, 2.0**32, 2.0**32 + 1, 1e300, 5e-05, 0.00015, 0.99995, 9.99995]
    values += [-0.0, -1e-7, -0.00005, -2.5]
    p = load_problems().select(limit=1).problems[0]
    s = Sample(p.task_id, "x", False, {"task_id": p.task_id, "completion": "x"}, 3)
    for i, x in enumerate(values):
        o = Outcome(Status.PASSED, "", "", x, cpu_s=values[-1 - i])
        rec = result_record(s, 1, 3, p, "k" * 32, o, 12)
        assert result_line(s, 1, 3, p, "k" * 32, o, 12) == json.dumps(rec, ensure_ascii=False) + "\n", x
