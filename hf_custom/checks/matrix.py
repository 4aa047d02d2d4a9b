"""The repository's default matrix against its model card: every transformers version the
settings ask for (``hf-custom.toml`` / ``[tool.hf-custom]`` ``transformers``) is shown as
verified in the card's Compatibility section. Static: reads the two files, runs nothing."""

from __future__ import annotations

from collections.abc import Iterator

from hf_custom.checks import Skip, register
from hf_custom.checks.context import Context
from hf_custom.findings import Finding, finding

SETTINGS_FILES = ("hf-custom.toml", "pyproject.toml")  # the first that has settings wins


def _covered(spec: str, version: str) -> bool:
    """Whether a verified ``version`` answers ``spec``. ``latest`` and ``installed`` name a
    version only the registry or an interpreter knows: any verified version answers them."""
    from hf_custom.envs import matches

    return spec in ("latest", "installed") or matches(spec, version) or spec == version


@register("matrix.card", rules=("HFC750",))
def card_covers_matrix(ctx: Context) -> Iterator[Finding]:
    """The card's Compatibility section covers the settings' default matrix."""
    from hf_custom.compatibility import read_compatibility
    from hf_custom.errors import InputError
    from hf_custom.settings import parse_settings

    settings = None
    for name in SETTINGS_FILES:
        if ctx.has(name):
            try:
                settings = parse_settings(ctx.read_bytes(name), name=name)
            except InputError as exc:
                raise Skip(f"{name}: {exc.message}") from None
            if settings is not None:
                break
    if settings is None or not settings.transformers or not ctx.has("README.md"):
        return  # no matrix asked for; no card at all is HFC604's finding
    compat = read_compatibility(ctx.text("README.md"))
    asked = ", ".join(settings.transformers)
    if compat is None:
        yield finding(
            "HFC750",
            f"{settings.source} asks for transformers {asked}, and the model card has no "
            "Compatibility section saying they were verified",
            path="README.md",
        )
        return
    allowed = set(settings.allow_fail)
    for spec in settings.transformers:
        if any(v.ok and _covered(spec, v.transformers) for v in compat.versions):
            continue
        failed = [v.transformers for v in compat.versions if _covered(spec, v.transformers)]
        if failed and any(a == spec or _covered(a, f) for a in allowed for f in failed):
            continue  # verified, failing, and the settings accept it (--allow-fail)
        state = f"failing with {', '.join(failed)}" if failed else "not verified"
        yield finding(
            "HFC750",
            f"{settings.source} asks for transformers {spec}; the model card's Compatibility "
            f"section (verified {compat.date or 'on an unknown date'}) shows it {state}",
            path="README.md",
        )
