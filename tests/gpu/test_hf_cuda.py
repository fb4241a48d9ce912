"""The hf backend on a CUDA GPU in bf16, with a ~1B-parameter Llama-shaped model (random weights)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.problems import load_problems
from humaneval_lab.sampling.base import derive_seed

from ..cli_helpers import run
from .conftest import gpu_name
from .models import parameter_count

pytestmark = pytest.mark.gpu

LIMIT, N, MAX_NEW = 8, 4, 64


def rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_hf_samples_on_cuda_in_bf16(llama_1b: Path, tmp_path: Path) -> None:
    import torch

    params = parameter_count(llama_1b)
    assert 0.9e9 < params < 1.2e9, params  # the model is the size this test claims
    out = tmp_path / "s.jsonl"
    torch.cuda.reset_peak_memory_stats()
    started = time.monotonic()
    code, stdout, err = run(
        "sample", "--backend", "hf", "--model", str(llama_1b), "--device", "cuda", "--dtype", "bfloat16",
        "--limit", str(LIMIT), "-n", str(N), "--temperature", "0.8", "--max-new-tokens", str(MAX_NEW),
        "--batch-size", "16", "-o", str(out), "--json",
    )  # fmt: skip
    took = time.monotonic() - started
    assert code == 0, err
    summary = json.loads(stdout)
    manifest = json.loads((tmp_path / "s.manifest.json").read_text())
    assert manifest["backend"]["dtype"] == "bfloat16" and manifest["backend"]["device_type"] == "cuda"
    recs = rows(out)
    tasks = [p.task_id for p in load_problems().select(limit=LIMIT)]
    assert sorted((r["task_id"], r["sample_index"]) for r in recs) == sorted(
        (t, i) for t in tasks for i in range(N)
    )
    for r in recs:
        assert r["seed"] == derive_seed(0, r["task_id"], r["sample_index"])
        assert 1 <= r["tokens"] <= MAX_NEW and r["finish_reason"] in ("stop", "length")
    # The weights were on the GPU in bf16: at least 2 bytes per parameter were allocated there.
    peak = torch.cuda.max_memory_allocated()
    assert peak >= 2 * params, (peak, params)
    print(
        f"\nhf on {gpu_name()}: {params / 1e9:.2f}B params, bf16, batch 16: {summary['samples']} samples, "
        f"{summary['tokens']} tokens in {summary['duration_s']:.1f} s ({summary['tokens_per_s']:.0f} tokens/s; "
        f"{took:.1f} s with loading); peak GPU memory {peak / 2**30:.2f} GiB"
    )


def test_hf_seeded_samples_across_batch_sizes(llama_1b: Path, tmp_path: Path, record_property) -> None:  # type: ignore[no-untyped-def]
    """Does a seeded sample depend on its batch? Recorded and printed either way.

    Each row draws from its own generator (hf.py), so on a CPU in fp32 the answer is no. In bf16 on a
    GPU, a batch pads prompts to one length and may pick other kernels, so logits can differ in the last
    bits and a sampled token can flip. What must hold: every run writes every (task, index) once, with
    the seed derived from (run seed, task, index), whatever the batch size.
    """
    from humaneval_lab.sampling import HfConfig, SamplingConfig, make_backend
    from humaneval_lab.sampling import sample as run_sample

    ps = load_problems().select(limit=LIMIT)
    config = SamplingConfig(n=N, temperature=0.8, top_p=0.95, max_new_tokens=48, seed=0)
    texts: dict[str, dict[tuple[str, int], str]] = {}
    for label, batch in (("bs1", 1), ("bs8", 8), ("bs32", 32), ("bs32-again", 32)):
        be = make_backend(
            "hf", HfConfig(model=str(llama_1b), device="cuda", dtype="bfloat16", batch_size=batch)
        )
        try:
            out = tmp_path / f"{label}.jsonl"
            run_sample(ps, be, config, out)
        finally:
            be.close()
        recs = rows(out)
        for r in recs:
            assert r["seed"] == derive_seed(0, r["task_id"], r["sample_index"])
        texts[label] = {(r["task_id"], r["sample_index"]): r["raw"] for r in recs}
        assert len(texts[label]) == LIMIT * N
    total = LIMIT * N
    findings = {}
    for label in ("bs8", "bs32", "bs32-again"):
        base = "bs32" if label == "bs32-again" else "bs1"
        same = sum(texts[label][k] == texts[base][k] for k in texts[base])
        findings[f"{label} vs {base}"] = same
        record_property(f"identical_{label}_vs_{base}", f"{same}/{total}")
    verdict = "identical" if all(v == total for v in findings.values()) else "NOT identical"
    print(
        f"\nhf bf16 on {gpu_name()}: seeded samples across batch sizes are {verdict}: "
        + ", ".join(f"{k}: {v}/{total} identical" for k, v in findings.items())
    )
