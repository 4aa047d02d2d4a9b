"""Fast, no-network parts of the matrix: version specs, settings files, the card section."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from hf_custom.compatibility import (
    Compatibility,
    VersionResult,
    read_compatibility,
    render_section,
    with_section,
)
from hf_custom.envs import Target, list_envs, matches, parse_specs, pick, remove_envs
from hf_custom.errors import InputError
from hf_custom.settings import load_settings
from hf_custom.verification.matrix import check_allow_fail

VERSIONS = ["5.24.0", "5.23.0", "5.0.0rc1", "4.57.6", "4.57.5", "4.56.2", "4.9.0", "4.10.1"]


def test_parse_specs_splits_repeats_and_validates() -> None:
    assert parse_specs(["4.57,latest", "latest-4", " 4.57 "]) == ("4.57", "latest", "latest-4")
    assert parse_specs("installed") == ("installed",)
    for bad in ("4.57.x", "v5", "latest-", ">=4.57", "4.57.6.1"):
        with pytest.raises(InputError, match="not a transformers version spec"):
            parse_specs(bad)


def test_pick_newest_release_matching() -> None:
    assert pick("latest", VERSIONS) == "5.24.0"
    assert pick("latest-4", VERSIONS) == "4.57.6"
    assert pick("4.57", VERSIONS) == "4.57.6"
    assert pick("4", VERSIONS) == "4.57.6"  # numeric order: 4.57 > 4.10 > 4.9
    assert pick("4.1", VERSIONS) is None  # 4.10.1 is not a 4.1.x
    assert pick("5.0", VERSIONS) is None  # pre-releases never picked
    assert matches("4.57", "4.57.6") and not matches("4.5", "4.57.6")


def test_allow_fail_must_name_a_version_of_the_matrix() -> None:
    targets = [Target(spec="4.57", version="4.57.6"), Target(spec="installed", version="5.24.0")]
    check_allow_fail(["4.57", "4.57.6", "5.24.0", "4"], targets)
    with pytest.raises(InputError, match="names no version of the matrix"):
        check_allow_fail(["4.56"], targets)


def test_settings_from_hf_custom_toml_and_pyproject(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    ckpt = repo / "ckpt"
    ckpt.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert load_settings(ckpt).transformers == ()
    (repo / "pyproject.toml").write_text(
        '[project]\nname = "x"\n\n[tool.hf-custom]\ntransformers = "4.57, latest"\n'
    )
    s = load_settings(ckpt)
    assert s.transformers == ("4.57", "latest") and s.source == str(repo / "pyproject.toml")
    (ckpt / "hf-custom.toml").write_text('transformers = ["5.24"]\nallow-fail = ["5.24"]\n')
    s = load_settings(ckpt)
    assert (s.transformers, s.allow_fail) == (("5.24",), ("5.24",))
    (ckpt / "hf-custom.toml").write_text('transformer = ["5.24"]\n')
    with pytest.raises(InputError, match="unknown hf-custom setting"):
        load_settings(ckpt)
    (ckpt / "hf-custom.toml").write_text("transformers = 4\n")
    with pytest.raises(InputError, match="must be a string or a list"):
        load_settings(ckpt)


def test_settings_stop_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / "hf-custom.toml").write_text('transformers = ["4.57"]\n')
    repo = tmp_path / "repo"
    repo.mkdir()
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    assert load_settings(repo).transformers == ()
    assert load_settings(tmp_path).transformers == ("4.57",)


def _compat(*results: VersionResult) -> Compatibility:
    return Compatibility(date="2026-12-01", hf_custom="0.2.0", versions=results)


def test_card_section_round_trip_and_replacement() -> None:
    compat = _compat(
        VersionResult("4.57.6", ok=False, torch="2.13.0", failed=("AutoModel",)),
        VersionResult("5.24.0", ok=True, torch="2.13.0", huggingface_hub="2.4.0"),
    )
    card = "---\nlibrary_name: transformers\n---\n# Model\n\nText.\n\n## Usage\n\ncode\n"
    once = with_section(card, render_section(compat))
    assert "| 4.57.6 | - | 2.13.0 | failed (AutoModel) |" in once
    assert "| 5.24.0 | 2.4.0 | 2.13.0 | passed |" in once
    back = read_compatibility(once)
    assert back == compat and back.passed == ("5.24.0",) and back.failed == ("4.57.6",)
    # a second publish replaces the section, the rest of the card is kept
    newer = _compat(VersionResult("5.24.0", ok=True))
    twice = with_section(once, render_section(newer))
    assert twice.count("## Compatibility") == 1 and "## Usage\n\ncode" in twice
    assert read_compatibility(twice) == newer
    # a section in the middle of a card is replaced in place
    middle = with_section(card.replace("## Usage", "## Compatibility\n\nold\n\n## Usage"),
                          render_section(newer))  # fmt: skip
    assert "old" not in middle and middle.index("## Compatibility") < middle.index("## Usage")
    assert read_compatibility(card) is None
    assert read_compatibility("## Compatibility\n\n<!-- hf-custom-compatibility {bad -->") is None


def test_envs_list_ignores_incomplete_and_remove_refuses_unknown(tmp_path: Path) -> None:
    root = tmp_path / "envs"
    (root / ".tmp-transformers-4.57.6-xyz").mkdir(parents=True)  # a build in progress
    (root / "transformers-4.57.5-py3.11-torch-2").mkdir()  # no marker: incomplete
    assert list_envs(root=root) == ()
    with pytest.raises(InputError, match=r"no cached environment matches 4\.57"):
        remove_envs(["4.57"], root=root)
    assert remove_envs(["all"], root=root) == ()


def test_a_failed_cell_names_the_failure_not_what_passed() -> None:
    from hf_custom.findings import finding
    from hf_custom.verification import AutoClassRow, VerifyReport
    from hf_custom.verification.matrix import Column, MatrixReport

    row = AutoClassRow(
        "AutoModel", "TinyModel", loaded="passed", weights_equal="passed", forward="failed",
        detail="28 tensors equal; TypeError: unexpected keyword argument 'cache'",
    )  # fmt: skip
    found = (
        finding("HFC505", "OtherModel: ValueError: not this class"),
        finding("HFC505", "TinyModel: TypeError: unexpected keyword argument 'cache'"),
    )
    report = VerifyReport(rows=(row,), findings=found, ok=False, seconds=1.0, environment={})
    m = MatrixReport(columns=(Column(Target("4.57", "4.57.6"), report),), findings=())
    cell = m.cell("AutoModel", "4.57.6")
    assert cell.status == "failed"
    assert cell.cause == "TypeError: unexpected keyword argument 'cache'"
    # without a finding naming the class, the row's detail is the cause
    bare = MatrixReport(columns=(Column(Target("4.57", "4.57.6"), report.__class__(
        rows=(row,), findings=(), ok=False, seconds=1.0, environment={})),), findings=())  # fmt: skip
    assert bare.cell("AutoModel", "4.57.6").cause.startswith("28 tensors equal")
