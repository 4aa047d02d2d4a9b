"""End to end: each bundled example, as a researcher leaves it, is published to the embedded Hub
and loaded back by repo id with plain transformers (HF_ENDPOINT) in a fresh process; every tensor
of the loaded model equals the source checkpoint's. A second publish makes no commit, and doctor
on the repo id reports no error (issues 2, 5 and 6, "done when")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from hf_custom.diagnosis import doctor
from hf_custom.findings import Severity
from hf_custom.publishing import publish

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

# Runs in a clean interpreter: only transformers and the Hub at HF_ENDPOINT, nothing of ours.
CHILD = r"""
import json, sys
import torch, transformers

repo, out = sys.argv[1], sys.argv[2]
config = transformers.AutoConfig.from_pretrained(repo, trust_remote_code=True)
loaded = {}
for auto_name, ref in sorted(config.auto_map.items()):
    if auto_name == "AutoConfig":
        continue
    auto = getattr(transformers, auto_name)
    obj = auto.from_pretrained(repo, trust_remote_code=True)
    loaded[auto_name] = type(obj).__name__
    if type(obj).__name__ == config.architectures[0]:
        state = {k: v.detach().clone().contiguous() for k, v in obj.state_dict().items()}
        torch.save(state, out)
tok = transformers.AutoTokenizer.from_pretrained(repo, trust_remote_code=True)
loaded["AutoTokenizer"] = type(tok).__name__
print(json.dumps(loaded))
"""


def _source_state(ckpt: Path) -> dict[str, Any]:
    import torch

    for name in ("pytorch_model.bin", "last.ckpt"):
        if (ckpt / name).exists():
            obj = torch.load(ckpt / name, map_location="cpu", weights_only=True)
            return dict(obj.get("state_dict", obj))
    raise AssertionError(f"no source weights in {sorted(p.name for p in ckpt.iterdir())}")


@pytest.mark.slow
@pytest.mark.parametrize(
    ("example", "heads"),
    [
        (
            "ltgbert",
            {
                "AutoModel",
                "AutoModelForMaskedLM",
                "AutoModelForSequenceClassification",
                "AutoModelForTokenClassification",
                "AutoTokenizer",
            },
        ),
        ("tinylm", {"AutoModel", "AutoModelForCausalLM", "AutoTokenizer"}),
    ],
)
def test_example_round_trip_through_the_local_hub(
    example: str, heads: set[str], tmp_path: Path, local_hub: Any
) -> None:
    import torch

    ckpt = tmp_path / "checkpoint"
    script = str(EXAMPLES / example / "make_checkpoint.py")
    subprocess.run(
        [sys.executable, script, "--out", str(ckpt), "--steps", "4"],
        check=True,
        capture_output=True,
        timeout=600,
    )
    before = {p.name: p.read_bytes() for p in ckpt.iterdir()}
    repo_id = f"{local_hub.user}/{example}"

    result = publish(ckpt, repo_id=repo_id, endpoint=local_hub.url, token=local_hub.token)
    assert result.refused is None, [f for f in result.findings if f.severity is Severity.ERROR]
    assert result.verified and result.upload.committed
    assert result.upload.commit_url

    # Load it back by repo id, as the model's users will, in a fresh process and module cache.
    dump = tmp_path / "loaded.pt"
    env = {**os.environ, **local_hub.env(), "HF_HOME": str(tmp_path / "user_home")}
    env["HF_MODULES_CACHE"] = str(tmp_path / "user_home" / "modules")
    child = subprocess.run(
        [sys.executable, "-c", CHILD, repo_id, str(dump)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        timeout=600,
    )
    assert child.returncode == 0, child.stderr[-3000:]
    assert set(json.loads(child.stdout.strip().splitlines()[-1])) == heads

    # Every tensor the architectures class holds equals the source tensor it came from.
    loaded = torch.load(dump, weights_only=True)
    renamed = {r.old: r.new for r in result.stage.renames}
    source = {renamed.get(k, k): v for k, v in _source_state(ckpt).items()}
    dropped = dict(result.stage.weights.dropped_duplicates)
    assert set(source) == set(loaded), set(source) ^ set(loaded)
    for name, tensor in source.items():
        assert torch.equal(loaded[name], tensor), name
    for alias, kept in dropped.items():
        assert torch.equal(loaded[alias], loaded[kept])

    # The source checkpoint is untouched.
    assert {p.name: p.read_bytes() for p in ckpt.iterdir()} == before

    # Publishing the same checkpoint again makes no commit.
    commits = len(local_hub.api().list_repo_commits(repo_id))
    again = publish(ckpt, repo_id=repo_id, endpoint=local_hub.url, token=local_hub.token)
    assert again.refused is None and not again.upload.committed
    assert len(local_hub.api().list_repo_commits(repo_id)) == commits

    # doctor by repo id: no error, without downloading the weights.
    local_hub.stats.reset()
    report = doctor(repo_id, endpoint=local_hub.url, token=local_hub.token)
    assert not [f for f in report.findings if f.severity is Severity.ERROR], report.findings
    weights = sum(
        n for (repo, path), n in local_hub.stats.file_bytes.items() if path.endswith(".safetensors")
    )
    # headers only: a few KB whatever the weights weigh (tests/test_doctor.py varies the size)
    assert weights < min(result.stage.weights.total_bytes / 10, 100_000), weights
