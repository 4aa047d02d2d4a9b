"""``hf-custom envs list|remove``: the cached transformers environments of the matrix."""

from __future__ import annotations

import click

from hf_custom.cli.output import err_console, format_option, out_console, print_json


@click.group("envs")
def envs() -> None:
    """The cached environments (one transformers version each) used by --transformers.

    \b
    hf-custom envs list               what is cached, and where
    hf-custom envs remove 4.57        remove the 4.57.x environments (or a key, or 'all')
    """


@envs.command("list")
@format_option
def list_command(fmt: str) -> None:
    """List the cached environments."""
    from hf_custom.envs import envs_root, list_envs

    root = envs_root()
    found = list_envs(root=root)
    if fmt == "json":
        print_json({"root": str(root), "envs": [e.to_json() for e in found]})
        return
    out = out_console()
    for env in found:
        hub = env.versions.get("huggingface_hub", "?")
        torch = env.versions.get("torch", "?")
        out.print(
            f"{env.key}  transformers {env.transformers}  huggingface_hub {hub}  torch {torch}  "
            f"built {env.built_at}",
            highlight=False,
            soft_wrap=True,
        )
    err_console().print(f"{len(found)} environment(s) in {root}", highlight=False)


@envs.command("remove")
@click.argument("selectors", nargs=-1, required=True)
@format_option
def remove_command(selectors: tuple[str, ...], fmt: str) -> None:
    """Remove environments by key, transformers version (4.57 matches 4.57.x) or 'all'."""
    from hf_custom.envs import remove_envs

    removed = remove_envs(selectors)
    if fmt == "json":
        print_json({"removed": [e.to_json() for e in removed]})
        return
    out = out_console()
    for env in removed:
        out.print(f"removed: {env.key}", highlight=False, soft_wrap=True)
