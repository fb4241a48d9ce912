"""What timeouts cost: HumanEval canonical samples with 2% infinite loops, CPU-time limits vs wall only.

    python benchmarks/bench_timeouts.py [--copies 2] [--jobs N] [--rounds 2] [--cpu 0.5] [--wall 5]

Both policies judge the same samples file through ``score`` in the Docker sandbox, in the same run,
with the same workers, alternating for ``--rounds`` rounds (a shared machine's speed drifts) and
each one's best round counts:

- wall only (before): every job gets the wall-clock limit ``--wall`` (5 s: the calibrated floor
  every HumanEval problem gets), so each loop costs all of it;
- CPU time (now): the same wall limit, plus ``--cpu`` seconds of CPU time for the job's process tree
  (0.5 s: the calibrated floor every HumanEval problem gets), so a loop costs about that.

Prints, per policy, samples/s, the job-seconds spent in timeouts and their share of all job-seconds,
the ratio of the two rates, and the canonical samples' CPU time as the runner counted it (the
numbers the calibration's factor and floor rest on). Every canonical sample must pass under both
policies and every loop must time out: else it exits 1. Under CPU limits a loop is a ``cpu`` timeout,
unless the box is so loaded that it got less than ``--cpu`` of CPU within ``--wall`` (then a ``wall``
one, said in a note). On a loaded box the wall-only loops are starved too and so judged again alone
(as every wall timeout of a job that computed under half its time is): their cost then doubles.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

LOOP = "    while True:\n        pass\n"


def write_samples(path: Path, copies: int, loop_share: float) -> tuple[int, int]:
    """Canonical solutions x ``copies`` (each copy differs by a comment: no deduplication), and
    infinite loops spread evenly among them, ``loop_share`` of the whole."""
    from humaneval_lab.problems import load_problems

    problems = list(load_problems())
    rows = [{"task_id": p.task_id, "completion": f"{p.canonical_solution}\n# copy {i}\n"}
            for i in range(copies) for p in problems]  # fmt: skip
    loops = max(1, round(loop_share * len(rows) / (1 - loop_share)))
    step = len(rows) // loops
    for j in range(loops):
        p = problems[(j * 37) % len(problems)]
        rows.insert(j * (step + 1), {"task_id": p.task_id, "completion": f"{LOOP}# loop {j}\n"})
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return len(rows) - loops, loops


def run_policy(samples: Path, out: Path, jobs: int, wall: float, cpu: float | None) -> dict[str, float]:
    from humaneval_lab.execution.docker import DockerConfig, DockerExecutor
    from humaneval_lab.problems import load_problems
    from humaneval_lab.records import read_samples
    from humaneval_lab.scoring import ScoreSettings, score

    ps = load_problems()
    ss = read_samples(samples, ps)
    settings = ScoreSettings(ks=(1,), jobs=jobs, timeout_s=wall, cpu_timeout_s=cpu)
    start = time.perf_counter()
    ex = DockerExecutor(config=DockerConfig(jobs=jobs))
    try:
        score(ss, ps, ex, out, settings)
    finally:
        ex.close()
    elapsed = time.perf_counter() - start
    rows = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    loops = [r for r in rows if r["completion"].startswith(LOOP)]
    canon = [r for r in rows if not r["completion"].startswith(LOOP)]
    timeouts = [r for r in rows if r["verdict"] == "timeout"]
    job_s = sum(r["duration_s"] for r in rows)
    return {
        "elapsed_s": elapsed,
        "rate": len(rows) / elapsed,
        "job_s": job_s,
        "timeout_job_s": sum(r["duration_s"] for r in timeouts),
        "canonical_failed": sum(not r["passed"] for r in canon),
        "loops_not_timeout": sum(r["verdict"] != "timeout" for r in loops),
        "loops_cpu": sum(r.get("timeout") == "cpu" for r in loops),
        "loop_wall_s": statistics.mean(r["duration_s"] for r in loops),
        "loop_cpu_s": statistics.mean(r["cpu_s"] for r in loops),
        "canon_cpu": [r["cpu_s"] for r in canon],  # type: ignore[dict-item]
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--copies", type=int, default=2)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--loops", type=float, default=0.02, help="share of infinite loops (default 2%%)")
    ap.add_argument("--wall", type=float, default=5.0)
    ap.add_argument("--cpu", type=float, default=0.5)
    a = ap.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        samples = Path(tmp) / "samples.jsonl"
        n_canon, n_loops = write_samples(samples, a.copies, a.loops)
        print(f"{n_canon} canonical samples + {n_loops} infinite loops, {a.jobs} workers, "
              f"wall {a.wall:g} s, CPU {a.cpu:g} s", flush=True)  # fmt: skip
        best: dict[str, dict[str, float]] = {}
        for r in range(a.rounds):
            for name, cpu in (("wall only", None), ("cpu time", a.cpu)):
                res = run_policy(samples, Path(tmp) / f"{r}-{name.replace(' ', '-')}", a.jobs, a.wall, cpu)
                share = res["timeout_job_s"] / res["job_s"] if res["job_s"] else 0.0
                print(f"round {r + 1} {name:9}: {res['rate']:6.2f} samples/s, {res['elapsed_s']:6.1f} s, "
                      f"timeouts {res['timeout_job_s']:6.1f} of {res['job_s']:6.1f} job-s ({share:.0%}); "
                      f"a loop: {res['loop_wall_s']:.2f} s wall, {res['loop_cpu_s']:.2f} s CPU",
                      flush=True)  # fmt: skip
                if res["canonical_failed"] or res["loops_not_timeout"]:
                    print(f"  WRONG: {res['canonical_failed']} canonical failed, "
                          f"{res['loops_not_timeout']} loops did not time out")  # fmt: skip
                    ok = False
                if cpu is not None and res["loops_cpu"] != n_loops:
                    # Right on a starved box: a loop that got under --cpu of CPU in --wall seconds is
                    # a wall timeout (judged again alone first).
                    print(f"  note: {n_loops - res['loops_cpu']} of {n_loops} loops got under {a.cpu:g} s "
                          f"of CPU in {a.wall:g} s (a loaded box): wall timeouts")  # fmt: skip
                if name not in best or res["rate"] > best[name]["rate"]:
                    best[name] = res
    old, new = best["wall only"], best["cpu time"]
    print(f"best: wall only {old['rate']:.2f} samples/s, cpu time {new['rate']:.2f} samples/s: "
          f"{new['rate'] / old['rate']:.2f}x")  # fmt: skip
    cpu_s = sorted(new["canon_cpu"])  # type: ignore[arg-type]
    q = statistics.quantiles(cpu_s, n=100)
    print(f"canonical CPU time per sample (runner's count): median {statistics.median(cpu_s) * 1000:.0f} ms, "
          f"p99 {q[98] * 1000:.0f} ms, max {cpu_s[-1] * 1000:.0f} ms (limit {a.cpu:g} s)")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
