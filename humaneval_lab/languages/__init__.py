"""Language specs and their registry.

A language is one module in this package that defines ``SPEC: LanguageSpec``: its names, stop
sequences for sampling, and ``build(problem, source)`` that turns the code to judge into a
``Program`` (files, compile and run commands, how a failure shows). Adding a language is one file
here plus its problems; the registry finds modules by itself.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

from humaneval_lab.errors import UserInputError
from humaneval_lab.languages.base import LanguageSpec, source_of

__all__ = ["LanguageSpec", "all_languages", "get_language", "source_of"]


@cache
def _registry() -> dict[str, LanguageSpec]:
    specs: dict[str, LanguageSpec] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name == "base" or info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        spec = getattr(module, "SPEC", None)
        if isinstance(spec, LanguageSpec):
            for name in (spec.name, *spec.aliases):
                specs[name] = spec
    return specs


def all_languages() -> list[LanguageSpec]:
    return sorted({id(s): s for s in _registry().values()}.values(), key=lambda s: s.name)


def get_language(name: str) -> LanguageSpec:
    try:
        return _registry()[name]
    except KeyError:
        known = ", ".join(s.name for s in all_languages())
        raise UserInputError(f"no runner for language {name!r} (supported: {known})") from None
