"""``hf-custom wrap MODULE:CLASS --out DIR``: generate the Hugging Face files for a plain module."""

from __future__ import annotations

from pathlib import Path

import click

from hf_custom.cli.output import err_console, format_option, print_json, progress_sink

TASK_NAMES = (
    "base",
    "masked-lm",
    "causal-lm",
    "sequence-classification",
    "token-classification",
    "question-answering",
    "multiple-choice",
)


@click.command()
@click.argument("target", metavar="MODULE:CLASS")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="New folder for the checkpoint (must not exist or be empty).",
)
@click.option(
    "--weights",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    help="State dict of the module (.bin/.pt/.safetensors). Default: fresh initialisation.",
)
@click.option(
    "--tasks",
    help=f"Comma-separated heads to generate ({', '.join(TASK_NAMES)}). "
    "Default: from what the module returns.",
)
@click.option(
    "--name", help="Model name: class prefix, file names and model_type (default: the class)."
)
@click.option(
    "--arg",
    "args",
    multiple=True,
    metavar="KEY=VALUE",
    help="Constructor argument / config field (repeatable); values are JSON or Python literals.",
)
@click.option(
    "--batch-first/--seq-first",
    "batch_first",
    default=None,
    help="Layout of the module's inputs and outputs. Default: found by tracing a call.",
)
@click.option(
    "--mask",
    type=click.Choice(["auto", "keep", "pad", "ignore"]),
    default="auto",
    show_default=True,
    help="How the module's mask argument marks tokens: keep (1 = real token), pad (True = padding).",
)
@click.option(
    "--lm-head",
    metavar="NAME",
    help="The module's own language-modeling head, unused by its forward (dotted attribute); "
    "'none' for a new head tied to the embedding. Default: found by trying unused submodules.",
)
@click.option(
    "--tokenizer",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Folder with the tokenizer files to ship alongside (tokenizer.json, ...).",
)
@click.option(
    "--code-root",
    type=click.Path(path_type=Path, file_okay=False, exists=True),
    help="Folder a dotted MODULE is imported from (default: the current directory).",
)
@click.option("--no-verify", is_flag=True, help="Skip loading the result in a clean process.")
@format_option
def wrap(
    target: str,
    out: Path,
    weights: Path | None,
    tasks: str | None,
    name: str | None,
    args: tuple[str, ...],
    batch_first: bool | None,
    mask: str,
    lm_head: str | None,
    tokenizer: Path | None,
    code_root: Path | None,
    no_verify: bool,
    fmt: str,
) -> None:
    """Turn a plain PyTorch module into a Hugging Face custom-code checkpoint folder.

    \b
    hf-custom wrap model.py:Encoder --out ./ckpt --weights encoder.pt --name my-encoder
    hf-custom publish ./ckpt --repo-id you/my-encoder
    """
    from hf_custom.cli.main import ResultCode
    from hf_custom.wrapping import wrap as run_wrap
    from hf_custom.wrapping.signature import parse_args

    task_list = [t.strip() for t in tasks.split(",") if t.strip()] if tasks else None
    with progress_sink() as sink:
        result = run_wrap(
            target,
            out=out,
            weights=weights,
            tasks=task_list,
            name=name,
            args=parse_args(args),
            seq_first=None if batch_first is None else not batch_first,
            mask=mask,
            lm_head=lm_head,
            tokenizer=tokenizer,
            code_root=code_root,
            verify=not no_verify,
            on_event=sink,
        )
    if fmt == "json":
        print_json({"command": "wrap", **result.to_json()})
    else:
        _human(result)
    if not result.ok:
        raise ResultCode(1)


def _human(result: object) -> None:
    from hf_custom.cli.output import escape, out_console, render_findings
    from hf_custom.wrapping import WrapResult

    assert isinstance(result, WrapResult)
    out = out_console()
    out.soft_wrap = True  # long paths and class names stay on one line
    f = result.forward
    layout = (
        f"{'sequence' if f.input_seq_first else 'batch'}-first ids, "
        f"{'sequence' if f.output_seq_first else 'batch'}-first output"
    )
    mask = f"`{f.mask_arg}` ({f.mask_style})" if f.mask_arg else "none"
    out.print(f"[bold]wrapped[/] into {escape(str(result.out))} (model_type {result.model_type})")
    out.print(f"  module: ids `{f.ids_arg}`, mask {escape(mask)}, {layout}")
    out.print(
        f"  output: {f.output_kind} of width {f.width}, vocabulary {f.vocab_size}, "
        f"{'causal' if f.causal else 'bidirectional'}"
    )
    out.print(f"  config: {result.config_kind}")
    if "causal-lm" in result.tasks:
        c = f.cache
        how = "none: generate() reruns the whole text (use_cache false)"
        if c is not None:
            arg = c.cache_arg or c.flag_arg or c.position_arg
            beams = "beam search too" if c.reorderable else "no beam search"
            how = f"the module's own, {c.style} (`{arg}`), {beams}"
        out.print(f"  key/value cache: {escape(how)}")
    for old, new in sorted(result.renamed.items()):
        out.print(f"  renamed: {escape(old)} -> {escape(new)} (collides with PreTrainedConfig)")
    out.print(f"  weights: {escape(result.weights)} ({result.tensors} tensors)")
    for auto, ref in result.auto_map.items():
        out.print(f"  {auto:<36} {ref}")
    out.print(f"  files: {', '.join(result.files)}")
    err = err_console()
    for note in result.notes:
        err.print(f"[yellow]note:[/] {escape(note)}")
    v = result.verification
    if v is None:
        err.print("[yellow]not verified[/] (--no-verify)")
    else:
        if v.findings:
            render_findings(v.findings, err)
        for row in v.rows:
            status = "[green]ok[/]" if row.ok else "[red]FAILED[/]"
            out.print(f"  {status} {row.auto_class} {row.class_name} {escape(row.detail)}")
        out.print(f"verification {'passed' if v.ok else 'FAILED'} in {v.seconds:.1f}s")
    if result.ok:
        out.print(f"next: {result.next_command}")
