"""``hf-custom fix REPO_ID [--create-pr]`` against the embedded Hub: the code and config files
only are read (never the weights), the copy verifies, one pull request holds the repaired files
and a description of every repair; nothing to repair -> no PR; a stale read -> exit 2, no PR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hf_custom.cli.main import main
from tests.corpus.v4.packages import TINYDEC

WEIGHTS = "pytorch_model.bin"


@pytest.fixture(scope="module")
def v4_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("torch")
    from tests.corpus.v4.build import write_package

    return write_package(TINYDEC, tmp_path_factory.mktemp("v4") / "tinydec")


def _push(hub, folder: Path, name: str) -> str:
    repo_id = f"{hub.user}/{name}"
    api = hub.api()
    api.create_repo(repo_id)
    api.upload_folder(repo_id=repo_id, folder_path=str(folder))
    hub.stats.reset()
    return repo_id


def _argv(hub, repo_id: str, *extra: str) -> list[str]:
    return ["fix", repo_id, "--endpoint", hub.url, "--token", hub.token, *extra]


def _weights_read(hub, repo_id: str) -> int:
    return sum(n for (rid, path), n in hub.stats.file_bytes.items() if path == WEIGHTS)


def _prs(hub, repo_id: str) -> list[str]:
    refs = hub.api().list_repo_refs(repo_id, include_pull_requests=True)
    return [r.ref for r in refs.pull_requests or []]


@pytest.mark.slow
def test_create_pr_with_the_repaired_files_and_description(
    local_hub, v4_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo_id = _push(local_hub, v4_folder, "tinydec")
    api = local_hub.api()
    main_before = api.repo_info(repo_id).sha
    code = main(_argv(local_hub, repo_id, "--create-pr", "--format", "json"))
    doc = json.loads(capsys.readouterr().out)
    assert doc["verification"]["ok"] is True, doc["verification"]
    assert doc["verification"]["weights_compared"] is False
    assert code == 0 and doc["ok"] is True
    assert WEIGHTS not in doc["read_files"] and "modeling_tinydec.py" in doc["read_files"]
    assert _weights_read(local_hub, repo_id) == 0  # the weights were never downloaded
    assert [k for k in local_hub.stats.file_bytes if k[1] == WEIGHTS] == []
    pr = doc["pull_request"]
    assert pr["url"].endswith("/discussions/1") and pr["parent"] == main_before
    assert _prs(local_hub, repo_id) == ["refs/pr/1"]
    assert api.repo_info(repo_id).sha == main_before  # main untouched: the repairs are a PR
    # the PR holds exactly the repaired files
    changed = {f["path"] for f in doc["files"]}
    assert changed == {
        "config.json",  # torch_dtype -> dtype
        "hf_custom_compat.py",
        "layers_tinydec.py",
        "modeling_tinydec.py",
    }
    pr_files = set(api.list_repo_files(repo_id, revision="refs/pr/1"))
    assert pr_files == set(api.list_repo_files(repo_id)) | {"hf_custom_compat.py"}
    path = api.hf_hub_download(repo_id, "modeling_tinydec.py", revision="refs/pr/1")
    assert "self.post_init()" in Path(path).read_text()
    cfg = json.loads(
        Path(api.hf_hub_download(repo_id, "config.json", revision="refs/pr/1")).read_text()
    )
    assert cfg["dtype"] == "float32" and "torch_dtype" not in cfg
    # the description lists every repair and the verification result
    commit = api.list_repo_commits(repo_id, revision="refs/pr/1")[0]
    text = commit.message
    for r in doc["repairs"]:
        assert f"- {r['rule']} `{r['path']}:{r['line']}`" in text
    assert "Verification: the repaired repository loads" in text
    assert "Weights not compared" in text


def test_nothing_to_repair_opens_no_pr(
    local_hub, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("torch")
    from tests.corpus.v4.build import write_package

    clean = write_package(TINYDEC, tmp_path / "clean", variant="clean")
    cfg = json.loads((clean / "config.json").read_text())
    cfg["dtype"] = cfg.pop("torch_dtype")  # a v5-era config.json
    (clean / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    repo_id = _push(local_hub, clean, "clean")
    code = main(_argv(local_hub, repo_id, "--create-pr", "--format", "json"))
    doc = json.loads(capsys.readouterr().out)
    assert code == 0 and doc["ok"] is True, doc
    assert doc["repairs"] == [] and doc["files"] == [] and doc["pull_request"] is None
    assert doc["pull_request_skipped"] == "nothing to repair"
    assert _prs(local_hub, repo_id) == []
    assert _weights_read(local_hub, repo_id) == 0
    assert main(_argv(local_hub, repo_id, "--create-pr")) == 0
    human = capsys.readouterr().out
    assert "nothing to repair" in human
    assert human.rstrip().endswith("no pull request opened: nothing to repair")


def test_copy_that_does_not_verify_opens_no_pr_and_says_so(
    local_hub, tmp_path: Path, v4_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(v4_folder, broken)
    layers = broken / "layers_tinydec.py"
    layers.write_text("import sentencepiece_hfc_absent  # noqa: F401\n" + layers.read_text())
    repo_id = _push(local_hub, broken, "noverify")
    code = main(_argv(local_hub, repo_id, "--create-pr", "--format", "json"))
    doc = json.loads(capsys.readouterr().out)
    assert code == 1 and doc["ok"] is False
    assert doc["verification"]["ok"] is False and doc["repairs"]
    assert doc["pull_request"] is None
    assert doc["pull_request_skipped"].startswith("the repaired copy does not verify")
    assert _prs(local_hub, repo_id) == []
    assert _weights_read(local_hub, repo_id) == 0
    assert main(_argv(local_hub, repo_id, "--create-pr")) == 1
    human = capsys.readouterr().out
    assert "\nLeft (" in human and "sentencepiece_hfc_absent" in human
    assert human.rstrip().endswith("--no-verify opens the pull request without verifying)")
    assert "no pull request opened: the repaired copy does not verify" in human


def test_stale_parent_is_an_error_and_opens_no_pr(local_hub, v4_folder: Path) -> None:
    """main moves between the read and the pull request: exit 2, nothing opened."""
    from hf_custom.errors import InputError
    from hf_custom.events import Log
    from hf_custom.fixing.remote import StaleRead, fix_repo

    repo_id = _push(local_hub, v4_folder, "stale")
    api = local_hub.api()
    moved = []

    def another_commit_lands(event: object) -> None:  # a real commit, by someone else
        if isinstance(event, Log) and "reading the code" in event.message and not moved:
            moved.append(
                api.upload_file(path_or_fileobj=b"x", path_in_repo="notes.txt", repo_id=repo_id)
            )

    with pytest.raises(StaleRead) as info:
        fix_repo(
            repo_id,
            endpoint=local_hub.endpoint(),
            verify=False,
            create_pr=True,
            on_event=another_commit_lands,
        )
    assert moved and isinstance(info.value, InputError) and info.value.exit_code == 2
    assert "moved since fix read it" in info.value.message
    assert _prs(local_hub, repo_id) == []
    # the Hub's own refusal of a stale parent (412) is the same error, exit 2 from the CLI
    local_hub.faults.stale_parent = 1
    assert main(_argv(local_hub, repo_id, "--create-pr", "--no-verify")) == 2
    assert _prs(local_hub, repo_id) == []
