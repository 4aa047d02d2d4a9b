"""Repository-level checks: file sizes against the Hub's limits, training artefacts, secrets, card."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

from hf_custom.checks import register
from hf_custom.checks.context import Context
from hf_custom.findings import Finding, finding
from hf_custom.inventory import TOKEN_SCAN_MAX_BYTES, WEIGHTS_SUFFIXES, FileKind, classify
from hf_custom.textsafety import yaml_problem

HUB_FILE_LIMIT = 50 * 1000**3  # the Hub refuses files above 50 GB
HUB_FILE_RECOMMENDED = 20 * 1000**3  # and recommends staying under 20 GB


TEXT_SUFFIXES = (
    ".py",
    ".json",
    ".md",
    ".txt",
    ".yaml",
    ".yml",
    ".toml",
    ".cfg",
    ".ini",
    ".sh",
    ".env",
    ".ipynb",
    ".csv",
)
# Always present in a Hub repository: not worth a finding.
NOT_REPORTED = frozenset({".gitattributes", ".gitignore"})


def _gb(n: int) -> str:
    return f"{n / 1000**3:.1f} GB"


@register("hub.file-size", rules=("HFC650", "HFC651", "HFC304"))
def file_sizes(ctx: Context) -> Iterator[Finding]:
    """Every file fits the Hub's per-file limits (weights: HFC304, anything else: HFC651)."""
    for entry in ctx.entries.values():
        if entry.size > HUB_FILE_LIMIT:
            yield finding(
                "HFC650",
                f"{_gb(entry.size)}: above the Hub's 50 GB per-file limit",
                path=entry.path,
            )
        elif entry.size > HUB_FILE_RECOMMENDED:
            weights = classify(entry.path) is FileKind.WEIGHTS
            yield finding(
                "HFC304" if weights else "HFC651",
                f"{_gb(entry.size)}: above the Hub's recommended 20 GB per file",
                path=entry.path,
            )


def _kind(ctx: Context, path: str) -> FileKind:
    head = b""
    if not ctx.view.remote and ctx.size(path) > 0:
        head = ctx.view.read_range(path, 0, 256)
    return classify(path, head=head)


@register("repository.files", rules=("HFC600", "HFC601", "HFC603", "HFC607"))
def files(ctx: Context) -> Iterator[Finding]:
    """Training artefacts, secret files, VCS/cache data and files transformers does not use."""
    for path in ctx.paths:
        if path in NOT_REPORTED:
            continue
        kind = _kind(ctx, path)
        if kind is FileKind.TRAINING_ARTEFACT:
            yield finding("HFC600", "training artefact: not needed to load the model", path=path)
        elif kind is FileKind.SECRET:
            yield finding("HFC601", "this file may hold credentials or keys", path=path)
        elif kind is FileKind.VCS_OR_CACHE:
            yield finding("HFC603", "version-control or cache data", path=path)
        elif kind is FileKind.OTHER:
            yield finding("HFC607", "transformers does not use this file", path=path)


@register("repository.tokens", rules=("HFC602",))
def tokens(ctx: Context) -> Iterator[Finding]:
    """Hugging Face access tokens in any file (the token itself is never shown).

    Local files are streamed whatever their size, binary files included, UTF-16 decoded;
    remote repositories are read only for text files under 2 MB (a bounded download).
    """
    from hf_custom.inventory import find_token, scan_for_token

    stream = getattr(ctx.view, "open_stream", None)  # a git tree: blobs streamed from git
    for path in ctx.paths:
        local = ctx.view.local_path(path)
        if stream is not None and local is None:
            with stream(path) as fh:
                at = scan_for_token(fh)
            if at is None:
                continue
            with stream(path) as fh:
                line = _line_at(fh, at)
        elif local is not None and not ctx.view.remote:
            try:
                with local.open("rb") as fh:
                    at = scan_for_token(fh)
            except OSError:
                continue
            if at is None:
                continue
            with local.open("rb") as fh:
                line = fh.read(at).count(b"\n") + 1 if at < TOKEN_SCAN_MAX_BYTES else 0
        else:
            if ctx.size(path) > TOKEN_SCAN_MAX_BYTES or path.endswith(WEIGHTS_SUFFIXES):
                continue
            if not path.lower().endswith(TEXT_SUFFIXES):
                continue  # remote: read only files that are text by name (bounded download)
            data = ctx.read_bytes(path)
            at = find_token(data)
            if at is None:
                continue
            line = data.count(b"\n", 0, at) + 1
        yield finding(
            "HFC602", "holds a Hugging Face access token (not shown)", path=path, line=line
        )


def _line_at(fh: IO[bytes], at: int) -> int:
    """The 1-based line of byte offset ``at`` in a stream (0 past the scan limit)."""
    if at >= TOKEN_SCAN_MAX_BYTES:
        return 0
    return fh.read(at).count(b"\n") + 1


@register("repository.symlinks", rules=("HFC608",))
def symlinks(ctx: Context) -> Iterator[Finding]:
    """Symbolic links that point outside the folder: never followed, never published."""
    ctx.paths  # noqa: B018 - lists the files, which finds the links
    for path in getattr(ctx.view, "links_outside", ()):
        yield finding(
            "HFC608", "symbolic link to something outside the checkpoint: not followed", path=path
        )


def _front_matter(text: str) -> tuple[str | None, int]:
    """The YAML between the leading ``---`` lines (None if there is none), and its end line."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None, 0
    for i, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            return "\n".join(lines[1:i]), i + 1
    return "\n".join(lines[1:]), -1


@register("repository.card", rules=("HFC604", "HFC605", "HFC606"))
def card(ctx: Context) -> Iterator[Finding]:
    """README.md exists, its metadata is valid YAML and says library_name and custom_code."""
    import yaml

    if not ctx.has("README.md"):
        yield finding("HFC604", "no README.md (the model card)", path="README.md")
        return
    yaml_text, end = _front_matter(ctx.text("README.md"))
    if yaml_text is None:
        yield finding("HFC606", "the model card has no metadata block", path="README.md")
        return
    if end < 0:
        yield finding("HFC605", "the metadata block is not closed by '---'", path="README.md")
        return
    try:
        meta = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 0
        yield finding(
            "HFC605",
            f"metadata is not valid YAML: {yaml_problem(exc)}",
            path="README.md",
            line=line,
        )
        return
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        yield finding("HFC605", "metadata is not a YAML mapping", path="README.md")
        return
    missing = []
    if meta.get("library_name") != "transformers":
        missing.append("library_name: transformers")
    tags = meta.get("tags") or []
    tags = [tags] if isinstance(tags, str) else tags
    if ctx.top_py_files and (not isinstance(tags, list) or "custom_code" not in tags):
        missing.append("the custom_code tag")
    if missing:
        yield finding("HFC606", f"the metadata lacks {' and '.join(missing)}", path="README.md")
