"""`sample`: n completions per prompt from a model."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from click.core import ParameterSource
from rich.markup import escape

from humaneval_lab.cli import (
    complete_lines,
    exit_with,
    main,
    problem_options,
    select_problems,
)
from humaneval_lab.console import console, result_console, sample_progress
from humaneval_lab.errors import ExitCode


@main.command()
@problem_options
@click.option(
    "--backend", required=True, help="vllm, hf, openai, or fake (canned text for testing pipelines)."
)
@click.option(
    "--model",
    required=True,
    help="A model folder, a hub id, a named model (smollm2-135m), or the served model name. With "
    "--backend fake: canonical (the canonical solutions), mixed (right or wrong by seed), bytes "
    "(broken UTF-8), chat (a prose reply with a fenced solution).",
)
@click.option("-n", "--num-samples", "n", type=int, default=1, show_default=True, help="Samples per problem.")
@click.option("--temperature", type=float, default=0.8, show_default=True, help="0 is greedy.")
@click.option("--top-p", type=float, default=0.95, show_default=True)
@click.option("--top-k", type=int, default=0, show_default=True, help="0 is off.")
@click.option("--max-new-tokens", type=int, default=512, show_default=True)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Run seed; each sample's seed derives from it."
)
@click.option(
    "--prompt-mode",
    type=click.Choice(["auto", "raw", "chat"]),
    default="auto",
    show_default=True,
    help="raw: continue the prompt. chat: ask an instruct model, extract the code. auto: the named model's mode, else raw.",
)
@click.option("--stop", "stops", multiple=True, help="An extra stop sequence (repeatable).")
# Engine options: each belongs to the backends named in its help; another backend refuses it.
# Defaults live in the backend's config (sampling/configs.py), not here.
@click.option("--device", default=None, help="hf: auto (default), cpu, cuda, cuda:N.")
@click.option("--dtype", default=None, help="hf, vllm: auto (default), float32, bfloat16, float16.")
@click.option("--batch-size", type=int, default=None, help="hf: sequences per generate call (default 16).")
@click.option("--tensor-parallel-size", type=int, default=None, help="vllm: GPUs per model (default 1).")
@click.option("--gpu-memory-utilization", type=float, default=None, help="vllm: (0, 1], default 0.9.")
@click.option("--max-model-len", type=int, default=None, help="vllm: context length (default: the model's).")
@click.option("--batch-invariant", is_flag=True, default=None,
              help="vllm: VLLM_BATCH_INVARIANT=1 in the engine's process, so greedy/seeded text does not depend on "
                   "the batch (slower; NVIDIA compute capability 8.0+, AMD Instinct, Intel XPU). In the manifest.")  # fmt: skip
@click.option("--base-url", default=None, help="openai: e.g. http://127.0.0.1:8000/v1")
@click.option("--api-key", envvar="OPENAI_API_KEY", default=None, help="openai (default: $OPENAI_API_KEY).")
@click.option("--concurrency", type=int, default=None, help="openai: requests in flight (default 8).")
@click.option(
    "--prompts-per-request", type=int, default=None, help="openai: prompts per request (default 16)."
)
@click.option("--ray", "ray_address", default=None, metavar="auto|HOST:PORT",
              help="hf, vllm: run engine replicas as actors on a Ray cluster (see docs/scale.md).")  # fmt: skip
@click.option("--replicas", type=int, default=1, show_default=True,
              help="With --ray: engine replicas (vllm: each takes --tensor-parallel-size GPUs).")  # fmt: skip
@click.option(
    "-o",
    "--output",
    "out_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Samples JSONL; a manifest is written beside it. Re-run to resume.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON to stdout.")
def sample(suite: str | None, problems_path: str | None, split: str | None, languages: tuple[str, ...], limit: int | None,
           tasks: tuple[str, ...], backend: str, model: str, n: int, temperature: float, top_p: float,
           top_k: int, max_new_tokens: int, seed: int, prompt_mode: str, stops: tuple[str, ...],
           ray_address: str | None, replicas: int, out_path: str, as_json: bool, **engine: Any) -> None:  # fmt: skip
    """Generate n completions per problem into a JSONL file that `score` reads.

    \b
    Example:
      humaneval-lab sample --backend hf --model smollm2-135m --limit 20 -n 4 -o runs/demo/samples.jsonl
      humaneval-lab sample --backend vllm --model /ckpt/step-1200 -n 200 --temperature 0.8 -o s.jsonl
      humaneval-lab sample --backend vllm --model /ckpt/step-1200 -n 200 -o s.jsonl --ray auto --replicas 8
      humaneval-lab sample --backend openai --base-url http://127.0.0.1:8000/v1 --model m -n 20 -o s.jsonl
    """
    from humaneval_lab.sampling import Backend, SamplingConfig, make_backend
    from humaneval_lab.sampling import sample as run_sample
    from humaneval_lab.sampling.models import default_prompt_mode

    ps = select_problems(suite, problems_path, languages, limit, tasks, split)
    mode = default_prompt_mode(model) if prompt_mode == "auto" else prompt_mode
    config = SamplingConfig(n=n, temperature=temperature, top_p=top_p, top_k=top_k, max_new_tokens=max_new_tokens,
                            seed=seed, prompt_mode=mode, extra_stops=stops)  # fmt: skip
    from humaneval_lab.sampling.run import greedy_warning

    engine_cfg = engine_config(backend, model, engine)
    if (
        ray_address is None
        and click.get_current_context().get_parameter_source("replicas") is not ParameterSource.DEFAULT
    ):
        exit_with(
            "--replicas applies to --ray only (without --ray, one engine runs on this machine)",
            ExitCode.USAGE,
        )
    if ray_address is not None:
        from humaneval_lab.distributed import import_ray
        from humaneval_lab.distributed.sampling import RayBackend, check_backend

        check_backend(backend)
        import_ray()
        be: Backend = RayBackend(backend, engine_cfg, replicas, ray_address,
                                 on_event=lambda msg: console.print(escape(msg), soft_wrap=True))  # fmt: skip
    else:
        be = make_backend(backend, engine_cfg)
    warning = greedy_warning(config)
    if warning:
        console.print(f"[bold yellow]warning:[/] {escape(warning)}", soft_wrap=True)
    try:
        with sample_progress() as update:
            summary = run_sample(ps, be, config, out_path, progress=update)
    except KeyboardInterrupt:
        kept = complete_lines(Path(out_path))
        exit_with(f"interrupted: {kept} of {len(ps) * n} samples kept in {out_path}; re-run the same command to resume",
              ExitCode.INTERRUPTED)  # fmt: skip
    finally:
        be.close()
    result_console(as_json).print(
        f"{summary.samples} samples in {out_path} ({summary.generated} generated, {summary.kept} kept from an "
        f"earlier run); {summary.tokens} tokens in {summary.duration_s:.1f} s ({summary.tokens_per_s:.1f} tokens/s)"
    )
    for note in summary.notes:
        if note != warning:  # said before sampling started
            console.print(f"[yellow]note:[/] {escape(note)}", soft_wrap=True)
    if as_json:
        click.echo(json.dumps(summary.to_json(), indent=2))


def engine_config(backend: str, model: str, given: dict[str, Any]) -> Any:
    """The backend's config from the engine flags the user set (on the command line, or
    $OPENAI_API_KEY); a flag of another backend is refused with one line (exit 2)."""
    from humaneval_lab.sampling import CONFIGS, backend_config
    from humaneval_lab.sampling.configs import owners

    ctx = click.get_current_context()
    options = {}
    for name, value in given.items():
        source = ctx.get_parameter_source(name)
        if value is None or source is ParameterSource.DEFAULT:
            continue
        if source is ParameterSource.ENVIRONMENT and backend not in owners(name, CONFIGS):
            continue  # an environment variable set for other tools is not a request to this backend
        options[name] = value
    return backend_config(backend, model, options)
