"""The exception tree and the exit codes; the CLI maps one to the other in one place.

::

    HumanEvalLabError                exit 2 unless stated
    ├── UserInputError               a file, flag or value the user must fix
    │   ├── InputFileError           names the file (and line) that is wrong
    │   ├── UnknownTaskError         a sample names a task the problem set lacks
    │   ├── PassAtKError             k > n, no samples for a problem, ...
    │   └── ResumeMismatchError      an output folder made with other inputs or settings
    ├── EnvironmentProblem           something on this machine must be installed or started
    │   ├── DockerUnavailableError   Docker missing, daemon down, image missing
    │   └── BackendUnavailableError  an optional generation backend is not installed
    ├── RegressionError              exit 1: the gate found a regression
    └── InfrastructureError          exit 4: the sandbox itself failed and could not recover

Exit codes (for pipelines): 0 ok; 1 the candidate regressed; 2 the user must fix something;
4 internal error (with a traceback); 130 interrupted.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    OK = 0
    REGRESSION = 1
    USAGE = 2
    INTERNAL = 4
    INTERRUPTED = 130


class HumanEvalLabError(Exception):
    """Base of every error humaneval-lab raises on purpose; its message is one line for the user."""

    exit_code: ExitCode = ExitCode.USAGE


class UserInputError(HumanEvalLabError):
    """Bad input, usage or settings."""


class InputFileError(UserInputError):
    """A file that is missing, unreadable or malformed; carries the path and line number."""

    def __init__(self, path: str | Path, message: str, line: int | None = None) -> None:
        self.path = str(path)
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {message}")


class UnknownTaskError(UserInputError):
    """A sample names a task_id that the selected problem set does not contain."""


class PassAtKError(UserInputError):
    """pass@k cannot be computed honestly from these counts (k > n, no samples, ...)."""


class ResumeMismatchError(UserInputError):
    """An existing output folder was made from other inputs or settings."""


class EnvironmentProblem(HumanEvalLabError):
    """Something on this machine must be installed or started first."""


class DockerUnavailableError(EnvironmentProblem):
    """Docker is missing, its daemon is down, or the sandbox image is absent."""


class BackendUnavailableError(EnvironmentProblem):
    """An optional generation backend (vllm, transformers, ...) is not installed or not reachable."""


class RegressionError(HumanEvalLabError):
    """The gate found that the candidate regressed."""

    exit_code = ExitCode.REGRESSION


class InfrastructureError(HumanEvalLabError):
    """The execution infrastructure failed and could not recover; not the model's fault."""

    exit_code = ExitCode.INTERNAL
