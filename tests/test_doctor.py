"""doctor as a library and as a command: folders, repo ids on the embedded Hub, output, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from checks.repo import safetensors_bytes, write_repo

from hf_custom.cli.main import main
from hf_custom.diagnosis import doctor
from hf_custom.errors import InputError

BROKEN = {"config.json": "{not json", "notes.txt": "todo\n"}


def test_clean_repo_is_ok(tmp_path: Path) -> None:
    report = doctor(write_repo(tmp_path / "m"))
    assert report.ok and not report.findings, report.findings
    assert "config.normalize" in report.run and "code.post-init" in report.run
    assert [s.check for s in report.skipped] == ["loading.verify"]
    assert report.kind == "folder" and report.bytes_downloaded is None


def test_strict_makes_warnings_fail(tmp_path: Path) -> None:
    repo = write_repo(tmp_path / "m", {"optimizer.pt": b"\x80\x02}q\x00."})
    assert doctor(repo).ok
    strict = doctor(repo, strict=True)
    assert not strict.ok and {f.id for f in strict.failing} == {"HFC600"}


def test_input_errors(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(InputError):
        doctor(tmp_path / "file.txt")
    with pytest.raises(InputError):
        doctor(str(tmp_path / "missing" / "dir"))
    with pytest.raises(InputError):
        doctor(tmp_path, revision="main")


def test_json_document_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good = write_repo(tmp_path / "good")
    bad = write_repo(tmp_path / "bad", BROKEN)
    assert main(["doctor", str(good), "--format", "json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["schema_version"] == 1 and doc["ok"] is True and doc["findings"] == []
    assert "version" not in doc
    assert set(doc) >= {"schema_version", "target", "ok", "summary", "findings", "checks"}
    assert doc["checks"]["skipped"][0]["check"] == "loading.verify"

    assert main(["doctor", str(bad), "--format", "json"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["ok"] is False and doc["summary"]["error"] >= 1
    f = next(f for f in doc["findings"] if f["id"] == "HFC100")
    assert set(f) == {"id", "name", "severity", "message", "path", "line", "fix"}
    assert f["name"] == "config-json-malformed" and f["path"] == "config.json"

    assert main(["doctor", str(bad), "--ignore", "HFC100,HFC607"]) == 0
    assert main(["doctor", str(bad), "--select", "HFC9"]) == 2
    assert main(["doctor", str(tmp_path / "nope")]) == 2
    assert main(["doctor"]) == 2


def test_human_output_groups_by_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_repo(tmp_path / "bad", BROKEN)
    assert main(["doctor", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "config.json\n" in out and "HFC100" in out and "notes.txt\n" in out
    assert "skipped loading.verify" in out and "failed" in out


def test_explain_and_list_checks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "HFC252"]) == 0
    out = capsys.readouterr().out
    assert "post-init-missing" in out and "## How to fix" in out
    assert main(["explain", "post-init-missing", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == "HFC252"
    assert main(["explain", "HFC999"]) == 2
    assert main(["doctor", "--list-checks", "--format", "json"]) == 0
    rules = json.loads(capsys.readouterr().out)["rules"]
    by_id = {r["id"]: r for r in rules}
    assert by_id["HFC650"]["checks"] == ["hub.file-size"]
    assert main(["doctor", "--list-checks"]) == 0
    assert "HFC650" in capsys.readouterr().out


def test_doctor_never_imports_the_models_code(tmp_path: Path) -> None:
    """Static doctor parses code; a module-level side effect must not happen."""
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('x')\n"
    repo = write_repo(tmp_path / "m", {"modeling_toy.py": code + "\n" + _modeling()})
    doctor(repo)
    assert not marker.exists()


def _modeling() -> str:
    from checks.repo import MODELING

    return MODELING


def test_hook_mode_needs_no_torch(tmp_path: Path) -> None:
    """The static checks run where torch and transformers cannot be imported."""
    repo = write_repo(
        tmp_path / "m",
        {
            "modeling_toy.py": _modeling().replace(
                "import torch\n",
                "import torch\nfrom transformers.modeling_attn_mask_utils import x\n",
            )
        },
    )
    code = (
        "import sys\n"
        "for name in ('torch', 'transformers', 'numpy', 'tokenizers'):\n"
        "    sys.modules[name] = None  # as if not installed: import fails, find_spec is None\n"
        "from hf_custom.cli.main import main\n"
        f"sys.exit(main(['doctor', {str(repo)!r}, '--format', 'json']))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert [f["id"] for f in doc["findings"]] == ["HFC250"], doc["findings"]
    assert "known transformers v5 removals" in doc["findings"][0]["message"]


# -- a repo id on the embedded Hub -------------------------------------------------------------
def _upload(local_hub, folder: Path, name: str) -> str:
    from hf_custom.remote import upload

    repo_id = f"{local_hub.user}/{name}"
    upload(folder, repo_id=repo_id, endpoint=local_hub.endpoint())
    return repo_id


@pytest.mark.network
@pytest.mark.slow
def test_remote_download_does_not_grow_with_weights(local_hub, tmp_path: Path) -> None:
    small = {"model.embed.weight": ("F32", [8, 16])}
    big = {"model.embed.weight": ("F32", [8, 16]), "model.big.weight": ("F32", [2048, 2048])}
    sizes = {}
    downloaded = {}
    for name, tensors in (("small", small), ("big", big)):
        folder = write_repo(tmp_path / name, {"model.safetensors": safetensors_bytes(tensors)})
        sizes[name] = (folder / "model.safetensors").stat().st_size
        repo_id = _upload(local_hub, folder, f"toy-{name}")
        report = doctor(repo_id, endpoint=local_hub.url, token=local_hub.token)
        assert report.kind == "repo" and report.ok, report.findings
        assert "weights.safetensors" in report.run
        assert report.bytes_downloaded is not None
        downloaded[name] = report.bytes_downloaded
    print(f"weights {sizes} bytes; doctor downloaded {downloaded} bytes")
    assert sizes["big"] - sizes["small"] > 16_000_000
    # same files but for one more tensor: the download differs by that tensor's header entry
    assert abs(downloaded["big"] - downloaded["small"]) < 1_000, downloaded
    assert downloaded["big"] < sizes["big"] / 100


@pytest.mark.network
def test_remote_findings_and_cli(
    local_hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_repo(
        tmp_path / "m",
        {"model.safetensors": safetensors_bytes({"model.embed.weight": ("F64", [8, 16])})},
    )
    repo_id = _upload(local_hub, folder, "toy-f64")
    args = ["doctor", repo_id, "--endpoint", local_hub.url, "--token", local_hub.token]
    assert main([*args, "--format", "json", "--strict"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["target"] == repo_id and doc["kind"] == "repo"
    assert [f["id"] for f in doc["findings"]] == ["HFC301"]
    assert doc["bytes_downloaded"] > 0
    assert main([*args, "--revision", "no-such-branch"]) == 1


@pytest.mark.network
@pytest.mark.slow
def test_remote_load_downloads_a_snapshot_and_verifies(local_hub, tmp_path: Path) -> None:
    folder = write_repo(tmp_path / "m")
    repo_id = _upload(local_hub, folder, "toy-load")
    static = doctor(repo_id, endpoint=local_hub.url, token=local_hub.token)
    assert "loading.verify" in {s.check for s in static.skipped}
    report = doctor(
        repo_id, endpoint=local_hub.url, token=local_hub.token, load=True, trust_remote_code=True
    )
    assert "loading.verify" in report.run
    assert not report.skipped
    assert static.verify is None and report.verify is not None
    assert {r.auto_class for r in report.verify.rows} >= {"AutoConfig"}
    assert report.to_json()["verify"]["rows"]
    size = (folder / "model.safetensors").stat().st_size
    assert report.bytes_downloaded is not None and report.bytes_downloaded > size
    # the child loaded the code: what it reports are loading rules (5xx), located in the repo
    load_ids = {f.id for f in report.findings} - {f.id for f in static.findings}
    assert all(i.startswith("HFC5") for i in load_ids), report.findings


def test_an_empty_run_is_not_a_clean_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = write_repo(tmp_path / "m")
    report = doctor(repo, select=["loading"])  # every selected check needs --load
    assert not report.run and report.skipped and not report.findings
    assert not report.ok
    assert main(["doctor", str(repo), "--select", "loading"]) == 1
    assert "nothing was checked" in capsys.readouterr().out


def test_fork_import_is_what_publish_will_rewrite_in_a_folder(tmp_path: Path) -> None:
    """In a checkpoint folder HFC211 says what publish WILL do (info); in a repository users
    load as it is (a repo id, a git tree) the same import is an error."""
    from checks.repo import MODELING

    from hf_custom.checks.view import FolderView
    from hf_custom.diagnosis import diagnose_view

    fork = MODELING.replace("import torch\n", "import torch\nfrom ...activations import ACT2FN\n")
    repo = write_repo(tmp_path / "m", {"modeling_toy.py": fork})
    report = doctor(repo)
    (f,) = [f for f in report.findings if f.id == "HFC211"]
    assert f.severity.value == "info" and report.ok
    assert f.message.startswith("publish will rewrite `from ...activations import ACT2FN` to ")
    assert "`from transformers.activations import ACT2FN`" in f.message
    assert "rewrote" not in f.message and "made absolute" not in f.message
    as_repo = diagnose_view(FolderView(repo), kind="repo")
    (g,) = [g for g in as_repo.findings if g.id == "HFC211"]
    assert g.severity.value == "error" and not as_repo.ok


def test_own_absolute_import_is_what_publish_will_rewrite_in_a_folder(tmp_path: Path) -> None:
    """HFC203 (`from configuration_toy import X`, an absolute import of a sibling module):
    publish rewrites it to a relative import, so in a folder doctor says so (info)."""
    from checks.repo import MODELING

    from hf_custom.checks.view import FolderView
    from hf_custom.diagnosis import diagnose_view

    own = MODELING.replace("from .configuration_toy import", "from configuration_toy import")
    assert own != MODELING
    repo = write_repo(tmp_path / "m", {"modeling_toy.py": own})
    report = doctor(repo)
    (f,) = [f for f in report.findings if f.id == "HFC203"]
    assert f.severity.value == "info" and report.ok, report.findings
    assert f.message.startswith("publish will rewrite `from configuration_toy import")
    as_git = diagnose_view(FolderView(repo), kind="git")
    assert [g.severity.value for g in as_git.findings if g.id == "HFC203"] == ["error"]
