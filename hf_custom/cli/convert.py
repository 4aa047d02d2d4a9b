"""``hf-custom convert``: thin click layer over :func:`hf_custom.weights.convert`."""

from __future__ import annotations

from pathlib import Path

import click

from hf_custom.cli.output import format_option, out_console, print_json


@click.command()
@click.argument("src", type=click.Path(path_type=Path))
@click.argument("out", type=click.Path(path_type=Path))
@click.option(
    "--max-shard-size",
    default="5GB",
    show_default=True,
    help="Largest shard (data bytes): 5GB, 500MB, 2GiB...",
)
@click.option(
    "--dtype",
    type=click.Choice(["bfloat16", "float16", "float32"]),
    help="Cast floating-point tensors (default: keep each tensor's dtype).",
)
@click.option(
    "--rename",
    "renames",
    multiple=True,
    metavar="REGEX=REPLACEMENT",
    help=r"Rename tensors (Python re.sub, applied in order; repeatable), e.g. '^net\.=model.'.",
)
@format_option
def convert(
    src: Path, out: Path, max_shard_size: str, dtype: str | None, renames: tuple[str, ...], fmt: str
) -> None:
    """Convert weights (pytorch_model.bin, .pt/.ckpt, safetensors) to sharded safetensors.

    SRC is a checkpoint folder or a weights file; OUT is the folder to write into.
    Pickles are only read by restricted unpicklers (torch's weights_only, or a stricter
    subset of its allow-list that needs no torch); nothing in them runs.

    \b
    hf-custom convert ./ckpt ./out
    hf-custom convert model.pt ./out --dtype bfloat16 --max-shard-size 2GB
    hf-custom convert model.ckpt ./out --rename '^model\\.=' --format json
    """
    from hf_custom.cli.output import err_console, progress_sink, render_findings
    from hf_custom.errors import InputError
    from hf_custom.weights import convert as run_convert
    from hf_custom.weights import parse_size
    from hf_custom.weights.names import parse_rename

    try:
        size = parse_size(max_shard_size)
    except ValueError as e:
        raise InputError(f"--max-shard-size: {e}") from None
    rules = [parse_rename(r) for r in renames]
    with progress_sink() as sink:
        result = run_convert(
            src, out, max_shard_size=size, dtype=dtype, renames=rules, on_event=sink
        )
    if fmt == "json":
        print_json({"command": "convert", "out": str(out), **result.to_json()})
        return
    console = out_console()
    gb = result.total_bytes / 1e9
    console.print(
        f"[bold]{result.tensors}[/] tensors, {gb:.2f} GB in {len(result.files)} file(s) "
        f"({result.source_format} -> safetensors, dtype {result.dtype}) in {result.seconds:.1f} s"
    )
    for f in result.files:
        console.print(f"  {f.name}  {f.size:,} B  sha256 {f.sha256[:16]}...")
    for r in result.renames:
        console.print(f"  renamed {r.old} -> {r.new} [dim]({r.reason})[/]")
    for dropped, kept in sorted(result.dropped_duplicates.items()):
        console.print(f"  shared  {dropped} -> written once as {kept}")
    console.print(
        f"verified: {result.verified_by_crc} tensors against the archive's CRC-32, "
        f"{result.verified_by_reread} re-read and compared bitwise"
    )
    if result.findings:
        render_findings(result.findings, err_console())
