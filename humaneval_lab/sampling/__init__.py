"""Generation: a ``Backend`` protocol, built-in backends registered by name, and ``sample``.

Built-ins (``vllm``, ``hf``, ``openai``, ``fake``) are registered like a third party's would be;
each is imported only when asked for, so scoring never imports torch or vllm.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from humaneval_lab.errors import UserInputError
from humaneval_lab.sampling.base import (
    Backend,
    EngineConfig,
    Generation,
    SamplingConfig,
    SamplingConfigError,
    WorkItem,
    derive_seed,
)
from humaneval_lab.sampling.run import SampleSummary, manifest_path, sample, work_items

__all__ = [
    "BACKENDS",
    "Backend",
    "EngineConfig",
    "Generation",
    "SampleSummary",
    "SamplingConfig",
    "SamplingConfigError",
    "WorkItem",
    "derive_seed",
    "make_backend",
    "manifest_path",
    "register_backend",
    "sample",
    "work_items",
]

# name -> "module:factory"; a factory takes an EngineConfig and returns a Backend.
BACKENDS: dict[str, str] = {
    "vllm": "humaneval_lab.sampling.vllm:from_config",
    "hf": "humaneval_lab.sampling.hf:from_config",
    "openai": "humaneval_lab.sampling.openai:from_config",
    "fake": "humaneval_lab.sampling.fake:from_config",
}


def register_backend(name: str, target: str) -> None:
    """Add a backend: ``target`` is "module:function" taking an EngineConfig."""
    BACKENDS[name] = target


def make_backend(name: str, engine: EngineConfig) -> Backend:
    target = BACKENDS.get(name)
    if target is None:
        raise UserInputError(f"unknown backend {name!r} (choose from: {', '.join(sorted(BACKENDS))})")
    module, func = target.split(":")
    factory: Callable[[EngineConfig], Backend] = getattr(importlib.import_module(module), func)
    return factory(engine)
