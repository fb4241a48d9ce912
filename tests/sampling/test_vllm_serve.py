"""The openai backend against ``vllm serve`` itself (vLLM's OpenAI-compatible server, on CPU)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli_helpers import run

from .helpers import by_key, rows

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def vllm_server(tiny_gpt2: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = _free_port()
    log = tmp_path_factory.mktemp("vllm-serve") / "server.log"
    cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(tiny_gpt2),
           "--served-model-name", "tiny", "--host", "127.0.0.1", "--port", str(port), "--dtype", "float32",
           "--max-model-len", "1024", "--enforce-eager", "--distributed-executor-backend", "uni",
           "--seed", "0"]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "VLLM_CPU_KVCACHE_SPACE": "1"},
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 300
        while True:
            if proc.poll() is not None:
                pytest.fail(f"vllm serve exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as r:
                    if json.load(r)["data"][0]["id"] == "tiny":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"vllm serve did not answer in 300 s:\n{log.read_text()[-3000:]}")
            time.sleep(1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_samples_from_vllm_serve(vllm_server: str, tmp_path: Path) -> None:
    out = tmp_path / "s.jsonl"
    args = ["sample", "--backend", "openai", "--base-url", vllm_server, "--model", "tiny", "--limit", "3",
            "-n", "2", "--prompts-per-request", "2", "--max-new-tokens", "24", "--temperature", "0.8", "--seed", "5",
            "-o", str(out)]  # fmt: skip
    code, _, err = run(*args)
    assert code == 0, err
    recs = rows(out)
    assert len(recs) == 6 and len(by_key(out)) == 6
    assert all(r["raw"].startswith(r["completion"]) and 0 < r["tokens"] <= 24 for r in recs)
    keys = sorted(by_key(out))
    # Resume: a run cut short continues where it stopped, nothing lost or duplicated.
    out.write_text("".join(line + "\n" for line in out.read_text().splitlines()[:3]))
    code, _, err = run(*args)
    assert code == 0, err
    assert len(rows(out)) == 6 and sorted(by_key(out)) == keys


def test_greedy_through_vllm_serve_is_deterministic(vllm_server: str, tmp_path: Path) -> None:
    got = []
    for name in ("a", "b"):
        out = tmp_path / f"{name}.jsonl"
        code, _, err = run("sample", "--backend", "openai", "--base-url", vllm_server, "--model", "tiny",
                           "--limit", "2", "-n", "1", "--max-new-tokens", "16", "--temperature", "0", "-o", str(out))  # fmt: skip
        assert code == 0, err
        got.append({k: r["raw"] for k, r in by_key(out).items()})
    assert got[0] == got[1] and all(got[0].values())
