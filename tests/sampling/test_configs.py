"""Per-backend configs: each engine flag belongs to the backends that use it; another refuses it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import humaneval_lab.sampling as sampling
from humaneval_lab.errors import UserInputError
from humaneval_lab.sampling import (
    FakeConfig,
    HfConfig,
    OpenAIConfig,
    SamplingConfigError,
    VllmConfig,
    backend_config,
    make_backend,
)
from tests.cli_helpers import one_error_line, run


@pytest.mark.parametrize(
    "backend, options, expected",
    [
        ("hf", {}, HfConfig("m")),
        ("hf", {"device": "cpu", "dtype": "float32", "batch_size": 4}, HfConfig("m", "cpu", "float32", 4)),
        (
            "vllm",
            {"tensor_parallel_size": 2, "max_model_len": 2048},
            VllmConfig("m", tensor_parallel_size=2, max_model_len=2048),
        ),
        (
            "openai",
            {"base_url": "http://h/v1", "prompts_per_request": 3},
            OpenAIConfig("m", "http://h/v1", prompts_per_request=3),
        ),
        ("fake", {}, FakeConfig("m")),
    ],
)
def test_options_go_to_their_backends_config(backend: str, options: dict[str, Any], expected: Any) -> None:
    assert backend_config(backend, "m", options) == expected


@pytest.mark.parametrize(
    "backend, option, whose",
    [
        ("hf", "tensor_parallel_size", "it is for --backend vllm"),
        ("hf", "api_key", "it is for --backend openai"),
        ("vllm", "batch_size", "it is for --backend hf"),
        ("openai", "dtype", "it is for --backend hf or vllm"),
        ("openai", "batch_size", "it is for --backend hf"),
        ("fake", "concurrency", "it is for --backend openai"),
        ("hf", "warp_drive", "no backend has it"),
    ],
)
def test_an_option_of_another_backend_is_refused(backend: str, option: str, whose: str) -> None:
    flag = "--" + option.replace("_", "-")
    with pytest.raises(SamplingConfigError) as info:
        backend_config(backend, "m", {option: 1})
    assert str(info.value) == f"{flag} is not an option of --backend {backend}: {whose}"


def test_unknown_backends_and_mismatched_configs_are_refused() -> None:
    with pytest.raises(UserInputError, match="unknown backend 'tgi'"):
        backend_config("tgi", "m")
    with pytest.raises(SamplingConfigError, match="--backend fake takes a FakeConfig, got a HfConfig"):
        make_backend("fake", HfConfig("m"))


@pytest.mark.parametrize(
    "make, says",
    [
        (lambda: HfConfig(""), "--model is required"),
        (lambda: HfConfig("m", batch_size=0), "batch_size must be at least 1, got 0"),
        (lambda: HfConfig("m", dtype="int4"), "dtype must be auto, float32, bfloat16 or float16"),
        (lambda: VllmConfig("m", gpu_memory_utilization=1.5), r"gpu_memory_utilization must be in \(0, 1\]"),
        (lambda: VllmConfig("m", max_model_len=8), "max_model_len must be at least 16"),
        (lambda: OpenAIConfig("m", concurrency=0), "concurrency must be at least 1"),
        (lambda: OpenAIConfig("m", max_retries=-1), "max_retries must be at least 0"),
        (lambda: OpenAIConfig("m", samples_per_request=0), "samples_per_request must be at least 1"),
        (lambda: FakeConfig("m", delay_s=-1), "delay_s must be 0 or more"),
    ],
)
def test_configs_validate_themselves(make: Any, says: str) -> None:
    with pytest.raises(SamplingConfigError, match=says):
        make()


def test_the_api_key_is_never_printed() -> None:
    assert "s3cret" not in repr(OpenAIConfig("m", "http://h/v1", api_key="s3cret"))


# ------------------------------------------------------------------------------------------- CLI


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, Any]]:
    """What `sample` would build: (backend, config); stops there with a user error."""
    seen: list[tuple[str, Any]] = []

    def capture(name: str, config: Any) -> Any:
        seen.append((name, config))
        raise UserInputError("stop here")

    monkeypatch.setattr(sampling, "make_backend", capture)
    return seen


def _sample(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    return run("sample", "--limit", "1", "-o", str(tmp_path / "s.jsonl"), *args)


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--backend", "hf", "--model", "m"], HfConfig("m")),
        (["--backend", "hf", "--model", "m", "--batch-size", "4", "--device", "cpu"], HfConfig("m", "cpu", batch_size=4)),
        (["--backend", "vllm", "--model", "m", "--dtype", "bfloat16", "--gpu-memory-utilization", "0.5"],
         VllmConfig("m", "bfloat16", gpu_memory_utilization=0.5)),
        (["--backend", "openai", "--model", "m", "--base-url", "http://h/v1", "--prompts-per-request", "2",
          "--concurrency", "3", "--api-key", "k"], OpenAIConfig("m", "http://h/v1", "k", 2, 3)),
    ],
)  # fmt: skip
def test_cli_flags_map_to_the_backends_config(
    tmp_path: Path, built: list[tuple[str, Any]], args: list[str], expected: Any
) -> None:
    code, _, err = _sample(tmp_path, *args)
    assert "stop here" in one_error_line(code, err)
    assert built == [(args[1], expected)]


@pytest.mark.parametrize(
    "args, line",
    [
        (["--backend", "fake", "--model", "canonical", "--batch-size", "4"],
         "error: --batch-size is not an option of --backend fake: it is for --backend hf"),
        (["--backend", "openai", "--model", "m", "--base-url", "http://h/v1", "--batch-size", "2"],
         "error: --batch-size is not an option of --backend openai: it is for --backend hf"),
        (["--backend", "hf", "--model", "m", "--tensor-parallel-size", "2"],
         "error: --tensor-parallel-size is not an option of --backend hf: it is for --backend vllm"),
        (["--backend", "hf", "--model", "m", "--api-key", "k"],
         "error: --api-key is not an option of --backend hf: it is for --backend openai"),
    ],
)  # fmt: skip
def test_cli_refuses_a_flag_of_another_backend_with_one_line(
    tmp_path: Path, args: list[str], line: str
) -> None:
    code, out, err = _sample(tmp_path, *args)
    assert one_error_line(code, err) == line and out == ""
    assert not (tmp_path / "s.jsonl").exists()


def test_an_api_key_in_the_environment_is_not_a_flag_for_other_backends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, built: list[tuple[str, Any]]
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "from-env")
    _sample(tmp_path, "--backend", "fake", "--model", "canonical")
    _sample(tmp_path, "--backend", "openai", "--model", "m", "--base-url", "http://h/v1")
    assert built == [
        ("fake", FakeConfig("canonical")),
        ("openai", OpenAIConfig("m", "http://h/v1", "from-env")),
    ]
