"""Nodes over a run's life, a fake sandbox on each (``score_scenarios.fake_score``): ``members`` (a
node that joins mid-run; a node without its sandbox image, refused or built) and ``builder`` (every
judging node lost while another builds its image: in the run, and while calibrating)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.distributed.cluster_kit import kill_node, kill_node_noting, lines, local_cluster, when_lines
from tests.distributed.score_scenarios import FAKE_LIMIT, fake_executor, fake_score

JOINER = "hel_test_joiner"  # the node added mid-run
MISSING = "hel_test_missing"  # a node without its (fake) sandbox image
JOIN_DELAY_S = 0.15  # per job: the head alone would take ~45 s, long enough for a node to join


def members(work: Path) -> dict[str, Any]:
    """Nodes over a run's life, a fake sandbox on each: joined/ (the head alone; a worker joins at 30%
    of the results), then a third node that lacks its (fake) sandbox image: refused/ (no build:
    excluded, named) and built/ (--ray-build-sandbox: it builds, then judges)."""
    import ray

    res = {"humaneval_lab_sandbox": 1}
    cluster = local_cluster(num_cpus=1, resources=res)
    cluster.wait_for_nodes()
    total = lines(work / "samples.jsonl")
    report: dict[str, Any] = {"address": cluster.address, "total": total}
    try:
        ray.init(address=cluster.address, log_to_driver=False)
        # The driver in a thread, the node added from the main one (cluster.add_node called from a
        # watcher thread started no node here).
        joined: dict[str, Any] = {}
        driver = threading.Thread(target=lambda: joined.update(
            fake_score(cluster.address, work, "joined", delay_s=JOIN_DELAY_S)))  # fmt: skip
        driver.start()
        end = time.monotonic() + 300
        while lines(work / "joined" / "results.jsonl") < int(0.3 * total) and time.monotonic() < end:
            time.sleep(0.01)
        added_at = lines(work / "joined" / "results.jsonl")
        cluster.add_node(num_cpus=1, resources={**res, JOINER: 1})
        driver.join(timeout=600)
        report["joined"] = {**joined, "added_at": [added_at]}
        cluster.add_node(num_cpus=1, resources={**res, MISSING: 1})
        cluster.wait_for_nodes()
        report["refused"] = fake_score(cluster.address, work, "refused", missing_resource=MISSING)
        report["built"] = fake_score(cluster.address, work, "built", missing_resource=MISSING, build_s=2.0,
                                     build_images=True, delay_s=JOIN_DELAY_S)  # fmt: skip
    finally:
        ray.shutdown()
        cluster.shutdown()
    return report


def builder(work: Path) -> dict[str, Any]:
    """Every admitted node lost while another still builds its (fake) image; the head does not
    judge. short/: the build takes 60 s, the wait is bounded at 3 s: the run ends. waited/: the
    build takes 8 s; the run waits for it, and the builder finishes the run. calibrating/: the
    node is lost while it calibrates; calibration waits for the builder, which calibrates, then
    finishes the run."""
    import ray

    from humaneval_lab.errors import InfrastructureError
    from humaneval_lab.problems import load_problems
    from humaneval_lab.records import read_samples
    from humaneval_lab.scoring import ScoreSettings, score

    res = {"humaneval_lab_sandbox": 1}
    cluster = local_cluster(num_cpus=1)
    judging = cluster.add_node(num_cpus=1, resources=res)
    cluster.add_node(num_cpus=1, resources={**res, MISSING: 1})
    cluster.wait_for_nodes()
    total = lines(work / "samples.jsonl")
    report: dict[str, Any] = {"total": total}
    build = {"missing_resource": MISSING, "build_images": True}

    def lose(node: Any) -> Callable[[Any, Path], None]:
        def during(_ex: Any, results: Path) -> None:
            when_lines(results, int(0.3 * total), lambda: kill_node(cluster, node))

        return during

    try:
        ray.init(address=cluster.address, log_to_driver=False)
        ex = fake_executor(cluster.address, build_s=60.0, build_timeout_s=3.0, **build)
        whole = load_problems(suite="humaneval")
        lose(judging)(ex, work / "short" / "results.jsonl")
        try:
            score(read_samples(work / "samples.jsonl", whole), whole.select(limit=FAKE_LIMIT), ex, work / "short",
                  ScoreSettings(ks=(1, 2)), samples_path=work / "samples.jsonl")  # fmt: skip
            report["short"] = {"error": ""}
        except InfrastructureError as exc:
            report["short"] = {"error": str(exc)}
        finally:
            ex.close()
        report["short"].update(events=ex.events, excluded=ex.excluded, lost=ex.lost)
        judging = cluster.add_node(num_cpus=1, resources=res)  # the first one is gone
        cluster.wait_for_nodes()
        report["waited"] = fake_score(cluster.address, work, "waited", lose(judging), build_s=8.0, **build)
        # calibrating/: the same, the judging node lost 2 s into calibration (~10 s of canonical runs)
        judging = cluster.add_node(num_cpus=1, resources=res)
        cluster.wait_for_nodes()
        killed: list[int] = []
        results = work / "calibrating" / "results.jsonl"

        def lose_calibrating(_ex: Any, _results: Path) -> None:
            threading.Timer(2.0, lambda: kill_node_noting(cluster, judging, results, killed)).start()

        report["calibrating"] = fake_score(cluster.address, work, "calibrating", lose_calibrating, build_s=15.0,
                                           calibrated=True, calibrate_s=0.1, calibrate_delay_s=0.3, **build)  # fmt: skip
        report["calibrating"]["killed_at"] = killed
    finally:
        ray.shutdown()
        cluster.shutdown()
    return report
