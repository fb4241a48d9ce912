"""A warm tester process: one long-lived trusted process per worker that runs Python tests.

The runner starts it (``python3 -s -P``, this module from the runner's bundle, see ``boot``) under
the tester uid with one end of a socket; its handle there is ``children.Tester``. The first frame is
the Python driver's source (hel_pydriver.py, the same file a standalone run executes); the tester
runs it once and then serves requests with its ``serve_tests``: per frame, a job's tests (JSON) with
the candidate's call pipes as fds; the answer is one frame ``{"passed", "gone", "stderr"}``. Only
plain values cross between the tests and the candidate (see hel_pydriver).

Standard library only.
"""

from __future__ import annotations

import socket
import sys
from typing import Any

from . import wire


def main(argv: list[str]) -> None:
    """Serve tests on the socket whose fd is ``argv[0]``; return when the runner closes it."""
    sock = socket.socket(fileno=int(argv[0]))
    try:
        driver, _ = wire.read_frame(sock)
    except EOFError:
        sys.exit(0)
    ns: dict[str, Any] = {"__name__": "hel_tester"}
    exec(compile(driver, "hel_pydriver.py", "exec", dont_inherit=True), ns)
    ns["serve_tests"](sock)
