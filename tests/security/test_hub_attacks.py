"""Attacks 16.7 on the embedded Hub, over raw sockets on loopback (and the real client).

Each request is written byte by byte as an attacker would, so nothing in a client library
smooths it over: path traversal through the repo type, bodies too large or unauthenticated,
malformed JSON of every route that takes one, and temp files left by a crash.
"""

from __future__ import annotations

import ast
import json
import os
import socket
import time
from pathlib import Path

import pytest

from hf_custom.hub import Account, HubServer

TOKEN = "hf_attack_test_alice"


@pytest.fixture
def hub(tmp_path: Path):
    server = HubServer(
        tmp_path / "data", tokens={TOKEN: Account("alice")}, max_body_size=1 << 20
    ).start()
    try:
        yield server
    finally:
        server.stop()


def _raw(
    server: HubServer, head: str, body: bytes = b"", *, timeout: float = 10
) -> tuple[int, dict]:
    """Send ``head`` (request line and headers) and ``body``; return the status and JSON body."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        header, _, rest = data.partition(b"\r\n\r\n")
        lines = header.decode().split("\r\n")
        status = int(lines[0].split()[1])
        length = next(
            int(line.split(":", 1)[1])
            for line in lines
            if line.lower().startswith("content-length")
        )
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    return status, json.loads(rest[:length] or b"null")


def _json(server: HubServer, method: str, path: str, doc: object, *, token: str | None = TOKEN):
    body = json.dumps(doc).encode()
    auth = f"Authorization: Bearer {token}\n" if token else ""
    head = (
        f"{method} {path} HTTP/1.1\nHost: x\n{auth}Content-Type: application/json\n"
        f"Content-Length: {len(body)}\n"
    )
    return _raw(server, head, body)


def test_delete_with_a_traversing_repo_type_touches_nothing_outside(
    hub: HubServer, tmp_path: Path
) -> None:
    # What `type: ../../x` named before: <data>/repos/../../xs/alice/victim, outside --data.
    victim = tmp_path / "xs" / "alice" / "victim"
    victim.mkdir(parents=True)
    (victim / "meta.json").write_text('{"private": false, "owner": "alice", "created": "x"}')
    (victim / "precious.txt").write_text("keep me")
    doc = {"type": "../../x", "name": "victim", "organization": "alice"}
    status, answer = _json(hub, "DELETE", "/api/repos/delete", doc)
    assert status == 400 and "'type'" in answer["error"]
    assert (victim / "precious.txt").read_text() == "keep me"


@pytest.mark.parametrize("name", ["../x", "a/b", "..", "x" * 200])
def test_every_route_validates_the_repo_name(hub: HubServer, name: str) -> None:
    status, _ = _json(hub, "POST", "/api/repos/create", {"name": name})
    assert status == 400
    status, _ = _json(hub, "DELETE", "/api/repos/delete", {"name": name})
    assert status == 400


def test_unauthenticated_huge_body_is_refused_before_it_is_read(hub: HubServer) -> None:
    # 300 MB announced, nothing sent: the answer must come without waiting for the body.
    head = (
        "POST /api/models/alice/m/commit/main HTTP/1.1\nHost: x\n"
        "Content-Type: application/x-ndjson\nContent-Length: 300000000\n"
    )
    start = time.monotonic()
    status, _ = _raw(hub, head, timeout=5)
    assert status == 401 and time.monotonic() - start < 5
    bad_token = head + "Authorization: Bearer hf_wrong\n"
    status, _ = _raw(hub, bad_token, timeout=5)
    assert status == 401


def test_authenticated_body_over_the_limit_is_413_before_it_is_read(hub: HubServer) -> None:
    head = (
        "POST /api/repos/create HTTP/1.1\nHost: x\nContent-Type: application/json\n"
        f"Authorization: Bearer {TOKEN}\nContent-Length: {2 << 20}\n"
    )
    status, answer = _raw(hub, head, timeout=5)
    assert status == 413 and "max-body-size" in answer["error"]


def test_chunked_body_over_the_limit_is_413(hub: HubServer) -> None:
    head = (
        "POST /api/repos/create HTTP/1.1\nHost: x\nContent-Type: application/json\n"
        f"Authorization: Bearer {TOKEN}\nTransfer-Encoding: chunked\n"
    )
    chunk = b"x" * (1 << 19)
    body = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(3))
    status, _ = _raw(hub, head, body, timeout=5)
    assert status == 413


MALFORMED = [
    ("POST", "/api/repos/create", [1, 2], "JSON object"),
    ("POST", "/api/repos/create", {"name": 5}, "'name'"),
    ("POST", "/api/repos/create", {"name": "m2", "private": "yes"}, "'private'"),
    ("DELETE", "/api/repos/delete", {"name": ["m"]}, "'name'"),
    ("POST", "/api/models/alice/m/preupload/main", {"files": "nope"}, "'files'"),
    ("POST", "/api/models/alice/m/preupload/main", {"files": [5]}, "'files[0]'"),
    ("POST", "/api/models/alice/m/preupload/main", {"files": [{"path": "a", "size": "9"}]},
     "'files[0].size'"),
    ("POST", "/api/models/alice/m/preupload/main",
     {"files": [{"path": "a", "size": 1, "sample": "!!"}]}, "'files[0].sample'"),
    ("POST", "/alice/m.git/info/lfs/objects/batch",
     {"operation": "upload", "objects": [{"oid": 1, "size": 2}]}, "'objects[0].oid'"),
    ("POST", "/alice/m.git/info/lfs/objects/batch", {"operation": "upload", "objects": {}},
     "'objects'"),
    ("POST", "/alice/m.git/info/lfs/objects/batch",
     {"operation": "upload", "objects": [{"oid": "a" * 64, "size": -1}]}, "'objects[0].size'"),
    ("POST", "/api/models/alice/m/paths-info/main", {"paths": [1]}, "'paths'"),
    ("POST", "/api/models/alice/m/branch/dev", {"startingPoint": 3}, "'startingPoint'"),
    ("POST", "/api/models/alice/m/branch/dev", "main", "JSON object"),
]  # fmt: skip


@pytest.mark.parametrize(("method", "path", "doc", "field"), MALFORMED)
def test_malformed_json_is_a_4xx_naming_the_field(
    hub: HubServer, method: str, path: str, doc: object, field: str
) -> None:
    assert _json(hub, "POST", "/api/repos/create", {"name": "m"})[0] == 200
    status, answer = _json(hub, method, path, doc)
    assert 400 <= status < 500, answer
    assert field in answer["error"]


COMMIT_LINES = [
    (b"[1]\n", "JSON object"),
    (b'{"key": 1, "value": {}}\n', "'key'"),
    (b'{"key": "file", "value": []}\n', "'value'"),
    (b'{"key": "file", "value": {"path": 3}}\n', "'value.path'"),
    (b'{"key": "lfsFile", "value": {"path": "a", "oid": "x", "size": "1"}}\n', "'value.size'"),
    (b'{"key": "header", "value": {"summary": ["s"]}}\n', "'value.summary'"),
]


@pytest.mark.parametrize(("line", "field"), COMMIT_LINES)
def test_malformed_commit_lines_are_400(hub: HubServer, line: bytes, field: str) -> None:
    assert _json(hub, "POST", "/api/repos/create", {"name": "m"})[0] == 200
    head = (
        "POST /api/models/alice/m/commit/main HTTP/1.1\nHost: x\n"
        f"Authorization: Bearer {TOKEN}\nContent-Type: application/x-ndjson\n"
        f"Content-Length: {len(line)}\n"
    )
    status, answer = _raw(hub, head, line)
    assert status == 400, answer
    assert field in answer["error"]


def test_temp_files_of_a_crash_are_swept_on_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    (data / "tmp").mkdir(parents=True)
    orphan = data / "tmp" / "tmpabc123"
    orphan.write_bytes(b"x" * 1000)
    old = time.time() - 3600
    os.utime(orphan, (old, old))
    fresh = data / "tmp" / "tmpfresh"  # another live server's partial write: kept
    fresh.write_bytes(b"y")
    server = HubServer(data, tokens={})
    server.stop()
    assert not orphan.exists() and fresh.exists()
    assert server.swept == 1


def test_hub_modules_import_in_no_circle() -> None:
    """Top-level imports between hf_custom.hub modules (TYPE_CHECKING ones too) form no cycle."""
    folder = Path(__file__).parents[2] / "hf_custom" / "hub"
    graph: dict[str, set[str]] = {}
    for path in folder.glob("*.py"):
        mod = path.stem
        graph[mod] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                if node.module.startswith("hf_custom.hub."):
                    graph[mod].add(node.module.split(".")[2])
                elif node.module == "hf_custom.hub":
                    graph[mod].update(
                        a.name for a in node.names if (folder / f"{a.name}.py").exists()
                    )
    graph.pop("__init__", None)

    def visit(mod: str, stack: tuple[str, ...]) -> None:
        assert mod not in stack, f"import circle: {' -> '.join((*stack, mod))}"
        for dep in sorted(graph.get(mod, ())):
            visit(dep, (*stack, mod))

    for mod in sorted(graph):
        visit(mod, ())
