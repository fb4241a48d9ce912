"""The exception tree and the exit codes; the CLI maps one to the other in one place.

::

    HumanEvalLabError                exit 2 unless stated
    ├── UserInputError               a file, flag or value the user must fix
    │   ├── ConfigError              a setting out of range (also a ValueError)
    │   ├── InputFileError           names the file (and line) that is wrong
    │   ├── UnknownTaskError         a sample names a task the problem set lacks
    │   ├── PassAtKError             k > n, no samples for a problem, ...
    │   └── ResumeMismatchError      an output folder made with other inputs or settings
    ├── EnvironmentProblem           something on this machine must be installed or started
    │   ├── DockerUnavailableError   Docker missing, daemon down, image missing
    │   ├── SandboxBuildError        the sandbox image could not be built
    │   └── BackendUnavailableError  an optional generation backend is not installed
    └── InfrastructureError          exit 3: the sandbox itself failed and could not recover

Exit codes (for pipelines): 0 ok; 1 the gate found a regression (a decision, not an error: no
exception); 2 the user must fix something; 3 the sandbox failed, retry (re-running resumes);
4 internal error, a bug (with a traceback); 130 interrupted. ``HUMANEVAL_LAB_DEBUG=1`` makes the
CLI re-raise instead of printing one line.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path


class ExitCode(IntEnum):
    OK = 0
    REGRESSION = 1
    USAGE = 2
    INFRA = 3
    INTERNAL = 4
    INTERRUPTED = 130


class HumanEvalLabError(Exception):
    """Base of every error humaneval-lab raises on purpose; its message is one line for the user."""

    exit_code: ExitCode = ExitCode.USAGE


class UserInputError(HumanEvalLabError):
    """Bad input, usage or settings."""


class ConfigError(UserInputError, ValueError):
    """A setting out of range ("jobs must be at least 1, got 0"); a ValueError too, for callers
    that validate settings the standard way."""


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


class SandboxBuildError(EnvironmentProblem):
    """The sandbox image could not be built (no root, no debootstrap, the recipe failed)."""


class BackendUnavailableError(EnvironmentProblem):
    """An optional generation backend (vllm, transformers, ...) is not installed or not reachable."""


class InfrastructureError(HumanEvalLabError):
    """The execution infrastructure failed and could not recover; not the model's fault."""

    exit_code = ExitCode.INFRA
