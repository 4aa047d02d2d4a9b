"""The matrix end to end: real environments built from the package registry (slow)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from packages import make_package

from hf_custom.cli.main import main
from hf_custom.envs import (
    EnvBuildError,
    ensure_env,
    find_uv,
    list_envs,
    resolve_targets,
    uv_command,
)
from hf_custom.verification.matrix import MatrixReport, verify_matrix

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def matrices(tmp_path_factory: pytest.TempPathFactory, v4_targets) -> dict[str, MatrixReport]:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("packages")
    return {
        v: verify_matrix(make_package(root, v), v4_targets, timeout=300)
        for v in ("both", "v5_only", "v4_only")
    }


def _status(m: MatrixReport, auto_class: str) -> dict[str, str]:
    return {c.version: c.status for c in m.cells() if c.auto_class == auto_class}


def test_v4_environment_has_the_v4_line(v4_targets) -> None:  # type: ignore[no-untyped-def]
    v4, installed = v4_targets
    assert v4.env is not None and v4.version.startswith("4.57.")
    assert v4.env.versions["transformers"] == v4.version
    assert v4.env.versions["huggingface_hub"].startswith("0.")  # what 4.57 requires
    import torch

    assert v4.env.versions["torch"] == torch.__version__  # the user's own torch build
    assert installed.installed and installed.python is None
    assert v4.env.installer == ("uv" if find_uv() else "pip")
    site = next((v4.env.path / "lib").glob("python*/site-packages"))
    assert not (site / "torch").exists()  # layered in by the .pth line, never installed
    assert not list(site.glob("nvidia*"))


def test_uv_never_resolves_torch(tmp_path: Path) -> None:
    uv = find_uv()
    if uv is None:
        pytest.skip("uv is not installed (pip install uv); environments are built with pip")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    # accelerate requires torch: the resolution must go through without it
    cmd = uv_command(uv, venv / "bin" / "python", "accelerate", overrides=tmp_path / "o.txt")
    proc = subprocess.run([*cmd, "--dry-run"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "+ accelerate==" in proc.stderr
    assert "+ torch==" not in proc.stderr and "nvidia" not in proc.stderr
    proc = subprocess.run([uv, "pip", "install", "--python", str(venv / "bin" / "python"),
                           "accelerate", "--dry-run"], capture_output=True, text=True, timeout=300)  # fmt: skip
    assert "+ torch==" in proc.stderr  # without the override it would be downloaded


def test_pip_builds_the_same_environment(tmp_path: Path, v4_targets) -> None:  # type: ignore[no-untyped-def]
    v4 = v4_targets[0]
    env, built = ensure_env(v4.version, root=tmp_path / "envs", installer="pip")
    assert built and env.installer == "pip"
    for name in ("transformers", "huggingface_hub", "tokenizers", "torch"):
        assert env.versions[name] == v4.env.versions[name], name


def test_package_loading_on_both_lines(matrices: dict[str, MatrixReport], v4_targets) -> None:  # type: ignore[no-untyped-def]
    m = matrices["both"]
    assert m.ok and m.failed == () and m.findings == ()
    assert m.versions == tuple(t.version for t in v4_targets)
    for cell in m.cells():
        assert cell.status == "passed", cell
    steps = {c.version: dict(c.steps) for c in m.cells() if c.auto_class == "AutoModel"}
    for version in m.versions:
        assert steps[version]["weights_equal"] == "passed"
        assert steps[version]["forward"] == "passed"


def test_package_only_on_v5(matrices: dict[str, MatrixReport], v4_targets) -> None:  # type: ignore[no-untyped-def]
    m = matrices["v5_only"]
    v4, installed = (t.version for t in v4_targets)
    assert not m.ok and m.failed == (v4,)
    assert _status(m, "AutoModel") == {v4: "failed", installed: "passed"}
    assert _status(m, "AutoConfig") == {v4: "passed", installed: "passed"}
    cell = m.cell("AutoModel", v4)
    assert dict(cell.steps)["loaded"] == "failed" and cell.cause
    assert [f.id for f in m.findings] == ["HFC590"] and v4 in m.findings[0].message
    assert any("initialization" in f.message for f in m.all_findings())


def test_package_only_on_v4(matrices: dict[str, MatrixReport], v4_targets) -> None:  # type: ignore[no-untyped-def]
    m = matrices["v4_only"]
    v4, installed = (t.version for t in v4_targets)
    assert m.failed == (installed,)
    assert _status(m, "AutoModel") == {v4: "passed", installed: "failed"}
    assert any("modeling_attn_mask_utils" in f.message for f in m.all_findings())


def test_allow_fail_turns_the_refusal_into_a_warning(tmp_path: Path, v4_targets) -> None:  # type: ignore[no-untyped-def]
    v4 = v4_targets[0]
    m = verify_matrix(make_package(tmp_path, "v5_only"), [v4], allow_fail=["4.57"], timeout=300)
    assert m.ok and m.failed == (v4.version,)
    assert [f.id for f in m.findings] == ["HFC591"]
    assert all(f.severity.value != "error" for f in m.all_findings())


def test_environment_reused_on_a_second_run(envs_dir: Path, v4_targets) -> None:  # type: ignore[no-untyped-def]
    v4 = v4_targets[0]
    marker = (v4.env.path / "hf-custom-env.json").read_text()
    start = time.perf_counter()
    again = resolve_targets(["4.57"], root=envs_dir)
    seconds = time.perf_counter() - start
    assert again[0].env == v4.env and not again[0].built
    assert seconds < 5, seconds  # a first build takes a minute or more
    assert (v4.env.path / "hf-custom-env.json").read_text() == marker  # not rebuilt
    assert [e.key for e in list_envs(root=envs_dir)] == [v4.env.key]


def test_no_such_version_is_a_clear_error(tmp_path: Path) -> None:
    root = tmp_path / "envs"
    with pytest.raises(EnvBuildError, match=r"transformers 4\.99\.0: no such version"):
        ensure_env("4.99.0", root=root)
    assert [p.name for p in root.iterdir() if not p.name.endswith(".lock")] == []


def test_publish_with_matrix_writes_the_compatibility_section(
    tmp_path: Path,
    shared_home: Path,
    v4_targets,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tiny_checkpoint import make_checkpoint

    from hf_custom.compatibility import read_compatibility

    monkeypatch.setenv("HF_HOME", str(shared_home))
    ckpt = make_checkpoint(tmp_path / "ckpt")
    # The test checkpoint's MaskedLM head ties through its body's get_input_embeddings, which
    # transformers 4.57 calls and the body lacks: a real v4-only failure.
    (ckpt / "hf-custom.toml").write_text('transformers = ["4.57", "installed"]\n')
    out = tmp_path / "staged"
    argv = ["publish", str(ckpt), "--dry-run", "--out", str(out), "--format", "json"]
    assert main(argv) == 1
    doc = json.loads(capsys.readouterr().out)
    v4, installed = (t.version for t in v4_targets)
    assert doc["matrix"]["versions"] == [v4, installed] and doc["matrix"]["failed"] == [v4]
    assert f"transformers {v4}" in doc["refused"]
    cells = {(c["auto_class"], c["version"]): c for c in doc["matrix"]["cells"]}
    assert cells[("AutoModelForMaskedLM", v4)]["status"] == "failed"
    assert "get_input_embeddings" in cells[("AutoModelForMaskedLM", v4)]["cause"]
    assert cells[("AutoModelForMaskedLM", installed)]["status"] == "passed"
    assert "HFC590" in {f["id"] for f in doc["findings"]}

    # accepted with --allow-fail on the command line: published, the card says what fails
    assert main([*argv, "--force", "--allow-fail", "4.57"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matrix"]["ok"] and "HFC591" in {f["id"] for f in doc["findings"]}
    card = (out / "README.md").read_text()
    compat = read_compatibility(card)
    assert compat is not None and compat.passed == (installed,) and compat.failed == (v4,)
    assert f"| {v4} |" in card and "failed (AutoModelForMaskedLM)" in card
    assert "hf-custom.toml" not in {p.name for p in out.iterdir()}
