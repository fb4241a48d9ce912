"""humaneval-lab: exact, reproducible, sandboxed pass@k for code-generation models.

The public API is re-exported here; importing it never imports torch or vllm.
"""

from humaneval_lab.errors import ExitCode, HumanEvalLabError
from humaneval_lab.passk import pass_at_k, pass_at_k_array
from humaneval_lab.problems import Problem, ProblemSet, load_problems
from humaneval_lab.records import Sample, read_samples
from humaneval_lab.score import ScoreSettings, Summary, score

__version__ = "0.1.0"

__all__ = [
    "ExitCode",
    "HumanEvalLabError",
    "Problem",
    "ProblemSet",
    "Sample",
    "ScoreSettings",
    "Summary",
    "__version__",
    "load_problems",
    "pass_at_k",
    "pass_at_k_array",
    "read_samples",
    "score",
]
