"""Nodes over a run's life on a real Ray cluster (in a network namespace of its own, see
cluster_child.py), a fake sandbox per node: a node that joins mid-run is admitted and takes work; a
node without its sandbox image is refused by name, or builds it (once) and then takes work. Every
sample is judged exactly once and the run equals a plain one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.distributed.member_scenarios import JOINER, MISSING
from tests.distributed.test_ray_score import assert_same_run, in_namespace, scripted_plain_run

TAG = "hel-fake-sandbox:missing"  # FakeOnNode.MISSING_TAG


@pytest.fixture(scope="module")
def member_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    work = tmp_path_factory.mktemp("ray-members")
    scripted_plain_run(work)
    return work, in_namespace("members", work)


def node_with(run: dict[str, Any], resource: str) -> dict[str, Any]:
    [node] = [n for n in run["judged"] if resource in n["resources"]]
    return dict(node)


@pytest.mark.slow
def test_a_node_joining_mid_run_takes_work(member_runs: tuple[Path, dict[str, Any]]) -> None:
    work, report = member_runs
    run = report["joined"]
    assert run["added_at"] and run["added_at"][0] < report["total"], "the node was not added mid-run"
    assert any("joined; checking its sandbox" in e for e in run["events"]), run["events"]
    joiner = node_with(run, JOINER)
    assert joiner["judged"] > 0, run["events"]
    assert sum(n["judged"] for n in run["judged"]) == report["total"]  # each job once, none lost
    assert len(run["describe"]["nodes"]) == 2
    # the node that joined is recorded as one that judged, in the manifest and the summary
    assert run["manifest_nodes"] == run["summary_nodes"] == run["describe"]["nodes"]
    assert_same_run(work / "joined", work / "plain")


@pytest.mark.slow
def test_a_node_without_its_image_is_refused_by_name(member_runs: tuple[Path, dict[str, Any]]) -> None:
    work, report = member_runs
    run = report["refused"]
    [(name, why)] = run["excluded"]
    assert why == (f"sandbox image {TAG} is missing on it: build it there with "
                   f"`humaneval-lab sandbox build --tag {TAG}`, or pass --ray-build-sandbox")  # fmt: skip
    assert f"ray: node {name} EXCLUDED: sandbox image {TAG} is missing" in "\n".join(run["events"])
    assert all(MISSING not in n["resources"] for n in run["judged"]) and len(run["judged"]) == 2
    assert_same_run(work / "refused", work / "plain")


@pytest.mark.slow
def test_a_node_builds_its_missing_image_then_takes_work(member_runs: tuple[Path, dict[str, Any]]) -> None:
    work, report = member_runs
    run = report["built"]
    assert run["excluded"] == []
    events = "\n".join(run["events"])
    assert "2 node(s) admitted, 2 CPUs; 1 building their sandbox image" in events  # the others go on
    assert (
        events.count(f"builds sandbox image {TAG}") == 1 and events.count(f"built sandbox image {TAG}") == 1
    )
    builder = node_with(run, MISSING)
    assert builder["built"] == TAG and builder["judged"] > 0, events
    assert sum(n["judged"] for n in run["judged"]) == report["total"]
    assert [n.get("built_image") for n in run["describe"]["nodes"]].count(TAG) == 1
    assert_same_run(work / "built", work / "plain")


@pytest.fixture(scope="module")
def builder_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    work = tmp_path_factory.mktemp("ray-builder")
    scripted_plain_run(work)
    return work, in_namespace("builder", work)


@pytest.mark.slow
def test_a_run_waits_for_a_node_still_building_when_the_others_are_lost(
    builder_runs: tuple[Path, dict[str, Any]],
) -> None:
    work, report = builder_runs
    run = report["waited"]
    events = "\n".join(run["events"])
    [(lost, _why)] = run["lost"]  # the only judging node, removed at 30% while the other builds
    waiting = events.index("every admitted node was lost; waiting for 1 node(s) still being admitted: ")
    assert f"(building {TAG})" in events[waiting:].splitlines()[0]
    assert events.index(f"node {lost} lost") < waiting < events.index(f"built sandbox image {TAG}")
    builder = node_with(run, MISSING)
    assert builder["built"] == TAG and builder["judged"] > 0 and run["excluded"] == []
    assert_same_run(work / "waited", work / "plain")  # every sample once, as a plain run


@pytest.mark.slow
def test_the_wait_for_a_building_node_is_bounded(builder_runs: tuple[Path, dict[str, Any]]) -> None:
    work, report = builder_runs
    run = report["short"]
    assert (
        run["error"].startswith("every Ray node was lost (")
        and "re-run the same command to resume" in run["error"]
    )
    [(name, why)] = run["excluded"]
    assert why == "not admitted 3 s after every other node was lost"
    events = "\n".join(run["events"])
    assert (
        f"still being admitted: {name} (building {TAG})" in events
        and f"node {name} EXCLUDED: {why}" in events
    )
    kept = [json.loads(line) for line in (work / "short" / "results.jsonl").read_text().splitlines()]
    keys = {(r["task_id"], r["sample_index"]) for r in kept}
    assert 0 < len(kept) == len(keys) < report["total"]  # what was judged is kept, once each, to resume


@pytest.mark.slow
def test_calibration_waits_for_a_node_still_building_when_the_others_are_lost(
    builder_runs: tuple[Path, dict[str, Any]],
) -> None:
    """The only judging node is lost while it runs the canonical solutions (no result on disk yet):
    calibration waits for the node that builds its image, which runs every canonical solution and
    then the whole run."""
    work, report = builder_runs
    run = report["calibrating"]
    assert run["killed_at"] == [0], "the node was not lost during calibration"
    events = "\n".join(run["events"])
    [(lost, _why)] = run["lost"]
    lost_at = events.index(f"node {lost} lost (")
    assert "leased again" not in events[lost_at:].splitlines()[0]  # lost in calibration, not in a lease
    waiting = events.index("every admitted node was lost; waiting for 1 node(s) still being admitted: ")
    assert f"(building {TAG})" in events[waiting:].splitlines()[0]
    assert lost_at < waiting < events.index(f"built sandbox image {TAG}")
    builder = node_with(run, MISSING)
    assert builder["built"] == TAG and builder["judged"] == report["total"] and run["excluded"] == []
    doc = json.loads((work / "calibrating" / "calibration.json").read_text())
    assert doc["uncalibrated"] == [] and len(doc["limits"]) == 30  # every problem, on the builder
    rows = [json.loads(line) for line in (work / "calibrating" / "results.jsonl").read_text().splitlines()]
    plain = [json.loads(line) for line in (work / "plain" / "results.jsonl").read_text().splitlines()]
    assert [(r["task_id"], r["sample_index"], r["verdict"]) for r in rows] == [
        (r["task_id"], r["sample_index"], r["verdict"]) for r in plain
    ]
