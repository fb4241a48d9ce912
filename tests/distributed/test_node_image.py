"""A node's sandbox image, on the real Docker sandbox (no Ray: the actor's class in-process). The
"image missing" state is injected (a real build takes 13+ minutes): the node is refused with the
tag and the way out, or it runs ``sandbox build``'s build function once and then judges its
canaries right on the real image."""

from __future__ import annotations

from typing import Any

import pytest

import humaneval_lab.sandbox_image as sandbox_image
from humaneval_lab.distributed.node import NodeSandbox
from humaneval_lab.distributed.sandboxes import DockerOnNode, NodeInfo
from humaneval_lab.errors import EnvironmentProblem
from humaneval_lab.execution.docker import default_image

pytestmark = pytest.mark.docker

INFO = NodeInfo("f" * 56, "127.0.0.1", 1)


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The image is missing until the (recorded, not run) build function has been called."""
    built: list[str] = []

    def build_image(tag: str | None = None, **_: Any) -> str:
        built.append(str(tag))
        return str(tag)

    monkeypatch.setattr(sandbox_image, "image_exists", lambda _client, _tag: bool(built))
    monkeypatch.setattr(sandbox_image, "build_image", build_image)
    return built


def test_a_node_without_its_image_is_refused_with_the_tag(builds: list[str]) -> None:
    node = NodeSandbox(DockerOnNode(pin_cpus=False), INFO)
    tag = default_image()
    assert node.missing_image() == tag
    with pytest.raises(EnvironmentProblem) as err:
        node.admit(["python"], build=False)
    assert str(err.value) == (f"sandbox image {tag} is missing on it: build it there with "
                              f"`humaneval-lab sandbox build --tag {tag}`, or pass --ray-build-sandbox")  # fmt: skip
    assert builds == []


def test_a_node_builds_its_image_once_then_judges(builds: list[str]) -> None:
    node = NodeSandbox(DockerOnNode(pin_cpus=False), INFO)
    try:
        answer = node.admit(["python"], build=True)
    finally:
        node.close()
    tag = default_image()
    assert builds == [tag] and answer.built == tag
    assert answer.sandbox["image"] == tag and answer.sandbox["recipe"]
    assert {case for _lang, case, _ok, _got in answer.verdicts} >= {"good", "bad"}
    assert all(ok for _lang, _case, ok, _got in answer.verdicts), answer.verdicts
