"""``score --ray`` on a real multi-node Ray cluster (head + 2 workers, 1 CPU each), started with its
drivers inside a network namespace of the test's own (see cluster_child.py): results, summary and
pass@k equal a plain run; exactly once under a lost node, a killed actor and a SIGKILLed driver; a
node whose sandbox fails its canaries is excluded. One cluster per scenario (starting one costs
~20 s here), shared by the tests that read its report.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.execution.fake import FakeExecutor
from humaneval_lab.problems import load_problems
from humaneval_lab.records import read_samples
from humaneval_lab.scoring import ScoreSettings, score
from tests.conftest import write_jsonl
from tests.distributed.score_scenarios import FAKE_LIMIT, MIXED_ARGS, SCORE_ARGS

REPO = Path(__file__).resolve().parents[2]
VOLATILE = ("duration_s",)  # wall time of one execution: the only field two runs may differ in


def in_namespace(
    what: str, work: Path, timeout: float = 900, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run cluster_child ``what`` in a fresh network namespace (``env``: more environment); its report."""
    cmd = f"ip link set lo up && exec {sys.executable} -m tests.distributed.cluster_child {what} {work}"
    p = subprocess.run(["unshare", "-n", "sh", "-c", cmd], cwd=REPO, capture_output=True, timeout=timeout,
                       env={**os.environ, **(env or {})})  # fmt: skip
    report = work / "report.json"
    assert p.returncode == 0 and report.exists(), f"scenario {what} failed:\n{p.stderr.decode()[-4000:]}"
    return json.loads(report.read_text())


def results(out: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in rows]


def summary_numbers(out: Path) -> dict[str, Any]:
    s = json.loads((out / "summary.json").read_text())
    return {k: s[k] for k in ("pass@k", "pass@k_exact", "languages", "problems", "verdicts", "infra_errors")}


def assert_same_run(out: Path, plain: Path) -> None:
    got, want = results(out), results(plain)
    keys = [(r["task_id"], r["sample_index"]) for r in got]
    assert len(keys) == len(set(keys)), "a sample has two results"
    assert got == want
    assert summary_numbers(out) == summary_numbers(plain)


# ------------------------------------------------------------------------------ the real sandbox


@pytest.fixture(scope="module")
def docker_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """20 HumanEval problems x 8 samples (right, wrong, raising, in turn; each one distinct, so
    none is deduplicated): a plain Docker run, then the cluster's two runs."""
    work = tmp_path_factory.mktemp("ray-docker")
    ps = load_problems(suite="humaneval").select(limit=20)
    rows = []
    for p in ps:
        kinds = (p.canonical_solution, "    return None\n", "    raise ValueError('no')\n")
        for k in range(8):
            rows.append({"task_id": p.task_id, "completion": f"{kinds[k % 3]}\n# {k}\n"})
    write_jsonl(work / "samples.jsonl", rows)
    write_jsonl(work / "mixed.jsonl", mixed_rows())
    for samples, out, args in (
        ("samples.jsonl", "plain", SCORE_ARGS),
        ("mixed.jsonl", "mixed_plain", MIXED_ARGS),
    ):
        plain = subprocess.run(
            [sys.executable, "-m", "humaneval_lab.cli", "score", str(work / samples), "-o", str(work / out),
             "-j", "2", *args], capture_output=True, timeout=600,
        )  # fmt: skip
        assert plain.returncode == 0, plain.stderr.decode()[-2000:]
    return work, in_namespace("docker", work)


# Each verdict kind in Lua and Ruby: right (the canonical solution), wrong, raising, endless.
MIXED = {
    "lua": ("  return -1\nend\n", "  error('no')\nend\n", "  while true do end\nend\n"),
    "ruby": ("  -1\nend\n", "  raise 'no'\nend\n", "  loop { }\nend\n"),
}


def mixed_rows() -> list[dict[str, Any]]:
    """3 polyglot problems x 4 kinds in each of Lua and Ruby, each sample distinct (no dedup)."""
    ps = load_problems(suite="polyglot")
    rows = []
    for lang, (wrong, raising, endless) in MIXED.items():
        for p in [p for p in ps if p.language == lang][:3]:
            for k, completion in enumerate((p.canonical_solution or "", wrong, raising, endless)):
                rows.append({"task_id": p.task_id, "completion": completion, "sample_index": k})
    return rows


TIMING = re.compile(r'"(duration_s|cpu_s)": [-0-9.e+]+')


def lines_without_timing(out: Path) -> list[str]:
    """results.jsonl's lines as bytes on disk, each timing field's value blanked."""
    return [TIMING.sub(r'"\1": T', ln) for ln in (out / "results.jsonl").read_text().splitlines()]


@pytest.mark.docker
@pytest.mark.slow
def test_score_ray_equals_a_plain_run(docker_runs: tuple[Path, dict[str, Any]]) -> None:
    work, report = docker_runs
    assert report["ray"]["rc"] == 0, report["ray"]["stderr"]
    assert "3 node(s) admitted" in report["ray"]["stderr"]
    assert ", 3 nodes, 0 in flight, took " in report["ray"]["stderr"]  # the progress line's last word
    assert_same_run(work / "ray", work / "plain")
    verdicts = summary_numbers(work / "ray")["verdicts"]
    assert verdicts.get("passed") == 60 and sum(verdicts.values()) == 160  # the canonical ones, and only them
    manifest = json.loads((work / "ray" / "manifest.json").read_text())
    assert manifest["sandbox"]["executor"] == "ray" and len(manifest["sandbox"]["nodes"]) == 3
    assert manifest["sandbox"]["node_sandbox"]["recipe"]


@pytest.mark.docker
@pytest.mark.slow
def test_score_ray_survives_a_lost_node(docker_runs: tuple[Path, dict[str, Any]]) -> None:
    work, report = docker_runs
    killed = report["killed"]
    assert killed["rc"] == 0, killed["stderr"]
    assert killed["killed_at"] and killed["killed_at"][0] < killed["total"], (
        "the node was not removed mid-run"
    )
    assert "lost" in killed["stderr"]
    assert_same_run(work / "killed", work / "plain")


@pytest.mark.docker
@pytest.mark.slow
def test_score_ray_writes_the_plain_runs_bytes_for_a_mixed_set(
    docker_runs: tuple[Path, dict[str, Any]],
) -> None:
    """Lua and Ruby, passed / failed / error / timeout: results.jsonl byte for byte the plain run's
    but for the timing fields' values, summary.json's numbers and verdicts the same."""
    work, report = docker_runs
    assert report["mixed"]["rc"] == 0, report["mixed"]["stderr"]
    got, want = lines_without_timing(work / "mixed_ray"), lines_without_timing(work / "mixed_plain")
    assert got == want
    assert len(got) == 24
    verdicts = summary_numbers(work / "mixed_ray")["verdicts"]
    assert verdicts == {"passed": 6, "failed": 6, "error": 6, "timeout": 6}, verdicts
    timeouts = [
        json.loads((work / d / "summary.json").read_text())["timeouts"] for d in ("mixed_ray", "mixed_plain")
    ]
    assert timeouts[0] == timeouts[1] == {"cpu": 6}
    assert summary_numbers(work / "mixed_ray") == summary_numbers(work / "mixed_plain")


# ------------------------------------------------------------------------------ dispatch (fake sandbox)


@pytest.fixture(scope="module")
def fake_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """30 problems x 10 samples with scripted verdicts: a plain run, then the cluster's runs."""
    work = tmp_path_factory.mktemp("ray-fake")
    scripted_plain_run(work)
    return work, in_namespace("fake", work)


def scripted_plain_run(work: Path) -> None:
    """WORK/samples.jsonl (30 problems x 10 samples with scripted verdicts) and its plain run."""
    whole = load_problems(suite="humaneval")
    ps = whole.select(limit=FAKE_LIMIT)
    verdicts = ("passed", "failed", "error", "timeout", "failed")
    rows = [{"task_id": p.task_id, "completion": f"    # hel-verdict:{verdicts[(i * 3 + j) % 5]} {j}\n    return 0\n"}
            for i, p in enumerate(ps) for j in range(10)]  # fmt: skip
    write_jsonl(work / "samples.jsonl", rows)
    samples = read_samples(work / "samples.jsonl", whole)
    score(
        samples,
        ps,
        FakeExecutor(),
        work / "plain",
        ScoreSettings(ks=(1, 2)),
        samples_path=work / "samples.jsonl",
    )


@pytest.mark.slow
def test_a_node_failing_its_canaries_is_excluded(fake_runs: tuple[Path, dict[str, Any]]) -> None:
    work, report = fake_runs
    run = report["excluded"]
    assert len(run["excluded"]) == 1 and "canaries judged wrong" in run["excluded"][0][1]
    assert any("EXCLUDED" in e for e in run["events"])
    assert len(run["describe"]["nodes"]) == 2
    assert_same_run(work / "excluded", work / "plain")


@pytest.mark.slow
def test_a_killed_actor_loses_no_sample(fake_runs: tuple[Path, dict[str, Any]]) -> None:
    work, report = fake_runs
    run = report["actor"]
    assert len(run["lost"]) == 1, run["events"]
    assert_same_run(work / "actor", work / "plain")


@pytest.mark.slow
def test_a_silent_node_is_given_up_after_its_deadline(fake_runs: tuple[Path, dict[str, Any]]) -> None:
    work, report = fake_runs
    run = report["hang"]
    assert len(run["lost"]) == 1 and "no verdict for 3 s" in run["lost"][0][1], run["events"]
    assert_same_run(work / "hang", work / "plain")


@pytest.mark.slow
def test_nodes_with_other_judging_code_are_refused(fake_runs: tuple[Path, dict[str, Any]]) -> None:
    _, report = fake_runs
    assert report["wrong_judge"].startswith("EnvironmentProblem: no Ray node passed its sandbox checks")
    assert "its judging code differs" in report["wrong_judge"]


@pytest.mark.slow
def test_a_lost_node_loses_no_sample(fake_runs: tuple[Path, dict[str, Any]]) -> None:
    work, report = fake_runs
    run = report["node"]
    assert len(run["lost"]) == 1, run["events"]
    assert_same_run(work / "node", work / "plain")


@pytest.mark.slow
def test_a_sigkilled_driver_resumes(fake_runs: tuple[Path, dict[str, Any]]) -> None:
    work, report = fake_runs
    run = report["sigkill"]
    assert run["first_rc"] == -9 and 0 < run["kept"] < report["total"], run
    assert run["second"]["rc"] == 0, run["second"]["stderr"]
    summary = json.loads((work / "sigkill" / "summary.json").read_text())
    assert summary["executions"]["kept_from_earlier_run"] == run["kept"]
    assert_same_run(work / "sigkill", work / "plain")


@pytest.mark.slow
def test_calibration_runs_on_every_node_and_keeps_the_slowest(fake_runs: tuple[Path, dict[str, Any]]) -> None:
    """Each canonical solution passes in 0.1 s on the head and 1 s on worker 1 (0.02 / 0.2 s CPU):
    every problem's limits are worker 1's (wall 20 x 1 s = 20 s; CPU 4 x 0.2 s = 0.8 s), not the
    5 s / 0.5 s floors the head's times give; so each ran on both, and the run still completes."""
    work, report = fake_runs
    run = report["calibrated"]
    assert len(run["describe"]["nodes"]) == 2 and not run["lost"], run["events"]
    doc = json.loads((work / "calibrated" / "calibration.json").read_text())
    assert doc["limits"] == {f"HumanEval/{i}": {"cpu_s": 0.8, "wall_s": 20.0} for i in range(FAKE_LIMIT)}
    assert doc["uncalibrated"] == []
    rows = results(work / "calibrated")
    assert [(r["task_id"], r["sample_index"], r["verdict"]) for r in rows] == [
        (r["task_id"], r["sample_index"], r["verdict"]) for r in results(work / "plain")
    ]


# ------------------------------------------------------------------------------ without Ray


def test_without_ray_the_cli_says_how_to_install_it(tmp_path: Path) -> None:
    """Ray hidden (a None entry in sys.modules makes ``import ray`` fail): one line, exit 2."""
    ps = load_problems(suite="humaneval").select(limit=1)
    write_jsonl(tmp_path / "s.jsonl", [{"task_id": next(iter(ps)).task_id, "completion": "    return 1\n"}])
    code = "import sys; sys.modules['ray'] = None; from humaneval_lab.cli import main; main()"
    p = subprocess.run([sys.executable, "-c", code, "score", str(tmp_path / "s.jsonl"), "-o", str(tmp_path / "o"),
                        "--limit", "1", "--ray", "auto"], capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    assert p.returncode == 2
    assert p.stdout == ""
    assert p.stderr.strip().splitlines() == ["error: --ray needs Ray: pip install 'humaneval-lab[ray]'"]
    p = subprocess.run([sys.executable, "-c", code, "sample", "--backend", "hf", "--model", "m", "--limit", "1",
                        "-o", str(tmp_path / "s2.jsonl"), "--ray", "auto"], capture_output=True, text=True)  # fmt: skip
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.strip().splitlines() == ["error: --ray needs Ray: pip install 'humaneval-lab[ray]'"]


def test_a_ray_address_where_nothing_answers_fails_in_one_line(tmp_path: Path) -> None:
    """In a network namespace of its own (only loopback; port 1 is closed there): exit 2 at once."""
    ps = load_problems(suite="humaneval").select(limit=1)
    write_jsonl(tmp_path / "s.jsonl", [{"task_id": next(iter(ps)).task_id, "completion": "    return 1\n"}])
    cmd = (f"ip link set lo up && exec {sys.executable} -m humaneval_lab.cli score {tmp_path / 's.jsonl'} "
           f"-o {tmp_path / 'o'} --limit 1 --ray 127.0.0.1:1")  # fmt: skip
    p = subprocess.run(["unshare", "-n", "sh", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.strip().splitlines() == [
        "error: cannot connect to the Ray cluster at 127.0.0.1:1: Connection refused"
    ]


def test_ray_build_sandbox_without_ray_is_refused(tmp_path: Path) -> None:
    ps = load_problems(suite="humaneval").select(limit=1)
    write_jsonl(tmp_path / "s.jsonl", [{"task_id": next(iter(ps)).task_id, "completion": "    return 1\n"}])
    p = subprocess.run([sys.executable, "-m", "humaneval_lab.cli", "score", str(tmp_path / "s.jsonl"),
                        "-o", str(tmp_path / "o"), "--limit", "1", "--ray-build-sandbox"], capture_output=True, text=True)  # fmt: skip
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.strip().splitlines() == [
        "error: --ray-build-sandbox applies to --ray only (locally: humaneval-lab sandbox build)"
    ]
    assert not (tmp_path / "o").exists()


def test_jobs_with_ray_is_refused(tmp_path: Path) -> None:
    """A node runs as many jobs as it has Ray CPUs; --jobs was silently ignored with --ray."""
    ps = load_problems(suite="humaneval").select(limit=1)
    write_jsonl(tmp_path / "s.jsonl", [{"task_id": next(iter(ps)).task_id, "completion": "    return 1\n"}])
    p = subprocess.run([sys.executable, "-m", "humaneval_lab.cli", "score", str(tmp_path / "s.jsonl"),
                        "-o", str(tmp_path / "o"), "--limit", "1", "--ray", "auto", "-j", "8"],
                       capture_output=True, text=True, env={**os.environ, "COLUMNS": "200"})  # fmt: skip
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.strip().splitlines() == [
        "error: --jobs does not apply with --ray: each node runs as many jobs as it has Ray CPUs "
        "(`ray start --num-cpus N` on the node)"
    ]
    assert not (tmp_path / "o").exists()
