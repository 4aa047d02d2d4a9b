"""``hf-custom hub serve``: run the embedded Hub-compatible server until interrupted."""

from __future__ import annotations

import sys
from pathlib import Path

import click


@click.group()
def hub() -> None:
    """The embedded Hub-compatible server (offline default, upload tests, release rehearsals)."""


@hub.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=0, type=int, show_default=True, help="Port (0: a free one).")
@click.option(
    "--data",
    "data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory (default: the --endpoint local one, $HF_HOME/hf-custom/hub).",
)
@click.option(
    "--token",
    envvar="HF_CUSTOM_HUB_TOKEN",
    required=True,
    help="Token that clients send to write (also from HF_CUSTOM_HUB_TOKEN). Never printed.",
)
@click.option("--user", default="user", show_default=True, help="Account name of the token.")
@click.option("--org", "orgs", multiple=True, help="Organisation the user may write to (repeat).")
@click.option(
    "--upload-mode",
    type=click.Choice(["regular", "lfs"]),
    default="regular",
    show_default=True,
    help="regular: every file inside the commit, works with Xet-enabled clients; "
    "lfs: the Hub's LFS rule, clients need HF_HUB_DISABLE_XET=1.",
)
@click.option(
    "--max-body-size",
    type=click.IntRange(min=1),
    default=None,
    help="Largest request body accepted, in bytes (413 above; LFS uploads excepted). "
    "Default: 4 GiB.",
)
@click.option("--log", is_flag=True, help="Log every request on stderr.")
@click.option("--enable-fault-injection", "admin", is_flag=True, hidden=True)
def serve(
    host: str,
    port: int,
    data: Path | None,
    token: str,
    user: str,
    orgs: tuple[str, ...],
    upload_mode: str,
    max_body_size: int | None,
    log: bool,
    admin: bool,
) -> None:
    """Serve the Hub protocol over DATA; print the URL on stdout; Ctrl-C stops it.

    \b
    Clients: HF_ENDPOINT=<url> HF_TOKEN=<token> hf upload ..., or
    hf-custom publish ./ckpt --repo-id USER/NAME --endpoint <url> --token <token>.
    """
    from hf_custom.hub import DEFAULT_MAX_BODY, Account, HubServer
    from hf_custom.remote import local_hub_dir

    directory = data or local_hub_dir()
    server = HubServer(
        directory,
        tokens={token: Account(name=user, orgs=orgs)},
        host=host,
        port=port,
        upload_mode="lfs" if upload_mode == "lfs" else "regular",
        admin_routes=admin,
        log=log,
        max_body_size=max_body_size or DEFAULT_MAX_BODY,
    )
    click.echo(server.url)
    sys.stdout.flush()
    click.echo(f"serving {directory} as {user!r}; Ctrl-C to stop", err=True)
    server.serve_forever()  # KeyboardInterrupt reaches the CLI's handler: exit 130
