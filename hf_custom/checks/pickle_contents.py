"""What is inside pickle weights, read without torch (the zip archive's ``data.pkl`` walked by the
allow-list unpickler, never the tensor data): wrapper prefixes publish strips and float64 tensors
publish keeps. Safetensors names are :mod:`hf_custom.checks.weights`' (headers).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

from hf_custom.checks import Skip, register
from hf_custom.checks.context import Context
from hf_custom.findings import Finding, Severity, finding

#: Pickles up to this size are copied out of a git tree to be read; bigger ones are skipped.
COPY_MAX = 10_000_000
PREFIX_REASON = {"ddp-prefix": "module.", "compile-prefix": "_orig_mod."}


@register("weights.pickle_contents", rules=("HFC357", "HFC301"))
def pickle_contents(ctx: Context) -> Iterator[Finding]:
    """Tensor names and dtypes of pickle-only weights: ``module.``/``_orig_mod.`` prefixes (a
    checkpoint folder: publish strips them, info) and float64 tensors (kept unless --dtype)."""
    from hf_custom.checks.weights import _safetensors, _weight_pickles

    pickles = _weight_pickles(ctx)
    if not pickles or _safetensors(ctx):
        return  # nothing to read, or the safetensors headers (weights.names) are what counts
    found: list[Finding] = []
    unread: list[str] = []
    for path in pickles:
        tensors, why = _read(ctx, path)
        if tensors is None:
            unread.append(f"{path} ({why})")
            continue
        found.extend(_findings(path, tensors, kind=ctx.kind))
    if unread:
        raise Skip("not read without torch: " + ", ".join(unread), findings=found)
    yield from found


def _read(ctx: Context, path: str) -> tuple[list[tuple[str, str]] | None, str]:
    """``(name, safetensors dtype)`` of every tensor, or None and why not (a damaged file is
    HFC360's, weights.pickle_structure; an unsafe one HFC300's)."""
    from hf_custom.errors import InputError, Refusal
    from hf_custom.weights.sources import plain_tensors, torch_file_problem

    if ctx.size(path) == 0:
        return None, "empty: HFC360"
    with tempfile.TemporaryDirectory(prefix="hf-custom-pickle-") as tmp:
        local = ctx.view.local_path(path)
        if local is None:
            if ctx.view.remote or ctx.size(path) > COPY_MAX:
                return None, "not downloaded"
            local = Path(tmp) / "file"
            local.write_bytes(ctx.view.read_bytes(path))
        if torch_file_problem(local) is not None:
            return None, "damaged: HFC360"
        try:
            read = plain_tensors(local)
        except Refusal:
            return None, "refused by the weights_only rules: HFC300"
        except InputError as exc:
            return None, f"damaged: {exc.message}"
    if read is None:
        return None, "legacy format or not a plain state dict"
    return [(r.name, r.dtype) for r in read[0]], ""


def _findings(path: str, tensors: list[tuple[str, str]], *, kind: str) -> Iterator[Finding]:
    from hf_custom.weights.names import strip_wrapper_prefixes

    names = [n for n, _ in tensors]
    renames = strip_wrapper_prefixes(names)
    by_reason = Counter(reason for _, reason in renames.values())
    for reason, count in sorted(by_reason.items()):
        prefix = PREFIX_REASON.get(reason, reason)
        old = min(k for k, (_, r) in renames.items() if r == reason)
        example = f"{old} -> {renames[old][0]}"
        if kind == "folder":
            yield finding(
                "HFC357",
                f"{count} of {len(names)} tensor names start with or hold {prefix!r} "
                f"(e.g. {example}): publish strips the prefix when it converts the weights",
                path=path,
                severity=Severity.INFO,
                fix="nothing to do for publish; `hf-custom convert` strips it too",
            )
        else:  # a repository users load as it is
            yield finding(
                "HFC357",
                f"{count} of {len(names)} tensor names carry the {prefix!r} prefix (e.g. "
                f"{example}): from_pretrained matches no parameter to them",
                path=path,
            )
    f64 = sorted(n for n, dtype in tensors if dtype == "F64")
    if f64:
        shown = ", ".join(f64[:4]) + (f" and {len(f64) - 4} more" if len(f64) > 4 else "")
        yield finding(
            "HFC301",
            f"{len(f64)} float64 tensors ({shown}): publish keeps float64 unless told "
            "--dtype float32 (half the size)",
            path=path,
            fix="publish (or convert) with --dtype float32 (or bfloat16)",
        )
