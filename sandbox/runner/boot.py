"""The runner as a bundle: its modules' sources as one ``{module: source}`` mapping, loaded from memory.

The host sends the bundle once per container (``BOOTSTRAP``: a length line, then the bundle as
JSON, on the runner's stdin, then the channel key and the job stream), so the image needs no
rebuild when the runner changes and nothing of the runner is ever a file in the container: no
sample can read or modify its source. ``install`` puts a finder for package ``hel`` on
``sys.meta_path`` that compiles each module from the mapping.

The runner's helper processes (the zygote, the warm testers) are started the same way
(``helper_argv``, ``helper_input``): ``python3 -s -P -c CHILD <module> args`` reading on stdin only
the modules they need, never the runner's key, which exists in the runner's memory only.

Standard library only.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from importlib.machinery import ModuleSpec
from types import ModuleType
from typing import Any, cast

PACKAGE = "hel"

# Run by ``python3 -u -I -c BOOTSTRAP <workers>`` as the container's command (see the host's
# humaneval_lab.execution.docker). Source over stdin, not argv: argv is visible in /proc/<pid>/cmdline.
BOOTSTRAP = (
    "import sys, json\n"
    "n = int(sys.stdin.buffer.readline())\n"
    "bundle = json.loads(sys.stdin.buffer.read(n))\n"
    "g = {'__name__': 'hel_boot'}\n"
    "exec(compile(bundle['boot'], '<hel>/boot.py', 'exec'), g)\n"
    "g['install'](bundle)\n"
    "import hel.serve\n"
    "hel.serve.serve(int(sys.argv[1]), '/work', True)\n"
)

# A helper process's command (``-c``): its modules arrive on stdin (JSON, to EOF); argv[1] names
# the module whose ``main(argv[2:])`` it runs.
CHILD = (
    "import sys, json\n"
    "bundle = json.loads(sys.stdin.buffer.read())\n"
    "g = {'__name__': 'hel_boot'}\n"
    "exec(compile(bundle['boot'], '<hel>/boot.py', 'exec'), g)\n"
    "g['install'](bundle)\n"
    "import importlib\n"
    "importlib.import_module('hel.' + sys.argv[1]).main(sys.argv[2:])\n"
)

# What each helper imports (its module and those it imports from the package), and only that.
HELPER_MODULES = {"zygote": ("boot", "limits", "proc", "zygote"), "tester": ("boot", "wire", "tester")}


class BundleLoader:
    """Finds and loads ``hel.<module>`` from a ``{module: source}`` mapping (``__init__``: the package)."""

    def __init__(self, sources: dict[str, str]) -> None:
        self.sources = sources

    def _short(self, fullname: str) -> str | None:
        if fullname == PACKAGE:
            return "__init__"
        if fullname.startswith(PACKAGE + ".") and "." not in fullname[len(PACKAGE) + 1 :]:
            return fullname[len(PACKAGE) + 1 :]
        return None

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> ModuleSpec | None:
        short = self._short(fullname)
        if short is None or (short not in self.sources and short != "__init__"):
            return None
        return importlib.util.spec_from_loader(fullname, cast(Any, self), is_package=fullname == PACKAGE)

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        short = self._short(module.__name__) or ""
        source = self.sources.get(short, "")
        exec(compile(source, f"<hel>/{short}.py", "exec", dont_inherit=True), module.__dict__)


def install(sources: dict[str, str]) -> None:
    """Make ``import hel.<module>`` load from ``sources`` (once per process)."""
    if not isinstance(sources, dict) or not all(isinstance(v, str) for v in sources.values()):
        raise ValueError("the runner's bundle must map module names to sources")
    sys.meta_path.insert(0, BundleLoader(sources))


def read_dir(path: str) -> dict[str, str]:
    """The bundle of the package in dir ``path``: every ``*.py`` but the package's ``__init__``."""
    out = {}
    for name in sorted(os.listdir(path)):
        if name.endswith(".py") and name != "__init__.py":
            with open(os.path.join(path, name), encoding="utf-8") as f:
                out[name[:-3]] = f.read()
    return out


def bundle() -> bytes:
    """What the host sends: the bundle of this package, as JSON (the length line is the caller's)."""
    return json.dumps(read_dir(os.path.dirname(os.path.abspath(__file__))), sort_keys=True).encode()


def _own_sources() -> dict[str, str]:
    """This running package's sources: the bundle's in a container, the files' on a host."""
    for finder in sys.meta_path:
        if isinstance(finder, BundleLoader) or type(finder).__name__ == "BundleLoader":
            sources = getattr(finder, "sources", None)
            if isinstance(sources, dict):
                return sources
    return read_dir(os.path.dirname(os.path.abspath(__file__)))


def helper_argv(python: str, isolation: tuple[str, ...], module: str, *args: str) -> list[str]:
    """The command of helper ``module`` (see ``CHILD``)."""
    return [python, *isolation, "-c", CHILD, module, *args]


def helper_input(module: str) -> bytes:
    """What helper ``module`` reads on stdin: the modules it needs, as JSON."""
    sources = _own_sources()
    return json.dumps({m: sources[m] for m in HELPER_MODULES[module]}).encode()
