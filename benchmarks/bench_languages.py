"""Samples/s per HumanEval-X language: our sandbox next to a naive recipe, measured in the same run.

Ours: ``make_executor(--sandbox)`` (warm container, per-language flags, prebuilt crates, seeded Go
cache). Naive: one fresh ``docker exec`` per sample in a container of the same image, running the
CodeGeeX-style commands (g++ then ./a.out; javac then java; node; go test with an empty build cache;
rustc --test then the test binary), with the program written into a fresh directory.

    python benchmarks/bench_languages.py [--image IMAGE] [-n 20] [-j 2] [--language cpp ...]
    python benchmarks/bench_languages.py --sandbox local --naive local   # no Docker: smoke test only

Prints one line per language: samples/s for both and the ratio. No number here is asserted anywhere.
"""

from __future__ import annotations

import argparse
import base64
import shlex
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from humaneval_lab.execution import make_executor
from humaneval_lab.execution.base import Job, Limits
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.problems import Problem, read_problem_file

DATA = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "humaneval-x"
FILES = {"cpp": "cpp", "java": "java", "javascript": "js", "go": "go", "rust": "rust", "python": "python"}
DEPS = "/opt/humaneval-lab/rust-template/target/debug/deps"

# The naive recipe per language: shell run in a fresh directory holding main.* (the same program our
# spec assembles, so both sides judge identical code); the token line is fed on stdin as ours does.
NAIVE = {
    # Our two C++ units linked the plain way (a prompt's helper is in both: the first one is kept).
    "cpp": "g++ -std=c++11 -o a.out trusted.cpp cand.cpp -Wl,--allow-multiple-definition -lcrypto && ./a.out",
    "java": "javac -cp .:/usr/share/java/javatuples.jar -d . *.java tests/*.java "
    "&& java -ea -cp . org.humaneval_lab.judge.HelMain",
    # One file, prompt + completion + tests, as a naive harness runs it (ours: two processes).
    "javascript": "node -e \"const fs = require('fs'); const t = JSON.parse(fs.readFileSync('hel_tests.json', 'utf8')); "
    "fs.writeFileSync('all.js', fs.readFileSync('main.js', 'utf8') + '\\n' + t.tests)\" && node all.js",
    "go": "export GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off GOCACHE=$PWD/.gocache; "
    "go test -c -o t.test . && ./t.test",
    "rust": f"D={DEPS}; rustc --edition 2021 -L dependency=$D "
    "--extern rand=$(ls $D/librand-*.rlib) --extern regex=$(ls $D/libregex-*.rlib) --extern md5=$(ls $D/libmd5-*.rlib) "
    "-o main main.rs && ./main",
    "python": "python3 main.py",
}


def programs(language: str, n: int) -> list[tuple[Problem, Job]]:
    problems = read_problem_file(DATA / f"humaneval_{FILES[language]}.jsonl.gz")[:n]
    spec = get_language(language)
    return [
        (
            p,
            Job(
                f"{language}-{i}",
                spec.build(p, source_of(p, p.canonical_solution or "")),
                Limits(timeout_s=120),
            ),
        )
        for i, p in enumerate(problems)
    ]


def naive_script(job: Job) -> str:
    writes = "".join(
        f'mkdir -p "$(dirname {shlex.quote(name)})"; echo {base64.b64encode(text.encode()).decode()} | base64 -d > {shlex.quote(name)}\n'
        for name, text in {**job.program.files, **job.program.judge_files}.items()
    )
    return f'set -e\nd=$(mktemp -d); cd "$d"\n{writes}echo 0123456789abcdef0123456789abcdef | ({NAIVE[job.program.language]})\ncd /; rm -rf "$d"\n'


def run_naive(jobs: list[Job], workers: int, container: str | None) -> tuple[float, int]:
    def one(job: Job) -> bool:
        argv = ["docker", "exec", "-i", container, "bash", "-s"] if container else ["bash", "-s"]
        r = subprocess.run(argv, input=naive_script(job).encode(), capture_output=True, timeout=300)
        return r.returncode == 0

    start = time.monotonic()
    with ThreadPoolExecutor(workers) as pool:
        ok = sum(pool.map(one, jobs))
    return time.monotonic() - start, ok


def run_ours(jobs: list[Job], sandbox: str, workers: int) -> tuple[float, int]:
    executor = make_executor(sandbox, workers)
    try:
        start = time.monotonic()
        ok = sum(o.passed for _, o in executor.run(jobs))
        return time.monotonic() - start, ok
    finally:
        executor.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=20, help="problems per language (the first n)")
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--language", action="append", choices=sorted(FILES))
    ap.add_argument("--sandbox", default="docker")
    ap.add_argument("--naive", default="docker", choices=["docker", "local"])
    ap.add_argument("--image", default=None, help="image for the naive container (default: the sandbox's)")
    args = ap.parse_args()
    container = None
    if args.naive == "docker":
        if not args.image:
            from humaneval_lab.execution.docker import default_image

            args.image = default_image()  # the image our sandbox uses, so both run the same toolchains
        container = subprocess.run(
            ["docker", "run", "-d", "--rm", "--network", "none", "--user", "10001:10001",
             "--tmpfs", "/tmp:exec", "--read-only", args.image, "sleep", "infinity"],
            check=True, capture_output=True, text=True,
        ).stdout.strip()  # fmt: skip
    try:
        print(f"{'language':<11} {'n':>4} {'ours/s':>8} {'naive/s':>8} {'ratio':>6}  passed ours/naive")
        for language in args.language or ["cpp", "java", "javascript", "go", "rust"]:
            jobs = [job for _, job in programs(language, args.n)]
            t_ours, ok_ours = run_ours(jobs, args.sandbox, args.jobs)
            t_naive, ok_naive = run_naive(jobs, args.jobs, container)
            r_ours, r_naive = len(jobs) / t_ours, len(jobs) / t_naive
            print(
                f"{language:<11} {len(jobs):>4} {r_ours:>8.2f} {r_naive:>8.2f} {r_ours / r_naive:>5.2f}x  {ok_ours}/{ok_naive}"
            )
            sys.stdout.flush()
    finally:
        if container:
            subprocess.run(["docker", "rm", "-f", container], capture_output=True)
    return 0


if __name__ == "__main__":
    tempfile.tempdir = None
    sys.exit(main())
