"""Real processes: `hf-custom hub serve`, a client with Xet left on, transformers by repo id."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.network

TOKEN = "hf_serve_token"


def client_env(url: str, *, xet: bool = False, **extra: str) -> dict[str, str]:
    env = dict(os.environ, HF_ENDPOINT=url, HF_TOKEN=TOKEN, HF_HUB_OFFLINE="0")
    if xet:
        env.pop("HF_HUB_DISABLE_XET", None)
    env.update(extra)
    return env


def run_client(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


@pytest.fixture
def served(tmp_path):
    """`hf-custom hub serve` in a subprocess; yields (url, process)."""

    def start(*extra: str) -> tuple[str, subprocess.Popen[str]]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hf_custom", "hub", "serve", "--port", "0",
             "--data", str(tmp_path / "data"), "--token", TOKEN, "--user", "alice", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        started.append(proc)
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), proc.stderr.read() if proc.stderr else ""
        return url, proc

    started: list[subprocess.Popen[str]] = []
    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_hub_serve_answers_and_stops_on_ctrl_c(served) -> None:
    url, proc = served()
    result = run_client(
        "from huggingface_hub import HfApi; print(HfApi().whoami()['name'])", client_env(url)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "alice"
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 130
    assert proc.stderr is not None and TOKEN not in proc.stderr.read()


UPLOAD = """
    import io, json, os
    from huggingface_hub import HfApi
    from huggingface_hub.utils._runtime import is_xet_available
    api = HfApi()
    api.create_repo("alice/xet", exist_ok=True)
    weights = bytes(range(256)) * 8192  # 2 MiB of binary: an LFS file by the Hub's rule
    api.upload_file(path_or_fileobj=weights, path_in_repo="model.safetensors", repo_id="alice/xet")
    info = api.model_info("alice/xet", files_metadata=True)
    sizes = {s.rfilename: s.size for s in info.siblings}
    print(json.dumps({"xet": is_xet_available(), "sizes": sizes}))
"""


@pytest.mark.slow
def test_client_with_xet_on_uploads_to_regular_mode(served) -> None:
    pytest.importorskip("hf_xet")
    url, _ = served()  # the CLI's default --upload-mode regular
    result = run_client(UPLOAD, client_env(url, xet=True))
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout.strip().splitlines()[-1])
    assert doc["xet"] is True  # the client really had Xet on
    assert doc["sizes"]["model.safetensors"] == 2 * 1024 * 1024


@pytest.mark.slow
def test_client_with_xet_on_gets_a_clear_error_in_lfs_mode(served) -> None:
    pytest.importorskip("hf_xet")
    url, _ = served("--upload-mode", "lfs")
    result = run_client(UPLOAD, client_env(url, xet=True))
    assert result.returncode != 0
    assert "xet-write-token" in result.stderr and "501" in result.stderr  # no silent fallback
    # ... and the same client with Xet disabled goes through the LFS batch API
    ok = run_client(UPLOAD, client_env(url, HF_HUB_DISABLE_XET="1"))
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout.strip().splitlines()[-1])["xet"] is False


@pytest.mark.slow
def test_transformers_autoconfig_by_repo_id(served, tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    url, _ = served()
    config = {"model_type": "bert", "hidden_size": 32, "num_hidden_layers": 1,
              "num_attention_heads": 2, "intermediate_size": 37, "vocab_size": 99}  # fmt: skip
    upload = f"""
        import json
        from huggingface_hub import HfApi
        api = HfApi()
        api.create_repo("alice/tiny", private=True)
        api.upload_file(path_or_fileobj=json.dumps({config!r}).encode(),
                        path_in_repo="config.json", repo_id="alice/tiny")
    """
    assert run_client(upload, client_env(url)).returncode == 0
    load = """
        from transformers import AutoConfig
        config = AutoConfig.from_pretrained("alice/tiny")
        print(type(config).__name__, config.hidden_size, config.intermediate_size)
        try:  # private: invisible without the token
            AutoConfig.from_pretrained("alice/tiny", token=False, force_download=True)
        except OSError as exc:
            print("anonymous:", type(exc).__name__)
    """
    result = run_client(load, client_env(url, HF_HOME=str(tmp_path / "hf_home")))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].split() == ["BertConfig", "32", "37"]
    assert lines[1].startswith("anonymous:")


def test_fault_injection_route_of_a_served_hub(served) -> None:
    url, _ = served("--enable-fault-injection")
    code = """
        import httpx2
        from huggingface_hub import HfApi
        from huggingface_hub.errors import HfHubHTTPError
        api = HfApi()
        api.create_repo("alice/f")
        httpx2.post(api.endpoint + "/_admin/faults", json={"commit_error": 1}).raise_for_status()
        try:
            api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/f")
        except HfHubHTTPError as exc:
            print("failed", exc.response.status_code)
        print(sorted(api.list_repo_files("alice/f")))
        api.upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id="alice/f")
        print(sorted(api.list_repo_files("alice/f")))
    """
    result = run_client(code, client_env(url))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "failed 500",
        "['.gitattributes']",
        "['.gitattributes', 'x.txt']",
    ]


def test_fault_route_is_off_by_default(served) -> None:
    import httpx2

    url, _ = served()
    assert httpx2.post(url + "/_admin/faults", json={"commit_error": 1}).status_code == 404
