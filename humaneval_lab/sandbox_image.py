"""The sandbox Docker image: recipe hash, lookup and (registry-free) build.

The recipe lives in ``sandbox/`` (see ``sandbox/README.md``). Its hash names
the image tag, so a local image with that tag *is* the build cache: editing
any recipe file yields a new tag and a rebuild. Images are never pulled.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import importlib.util
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from humaneval_lab.errors import SandboxBuildError

if TYPE_CHECKING:  # pragma: no cover
    import docker

IMAGE_REPOSITORY = "humaneval-lab-sandbox"
RECIPE_FILES = ("packages.txt", "build-offline.sh", "setup-rootfs.sh")
RECIPE_LABEL = "org.humaneval-lab.recipe"
# Where an installed (non-editable) humaneval-lab keeps sandbox/ as package data: setup.cfg maps
# sandbox/ to humaneval_lab.sandbox.
_RESOURCE_PACKAGE = "humaneval_lab.sandbox"


def recipe_hash(sandbox_dir: Path) -> str:
    """First 12 hex chars of sha256 over the recipe files.

    For each name in RECIPE_FILES, in order, the digest takes
    ``name NUL len(data) NUL data``; sandbox/build-offline.sh computes the
    same value for the image label.
    """
    digest = hashlib.sha256()
    for name in RECIPE_FILES:
        path = Path(sandbox_dir) / name
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise SandboxBuildError(f"sandbox recipe file missing: {path}") from exc
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(str(len(data)).encode())
        digest.update(b"\0")
        digest.update(data)
    return digest.hexdigest()[:12]


def default_image_tag(sandbox_dir: Path) -> str:
    return f"{IMAGE_REPOSITORY}:{recipe_hash(sandbox_dir)}"


def _is_recipe_dir(path: Path) -> bool:
    return all((path / name).is_file() for name in RECIPE_FILES)


def sandbox_dir() -> Path:
    """Locate the ``sandbox/`` recipe folder.

    A source checkout (``<repo>/sandbox`` next to the package) wins; else the
    package data of an installed humaneval-lab (see _RESOURCE_PACKAGE).
    """
    checkout = Path(__file__).resolve().parent.parent / "sandbox"
    if _is_recipe_dir(checkout):
        return checkout
    if importlib.util.find_spec(_RESOURCE_PACKAGE) is not None:
        # Package data installed on the file system (a wheel, not a zip).
        path = Path(str(importlib.resources.files(_RESOURCE_PACKAGE)))
        if _is_recipe_dir(path):
            return path
    raise SandboxBuildError(
        f"sandbox recipe not found: neither {checkout} nor the package "
        f"{_RESOURCE_PACKAGE} holds {', '.join(RECIPE_FILES)}"
    )


def image_exists(client: docker.DockerClient, tag: str) -> bool:
    """True if the local engine has ``tag``. Never pulls."""
    import docker.errors

    try:
        client.images.get(tag)
    except docker.errors.ImageNotFound:
        return False
    return True


def _docker_client() -> Any:
    """The one way this package reaches Docker (DockerUnavailableError, with the fix, otherwise)."""
    from humaneval_lab.execution.docker import docker_client

    return docker_client()


def build_image(
    tag: str | None = None,
    *,
    force: bool = False,
    log: Callable[[str], object] = print,
) -> str:
    """Return the tag of a local sandbox image, building it if needed.

    Cached: if the engine already has ``tag`` (default: the recipe-hash tag)
    and ``force`` is false, nothing is built. Otherwise runs
    ``sandbox/build-offline.sh`` (root, debootstrap, a Debian mirror),
    streaming its output to ``log``.
    """
    recipe = sandbox_dir()
    tag = tag or default_image_tag(recipe)
    client = _docker_client()
    if not force and image_exists(client, tag):
        log(f"sandbox image {tag} present (cached)")
        return tag
    if shutil.which("debootstrap") is None:
        raise SandboxBuildError(
            "debootstrap not found: apt-get install debootstrap, "
            "or build sandbox/Dockerfile with docker build"
        )
    if os.geteuid() != 0:
        raise SandboxBuildError(
            "building the sandbox image needs root (debootstrap, chroot): "
            "run as root, or build sandbox/Dockerfile with docker build"
        )
    script = recipe / "build-offline.sh"
    log(f"building sandbox image {tag} with {script}")
    proc = subprocess.Popen(
        ["bash", str(script), "", tag],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        bufsize=1,
    )
    assert proc.stdout is not None
    with proc:
        for line in proc.stdout:
            log(line.rstrip("\n"))
    if proc.returncode != 0:
        raise SandboxBuildError(f"{script} failed with exit status {proc.returncode}")
    if not image_exists(client, tag):
        raise SandboxBuildError(f"{script} succeeded but image {tag} is missing")
    return tag
