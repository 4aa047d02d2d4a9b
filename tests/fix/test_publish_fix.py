"""``hf-custom publish SRC --fix``: the repairs made in the staged copy only, listed, verified;
without ``--fix`` the refusal names the repairs ``--fix`` would make (v4-era corpus packages)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from hf_custom.cli.main import main
from tests.corpus.v4.packages import PACKAGES, TINYDEC, Package

IDS = [p.name for p in PACKAGES]


def _digest(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _write(pkg: Package, root: Path) -> Path:
    pytest.importorskip("torch")
    from tests.corpus.v4.build import write_package

    return write_package(pkg, root)


@pytest.fixture(scope="module")
def tinydec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _write(TINYDEC, tmp_path_factory.mktemp("v4") / "tinydec")


def test_without_fix_the_refusal_names_the_repairs(
    tinydec: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _digest(tinydec)
    out = tmp_path / "staged"
    argv = ["publish", str(tinydec), "--dry-run", "--no-verify", "--out", str(out)]
    code = main([*argv, "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["ok"] is False
    # the code checks' errors stop publish at the gate, before anything is written or
    # converted (static errors are never left for a later step to mask): the refusal's hint
    # names each repair --fix would make, rule id and file:line
    assert doc["stage"] is None and not out.exists()
    for where in (
        "HFC250 layers_tinydec.py:",
        "HFC252 modeling_tinydec.py:",
        "HFC253 modeling_tinydec.py:",
        "HFC254 modeling_tinydec.py:",
    ):
        assert where in doc["hint"], doc["hint"]
    assert "publish --fix would make 7 repair(s)" in doc["hint"]
    assert {"HFC252", "HFC253"} <= {f["id"] for f in doc["findings"]}
    assert _digest(tinydec) == before
    # the human output says the same on stderr
    assert main([*argv, "--force"]) == 1
    err = capsys.readouterr().err
    assert "publish --fix would make 7 repair(s)" in " ".join(err.split())


def test_gate_refusal_names_the_repairs(tmp_path: Path) -> None:
    """A refusal before anything is written (the gate) names the repairs too."""
    from hf_custom.errors import Refusal
    from hf_custom.staging.pipeline import stage

    src = _write(TINYDEC, tmp_path / "src")
    modeling = src / "modeling_tinydec.py"
    modeling.write_text(
        "from .missing_helpers import helper  # noqa: F401\n" + modeling.read_text()
    )
    with pytest.raises(Refusal) as info:
        stage(src, out=tmp_path / "out")
    assert "publish --fix would make 7 repair(s)" in (info.value.hint or "")
    assert "HFC252 modeling_tinydec.py:" in (info.value.hint or "")
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.parametrize("pkg", PACKAGES, ids=IDS)
def test_publish_fix_repairs_the_staged_copy_and_verifies(
    pkg: Package, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = _write(pkg, tmp_path / "src")
    before = _digest(src)
    out = tmp_path / "staged"
    code = main(["publish", str(src), "--dry-run", "--fix", "--out", str(out), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    assert _digest(src) == before  # SRC untouched
    assert doc["verification"]["ok"] is True, doc["verification"]
    assert code == 0 and doc["ok"] is True, doc["refused"]
    stage = doc["stage"]
    assert len({r["rule"] for r in stage["repairs"]}) >= 3 and stage["fixable"] == []
    assert stage["unrepaired"] == []
    assert "fix" in stage["steps"]
    assert not [f for f in doc["findings"] if f["severity"] == "error"]
    staged = {p.name: p.read_text() for p in out.glob("*.py")}
    assert any("self.post_init()" in t for t in staged.values())
    # the repaired staged copy needs nothing more: fix on it plans no change
    from hf_custom.fixing import plan_fixes

    again = plan_fixes({k: v.encode() for k, v in staged.items()}, config=stage_config(out))
    assert not again.changes, again.repairs


def stage_config(out: Path) -> dict[str, object]:
    loaded = json.loads((out / "config.json").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_guarded_optional_import_is_no_longer_a_requirement(tmp_path: Path) -> None:
    from hf_custom.errors import Refusal
    from hf_custom.staging.pipeline import stage
    from tests.corpus.v4.packages import TINYENC

    src = _write(TINYENC, tmp_path / "src")
    with pytest.raises(Refusal) as info:  # unguarded in a function: check_imports refuses
        stage(src, out=tmp_path / "plain")
    assert "HFC204" in {f.id for f in info.value.findings}
    assert "HFC204 modeling_tinyenc.py:" in (info.value.hint or "")
    fixed = stage(src, out=tmp_path / "fixed", fix=True)
    assert "HFC204" in {r.rule for r in fixed.repairs}
    assert "xformers_hfc_absent" not in fixed.requirements
    assert "xformers_hfc_absent" not in (tmp_path / "fixed" / "README.md").read_text()
    assert not [f for f in fixed.findings if f.id == "HFC204"]


def test_config_findings_are_planned_again_on_the_repaired_code(tmp_path: Path) -> None:
    """A read of a base-config attribute v5 no longer defaults (HFC115), found by the config
    step on the original code, is gone once --fix restored the default; the repair is listed."""
    from hf_custom.staging.pipeline import stage

    src = _write(TINYDEC, tmp_path / "src")
    modeling = src / "modeling_tinydec.py"
    text = modeling.read_text()
    anchor = "        self.embed_tokens = nn.Embedding(config.vocab_size, config.hidden_size)\n"
    assert anchor in text
    modeling.write_text(
        text.replace(anchor, anchor + "        self.pad_idx = config.pad_token_id\n")
    )
    cfg = json.loads((src / "config.json").read_text())
    del cfg["pad_token_id"]
    (src / "config.json").write_text(json.dumps(cfg, indent=2))
    from hf_custom.errors import Refusal

    try:
        plain = stage(src, out=tmp_path / "plain")
        found = plain.findings
    except Refusal as exc:
        found = exc.findings
    assert "HFC115" in {f.id for f in found}
    fixed = stage(src, out=tmp_path / "fixed", fix=True)
    assert "HFC115" in {r.rule for r in fixed.repairs}
    assert "HFC115" not in {f.id for f in fixed.findings}, [
        f for f in fixed.findings if f.id == "HFC115"
    ]
