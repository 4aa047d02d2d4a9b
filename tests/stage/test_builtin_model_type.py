"""A built-in model_type (HFC103) with auto_map naming the config class loads the author's
classes under trust_remote_code=True (v4-era Hub packages whose type was built in later): a
warning, not a refusal. Without auto_map.AutoConfig the built-in config class loads: an error."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from tiny_checkpoint import make_checkpoint

from hf_custom.checks.view import FolderView
from hf_custom.diagnosis import diagnose_view, doctor
from hf_custom.findings import Severity
from hf_custom.publishing import publish

BUILTIN = "bert"
AUTO_MAP = {
    "AutoConfig": "configuration_tinyenc.TinyEncConfig",
    "AutoModelForMaskedLM": "modeling_tinyenc.TinyEncForMaskedLM",
}


def _builtin_checkpoint(root: Path, *, auto_map: dict[str, str] | None) -> Path:
    ckpt = make_checkpoint(root)
    (ckpt / "notes.txt").unlink()
    conf = ckpt / "configuration_tinyenc.py"
    conf.write_text(conf.read_text().replace('"tinyenc"', f'"{BUILTIN}"'))
    cfg: dict[str, Any] = {"model_type": BUILTIN, "vocab_size": 12, "hidden_size": 16}
    if auto_map is not None:
        cfg["auto_map"] = auto_map
    (ckpt / "config.json").write_text(json.dumps(cfg))
    return ckpt


def _hfc103(findings: Any) -> Any:
    (f,) = [f for f in findings if f.id == "HFC103"]
    return f


def test_doctor_warns_when_auto_map_names_the_config_class(tmp_path: Path) -> None:
    ckpt = _builtin_checkpoint(tmp_path / "ck", auto_map=AUTO_MAP)
    for kind in ("folder", "repo", "git"):
        report = diagnose_view(FolderView(ckpt), kind=kind)
        f = _hfc103(report.findings)
        assert f.severity is Severity.WARNING, (kind, f)
        assert "without trust_remote_code" in f.message


def test_doctor_errs_on_a_repository_without_auto_config(tmp_path: Path) -> None:
    ckpt = _builtin_checkpoint(tmp_path / "ck", auto_map=None)
    as_repo = _hfc103(diagnose_view(FolderView(ckpt), kind="repo").findings)
    assert as_repo.severity is Severity.ERROR and "no AutoConfig entry" in as_repo.message
    # a checkpoint folder: publish writes the AutoConfig entry, so it is what users will get
    assert _hfc103(doctor(ckpt).findings).severity is Severity.WARNING


CHILD = r"""
import json, sys
import transformers
repo = sys.argv[1]
config = transformers.AutoConfig.from_pretrained(repo, trust_remote_code=True)
model = transformers.AutoModelForMaskedLM.from_pretrained(repo, trust_remote_code=True)
print(json.dumps([type(config).__name__, type(model).__name__]))
"""


@pytest.mark.slow
@pytest.mark.network
def test_publish_and_load_a_builtin_model_type_by_repo_id(tmp_path: Path, local_hub: Any) -> None:
    ckpt = _builtin_checkpoint(tmp_path / "ck", auto_map=None)  # publish completes auto_map
    repo_id = f"{local_hub.user}/builtin-type"
    result = publish(ckpt, repo_id=repo_id, endpoint=local_hub.url, token=local_hub.token)
    assert result.refused is None, [f for f in result.findings if f.severity is Severity.ERROR]
    assert result.verified and result.upload is not None and result.upload.committed
    assert _hfc103(result.findings).severity is Severity.WARNING
    assert result.stage.config["model_type"] == BUILTIN
    env = {**os.environ, **local_hub.env(), "HF_HOME": str(tmp_path / "user_home")}
    env["HF_MODULES_CACHE"] = str(tmp_path / "user_home" / "modules")
    child = subprocess.run(
        [sys.executable, "-c", CHILD, repo_id],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    loaded = json.loads(child.stdout.strip().splitlines()[-1])
    assert loaded == ["TinyEncConfig", "TinyEncForMaskedLM"]
    report = doctor(repo_id, endpoint=local_hub.url, token=local_hub.token)
    assert _hfc103(report.findings).severity is Severity.WARNING
