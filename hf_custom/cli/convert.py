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
@click.option(
    "--io",
    "io_route",
    type=click.Choice(["auto", "kernel", "direct", "buffered"]),
    default="auto",
    show_default=True,
    help="I/O route: auto (a short read probe decides), kernel (copy_file_range, page cache), "
    "direct (O_DIRECT), buffered (plain reads and writes).",
)
@click.option(
    "--profile",
    is_flag=True,
    help="Print the time of each phase (start-up, metadata, copy, re-check, finalise) on stderr.",
)
@format_option
def convert(
    src: Path,
    out: Path,
    max_shard_size: str,
    dtype: str | None,
    renames: tuple[str, ...],
    io_route: str,
    profile: bool,
    fmt: str,
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
    startup = _seconds_since_process_start()
    with progress_sink() as sink:
        result = run_convert(
            src, out, max_shard_size=size, dtype=dtype, renames=rules, io=io_route, on_event=sink
        )
    if profile:
        phases = [("start-up", startup), *result.phases] if startup is not None else result.phases
        route = ""
        if result.io is not None:
            speeds = ", ".join(
                f"CPU share {v:.2f}" if k == "cpu_share" else f"{k} {v:.0f} MB/s"
                for k, v in result.io.probe.items()
            )
            route = f"; I/O {result.io.route} ({result.io.reason}{': ' + speeds if speeds else ''})"
        err_console().print(
            "profile: " + ", ".join(f"{name} {sec:.2f} s" for name, sec in phases) + route,
            highlight=False,
            soft_wrap=True,
        )
    if fmt == "json":
        doc = {"command": "convert", "out": str(out), **result.to_json()}
        if startup is not None:
            doc["startup_seconds"] = round(startup, 3)
        print_json(doc)
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


def _seconds_since_process_start() -> float | None:
    """Wall time since this process started (Linux: /proc; None elsewhere)."""
    import os
    import time

    try:
        with open("/proc/self/stat", encoding="ascii") as f:
            fields = f.read().rpartition(")")[2].split()
        start = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22: starttime, in ticks
        return max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - start)
    except (OSError, ValueError, IndexError, AttributeError):
        return None
