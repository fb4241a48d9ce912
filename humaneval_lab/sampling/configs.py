"""One typed config per generation backend: each field means one thing, for the one backend that has it.

A setting that belongs to another backend is refused, not ignored: ``--tensor-parallel-size 4`` with
``--backend hf`` would otherwise sample on one device while the user believes otherwise.

Fields that change what the model computes (model, dtype, max_model_len) go into the manifest
through ``Backend.describe``; throughput knobs (batch size, concurrency) do not, so a resumed run
may change them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from humaneval_lab.sampling.base import SamplingConfigError

DTYPES = ("auto", "float32", "bfloat16", "float16")


def _at_least(owner: object, minimum: int, *names: str) -> None:
    for name in names:
        if getattr(owner, name) < minimum:
            raise SamplingConfigError(f"{name} must be at least {minimum}, got {getattr(owner, name)}")


def _model_and_dtype(model: str, dtype: str | None = None) -> None:
    if not model:
        raise SamplingConfigError("--model is required")
    if dtype is not None and dtype not in DTYPES:
        raise SamplingConfigError(f"dtype must be auto, float32, bfloat16 or float16, got {dtype!r}")


@dataclass(frozen=True)
class HfConfig:
    """``--backend hf``: transformers on this machine."""

    model: str  # a folder, a hub id or a named model (see models.py)
    device: str = "auto"  # "auto", "cpu", "cuda", "cuda:1"
    dtype: str = "auto"
    batch_size: int = 16  # sequences per generate call (samples never depend on it)

    def __post_init__(self) -> None:
        _model_and_dtype(self.model, self.dtype)
        _at_least(self, 1, "batch_size")


@dataclass(frozen=True)
class VllmConfig:
    """``--backend vllm``: an in-process vLLM engine."""

    model: str
    dtype: str = "auto"
    tensor_parallel_size: int = 1
    gpu_memory_utilization: float = 0.9
    max_model_len: int | None = None
    engine_args: Mapping[str, Any] = field(default_factory=dict)  # more ``vllm.LLM`` keyword arguments
    # VLLM_BATCH_INVARIANT=1 in the engine's process: a sample's text no longer depends on which
    # requests share its batch (recorded by describe(), so it is part of what a resume must match)
    batch_invariant: bool = False

    def __post_init__(self) -> None:
        _model_and_dtype(self.model, self.dtype)
        _at_least(self, 1, "tensor_parallel_size")
        if not 0.0 < self.gpu_memory_utilization <= 1.0:
            raise SamplingConfigError(
                f"gpu_memory_utilization must be in (0, 1], got {self.gpu_memory_utilization}"
            )
        if self.max_model_len is not None and self.max_model_len < 16:
            raise SamplingConfigError(f"max_model_len must be at least 16, got {self.max_model_len}")


@dataclass(frozen=True)
class OpenAIConfig:
    """``--backend openai``: an OpenAI-compatible completions server (vLLM serve, TGI, ...)."""

    model: str  # the served model name
    base_url: str | None = None  # e.g. http://127.0.0.1:8000/v1 (required; checked by the backend)
    api_key: str | None = field(default=None, repr=False)  # never printed
    prompts_per_request: int = 16  # prompts with the same n share one request
    concurrency: int = 8  # requests in flight
    max_retries: int = 6
    request_timeout_s: float = 600.0
    samples_per_request: int | None = None  # n per request (None: all of a prompt's samples)

    def __post_init__(self) -> None:
        _model_and_dtype(self.model)
        _at_least(self, 1, "prompts_per_request", "concurrency")
        _at_least(self, 0, "max_retries")
        if not self.request_timeout_s > 0:
            raise SamplingConfigError(f"request_timeout_s must be positive, got {self.request_timeout_s}")
        if self.samples_per_request is not None:
            _at_least(self, 1, "samples_per_request")


@dataclass(frozen=True)
class FakeConfig:
    """``--backend fake``: canned text for testing pipelines (see fake.py for the models)."""

    model: str  # canonical, mixed, bytes, chat
    delay_s: float = 0.0  # per generation, to test progress and Ctrl-C

    def __post_init__(self) -> None:
        _model_and_dtype(self.model)
        if self.delay_s < 0:
            raise SamplingConfigError(f"delay_s must be 0 or more, got {self.delay_s}")


BackendConfig = HfConfig | VllmConfig | OpenAIConfig | FakeConfig

# Built-in backend name -> its config class (third parties register theirs with register_backend).
CONFIGS: dict[str, type[Any]] = {
    "hf": HfConfig,
    "vllm": VllmConfig,
    "openai": OpenAIConfig,
    "fake": FakeConfig,
}


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def owners(option: str, configs: Mapping[str, type[Any]] | None = None) -> list[str]:
    """The backends whose config has ``option``."""
    return sorted(b for b, cls in (configs or CONFIGS).items() if option in {f.name for f in fields(cls)})


def backend_config(backend: str, model: str, options: Mapping[str, Any] | None = None) -> Any:
    """The config of ``backend`` for ``model`` with ``options`` (field name -> value; the fields the
    user did not set keep their defaults). SamplingConfigError, naming the flag and its backend, for
    an option ``backend`` does not have, or for an unknown backend."""
    cls = CONFIGS.get(backend)
    if cls is None:
        raise SamplingConfigError(f"unknown backend {backend!r} (choose from: {', '.join(sorted(CONFIGS))})")
    own = {f.name for f in fields(cls)}
    for name in options or {}:
        if name not in own:
            others = owners(name)
            whose = f"it is for --backend {' or '.join(others)}" if others else "no backend has it"
            raise SamplingConfigError(f"{flag(name)} is not an option of --backend {backend}: {whose}")
    return cls(model=model, **dict(options or {}))
