"""The vllm backend on a CUDA GPU, with the ~1B-parameter random Llama; skipped only without vLLM."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from humaneval_lab.sampling.base import derive_seed

from .conftest import gpu_name
from .models import parameter_count

pytestmark = pytest.mark.gpu

LIMIT, N, MAX_NEW = 8, 4, 64


@pytest.fixture(scope="module")
def vllm_version() -> str:
    try:
        import vllm
    except ImportError as exc:
        pytest.skip(f"vLLM is not installed ({exc}): pip install -e '.[vllm]' to run the vLLM GPU tests")
    return str(vllm.__version__)


def sample_cli(model: Path, out: Path) -> dict[str, object]:
    """`humaneval-lab sample --backend vllm` in a process of its own: a fresh CUDA context, and vLLM's
    engine processes start as they do for a user (not forked from a test process that holds CUDA)."""
    cmd = [
        sys.executable, "-m", "humaneval_lab.cli", "sample", "--backend", "vllm", "--model", str(model),
        "--dtype", "bfloat16", "--limit", str(LIMIT), "-n", str(N), "--temperature", "0.8",
        "--max-new-tokens", str(MAX_NEW), "--gpu-memory-utilization", "0.5", "--max-model-len", "2048",
        "-o", str(out), "--json",
    ]  # fmt: skip
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return dict(json.loads(r.stdout))


def test_vllm_samples_on_cuda(llama_1b: Path, tmp_path: Path, vllm_version: str, record_property) -> None:  # type: ignore[no-untyped-def]
    first = sample_cli(llama_1b, tmp_path / "a.jsonl")
    manifest = json.loads((tmp_path / "a.manifest.json").read_text())
    assert manifest["backend"]["device_type"] == "cuda" and manifest["backend"]["dtype"] == "bfloat16"
    recs = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert len(recs) == LIMIT * N == len({(r["task_id"], r["sample_index"]) for r in recs})
    for r in recs:
        assert r["seed"] == derive_seed(0, r["task_id"], r["sample_index"])
        assert 1 <= r["tokens"] <= MAX_NEW and r["finish_reason"] in ("stop", "length")
    # A second run with the same seeds: recorded, not asserted (vLLM batches requests as they come).
    sample_cli(llama_1b, tmp_path / "b.jsonl")
    again = {(r["task_id"], r["sample_index"]): r["raw"] for r in
             (json.loads(x) for x in (tmp_path / "b.jsonl").read_text().splitlines())}  # fmt: skip
    same = sum(again[(r["task_id"], r["sample_index"])] == r["raw"] for r in recs)
    record_property("identical_rerun", f"{same}/{len(recs)}")
    print(
        f"\nvllm {vllm_version} on {gpu_name()}: {parameter_count(llama_1b) / 1e9:.2f}B params, bf16: "
        f"{first['samples']} samples, {first['tokens']} tokens, {first['tokens_per_s']} tokens/s "
        f"(with engine start {first['duration_s']:.1f} s); a seeded re-run: {same}/{len(recs)} identical"
    )
