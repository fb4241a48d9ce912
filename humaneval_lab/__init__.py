"""humaneval-lab: exact, reproducible, sandboxed pass@k for code-generation models.

The public API is re-exported here; importing it never imports torch or vllm.
"""

from importlib.metadata import PackageNotFoundError, version

from humaneval_lab.compare import compare, gate
from humaneval_lab.errors import ExitCode, HumanEvalLabError
from humaneval_lab.execution.base import Executor
from humaneval_lab.passk import pass_at_k, pass_at_k_array
from humaneval_lab.problems import Problem, ProblemSet, load_problems
from humaneval_lab.records import Sample, read_samples
from humaneval_lab.runs import load_run
from humaneval_lab.sampling.base import Backend
from humaneval_lab.sampling.run import sample
from humaneval_lab.scoring import ScoreSettings, Summary, score

try:
    __version__ = version("humaneval-lab")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"

__all__ = [
    "Backend",
    "Executor",
    "ExitCode",
    "HumanEvalLabError",
    "Problem",
    "ProblemSet",
    "Sample",
    "ScoreSettings",
    "Summary",
    "__version__",
    "compare",
    "gate",
    "load_problems",
    "load_run",
    "pass_at_k",
    "pass_at_k_array",
    "read_samples",
    "sample",
    "score",
]
