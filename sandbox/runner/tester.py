"""A warm tester process: one long-lived trusted process per worker that runs Python tests.

The runner starts it (``python3 -s -P``, this module from the runner's bundle, see ``boot``) under
the tester uid with one end of a socket; its handle there is ``children.Tester``. Per frame, a job's tests (JSON) with
the candidate's call pipes as fds; the answer is one frame ``{"passed", "gone", "stderr"}``. Only
plain values cross between the tests and the candidate (see hel_pydriver).

The first two frames are the driver's two files, hel_pydriver.py (its framing) and hel_pytests.py
(the tests' side, whose ``serve_tests`` then answers every later frame).

Standard library only.
"""

from __future__ import annotations

import socket
import sys
import types

from . import wire


def main(argv: list[str]) -> None:
    """Serve tests on the socket whose fd is ``argv[0]``; return when the runner closes it."""
    sock = socket.socket(fileno=int(argv[0]))
    modules = {}
    try:
        for name in ("hel_pydriver", "hel_pytests"):  # hel_pytests imports from hel_pydriver
            source, _ = wire.read_frame(sock)
            modules[name] = _load(name, source)
    except EOFError:
        sys.exit(0)
    modules["hel_pytests"].serve_tests(sock)


def _load(name: str, source: bytes) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__file__ = f"{name}.py"
    sys.modules[name] = module
    exec(compile(source, module.__file__, "exec", dont_inherit=True), module.__dict__)
    return module
