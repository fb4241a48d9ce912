"""Generation: a ``Backend`` protocol, built-in backends registered by name, and ``sample``.

Built-ins (``vllm``, ``hf``, ``openai``, ``fake``) are registered like a third party's would be;
each is imported only when asked for, so scoring never imports torch or vllm. Each takes a config
of its own (``HfConfig``, ``VllmConfig``, ``OpenAIConfig``, ``FakeConfig``: see configs.py).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from humaneval_lab.errors import UserInputError
from humaneval_lab.sampling.base import (
    Backend,
    Generation,
    SamplingConfig,
    SamplingConfigError,
    WorkItem,
    derive_seed,
)
from humaneval_lab.sampling.configs import (
    CONFIGS,
    BackendConfig,
    FakeConfig,
    HfConfig,
    OpenAIConfig,
    VllmConfig,
    backend_config,
)
from humaneval_lab.sampling.run import SampleSummary, manifest_path, sample, work_items

__all__ = [
    "BACKENDS",
    "CONFIGS",
    "Backend",
    "BackendConfig",
    "FakeConfig",
    "Generation",
    "HfConfig",
    "OpenAIConfig",
    "SampleSummary",
    "SamplingConfig",
    "SamplingConfigError",
    "VllmConfig",
    "WorkItem",
    "backend_config",
    "derive_seed",
    "make_backend",
    "manifest_path",
    "register_backend",
    "sample",
    "work_items",
]

# name -> "module:factory"; a factory takes its backend's config (CONFIGS[name]) and returns a Backend.
BACKENDS: dict[str, str] = {
    "vllm": "humaneval_lab.sampling.vllm:from_config",
    "hf": "humaneval_lab.sampling.hf:from_config",
    "openai": "humaneval_lab.sampling.openai:from_config",
    "fake": "humaneval_lab.sampling.fake:from_config",
}


def register_backend(name: str, target: str, config: type[Any]) -> None:
    """Add a backend: ``target`` is "module:function" taking a ``config`` (a frozen dataclass with a
    ``model`` field; ``backend_config`` then builds it from options and refuses foreign ones)."""
    BACKENDS[name] = target
    CONFIGS[name] = config


def make_backend(name: str, config: Any) -> Backend:
    """The backend ``name`` built from its config (``CONFIGS[name]``, e.g. from ``backend_config``).

    UserInputError for an unknown name; SamplingConfigError for another backend's config.
    """
    target = BACKENDS.get(name)
    if target is None:
        raise UserInputError(f"unknown backend {name!r} (choose from: {', '.join(sorted(BACKENDS))})")
    wanted = CONFIGS[name]
    if not isinstance(config, wanted):
        raise SamplingConfigError(
            f"--backend {name} takes a {wanted.__name__}, got a {type(config).__name__}"
        )
    module, func = target.split(":")
    factory: Callable[[Any], Backend] = getattr(importlib.import_module(module), func)
    return factory(config)
