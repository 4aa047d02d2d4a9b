"""publish never uploads after a failed verification (against the embedded local Hub)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from verify_factory import make_model_dir

from hf_custom.errors import RemoteError
from hf_custom.publishing import publish
from hf_custom.remote import Endpoint, RemoteRepo

pytestmark = [pytest.mark.slow, pytest.mark.network]


def _files(hub: Any, repo_id: str) -> list[str] | None:
    """Paths in the Hub repo, None when the repo does not exist."""
    try:
        return sorted(
            f.path for f in RemoteRepo(repo_id, endpoint=Endpoint(hub.url, hub.token)).files()
        )
    except RemoteError:
        return None


def test_failed_verification_uploads_nothing(tmp_path: Path, local_hub: Any) -> None:
    # an exception in one head's forward: nothing a static check sees, only the test-load
    src = make_model_dir(tmp_path / "src", defects={"forward_exception"})
    repo_id = f"{local_hub.user}/tiny-broken"
    result = publish(
        src,
        repo_id=repo_id,
        endpoint=local_hub.url,
        token=local_hub.token,
        architecture="TinyForCausalLM",
    )
    assert not result.ok and result.upload is None
    assert result.refused and "verification" in result.refused
    assert result.verify is not None and not result.verify.ok
    assert "HFC505" in {f.id for f in result.findings}
    assert not (_files(local_hub, repo_id) or [])  # no repo, or an empty one: nothing uploaded


def test_verified_package_is_uploaded(tmp_path: Path, local_hub: Any) -> None:
    src = make_model_dir(tmp_path / "src")
    repo_id = f"{local_hub.user}/tiny-sound"
    # no architecture given: publish picks it from the weights, with the tied lm_head (rebuilt
    # from the embeddings at load time) not counted as a weight the checkpoint must hold
    result = publish(src, repo_id=repo_id, endpoint=local_hub.url, token=local_hub.token)
    assert result.ok, (result.refused, [f.message for f in result.findings])
    assert result.stage.architecture == "TinyForCausalLM"
    assert result.verify is not None and result.verify.ok
    # the keys step's class inspection and the verification shared one warm child (the staging
    # folder renamed to its final place is the folder that child's sandbox was opened on)
    assert result.verify.environment["warm"] is True
    assert "sandbox" in result.verify.environment
    files = _files(local_hub, repo_id) or []
    assert "config.json" in files and "modeling_tiny.py" in files
    assert any(f.endswith(".safetensors") for f in files)
