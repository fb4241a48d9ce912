"""The environment and interpreter flags every job process starts with. Standard library only."""

from __future__ import annotations

# A fixed hash seed for every Python process: set iteration order, and so a verdict, is the same on
# every run. The zygote and the warm testers start with this one; a job may carry its own
# (``hash_seed``), whose Python processes then start fresh (see steps.start).
PYTHON_HASH_SEED = "0"

# ``-I`` ignores every PYTHON* variable, PYTHONHASHSEED too: each interpreter would draw a random
# hash secret, and set iteration order (so a verdict) would change from run to run. Our own Python
# processes in the container start with what -I means but the environment, which is ours alone
# (base_env): no user site dir (-s), no script or cwd dir on sys.path (-P, Python 3.11, the image's).
SEEDED_ISOLATION = ("-s", "-P")


def base_env(workdir: str, extra: dict[str, str]) -> dict[str, str]:
    """A job process's whole environment: ours, then ``extra`` (the program's) over it."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": workdir,
        "TMPDIR": workdir,
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": PYTHON_HASH_SEED,
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
    }
    env.update(extra)
    return env


def seeded(argv: list[str]) -> list[str]:
    """``python3 -I ...`` exec'd in the container, made to honour the job's PYTHONHASHSEED."""
    if len(argv) >= 2 and argv[0] in ("python3", "python") and argv[1] == "-I":
        return [argv[0], *SEEDED_ISOLATION, *argv[2:]]
    return argv


def warm_python(argv: list[str]) -> bool:
    """Whether a step is ``python3 -I script.py ...`` and so can start from the zygote in-process."""
    return len(argv) >= 3 and argv[0] in ("python3", "python") and argv[1] == "-I" and argv[2].endswith(".py")
