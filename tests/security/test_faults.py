"""Attacks 16.8: faults and signals. Real processes, real signals, a real full disk, and real
HTTP servers on loopback answering what a broken endpoint answers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from tiny_checkpoint import make_checkpoint

from hf_custom.diagnosis import doctor
from hf_custom.errors import RemoteUnavailable

CLI = [sys.executable, "-m", "hf_custom"]


def _serving(status: int, body: bytes, content_type: str) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(
    params=[
        (401, b'{"error": "Invalid credentials"}', "application/json"),
        (500, b'{"error": "boom"}', "application/json"),
        (200, b"<html>this is not the Hub</html>", "text/html"),
        (200, b'["a", "list"]', "application/json"),
    ],
    ids=["401", "500", "garbage-html", "garbage-json"],
)
def broken_endpoint(request: pytest.FixtureRequest) -> Iterator[str]:
    yield from _serving(*request.param)


def test_doctor_on_a_broken_endpoint_is_one_remote_error(broken_endpoint: str) -> None:
    with pytest.raises(RemoteUnavailable) as err:
        doctor("someone/model", endpoint=broken_endpoint, token="hf_x")
    assert err.value.exit_code == 2
    done = subprocess.run(
        [*CLI, "doctor", "someone/model", "--endpoint", broken_endpoint, "--token", "hf_x"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    assert "check-crashed" not in done.stdout + done.stderr
    assert done.stderr.count("error:") == 1


def test_doctor_on_an_unreachable_endpoint_exits_2() -> None:
    done = subprocess.run(
        [*CLI, "doctor", "someone/model", "--endpoint", "http://127.0.0.1:9"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2 and "check-crashed" not in done.stdout


def test_publish_out_with_missing_parents_creates_them(tmp_path: Path) -> None:
    src = make_checkpoint(tmp_path / "ckpt")
    out = tmp_path / "a" / "b" / "c"
    done = subprocess.run(
        [*CLI, "publish", str(src), "--dry-run", "--no-verify", "--out", str(out)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (out / "config.json").is_file()


SLOW_FORWARD = "import time\n        time.sleep(120)\n        "


@pytest.mark.slow
def test_ctrl_c_during_verification_leaves_no_out(tmp_path: Path) -> None:
    src = make_checkpoint(tmp_path / "ckpt")
    modeling = src / "modeling_tinyenc.py"
    text = modeling.read_text()
    marker = "return BaseModelOutput("
    assert marker in text
    modeling.write_text(text.replace(marker, SLOW_FORWARD + marker, 1))
    out = tmp_path / "out"
    proc = subprocess.Popen(
        [*CLI, "publish", str(src), "--dry-run", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 240
    while not (out / "config.json").exists() and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    time.sleep(3)  # verification is running (the forward sleeps)
    assert proc.poll() is None
    proc.send_signal(signal.SIGINT)
    _stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert not out.exists(), sorted(p.name for p in out.iterdir())


def _can_mount_tmpfs() -> bool:
    if shutil.which("unshare") is None:
        return False
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs -o size=64k none /mnt"],
        capture_output=True, check=False,
    )  # fmt: skip
    return done.returncode == 0


@pytest.mark.slow
@pytest.mark.skipif(not _can_mount_tmpfs(), reason="cannot mount a small tmpfs here")
def test_disk_full_exits_2(tmp_path: Path) -> None:
    src = make_checkpoint(tmp_path / "ckpt")
    full = tmp_path / "full"
    full.mkdir()
    script = (
        f'mount -t tmpfs -o size=64k none "{full}" && '
        f'exec "{sys.executable}" -m hf_custom publish "{src}" --dry-run --no-verify '
        f'--out "{full}/out"'
    )
    env = {**os.environ, "TMPDIR": str(full)}
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    stderr = " ".join(done.stderr.split())
    assert "No space left on device" in stderr and "bug" not in stderr
