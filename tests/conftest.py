"""Shared test configuration.

Every test runs offline: the Hub is unreachable here. Tests that upload or download use the real
huggingface_hub client against the embedded local Hub on 127.0.0.1 (fixture ``local_hub``).
"""

from __future__ import annotations

import os

import pytest

# Nothing in the suite may reach the network or the user's caches.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("HF_HUB_DISABLE_XET", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture(autouse=True)
def _isolated_hf_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """A fresh HF_HOME per test: no test sees another's cache or the developer's token."""
    home = tmp_path_factory.mktemp("hf_home")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setenv("HF_MODULES_CACHE", str(home / "modules"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.delenv("HF_DEBUG", raising=False)
    yield


@pytest.fixture
def git_identity(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """git with a config of its own (default branch main, no system config) and a fixed author
    and committer: tests that commit or push never read the developer's git settings."""
    cfg = tmp_path_factory.mktemp("gitcfg") / "gitconfig"
    cfg.write_text("[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for k in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{k}_NAME", "Tester")
        monkeypatch.setenv(f"GIT_{k}_EMAIL", "tester@example.com")


# -- the embedded Hub on loopback ---------------------------------------------------------------
HUB_TOKEN = "hf_test_alice_write"  # alice, member of the org "acme"; writes
HUB_READ_TOKEN = "hf_test_alice_read"  # alice, read-only
HUB_OTHER_TOKEN = "hf_test_bob_write"  # bob: sees nothing private of alice's


class LocalHub:
    """A running local Hub for one test: ``url``, ``token``, ``user``, ``data_dir``, ``faults``.

    ``faults`` is the server's :class:`hf_custom.hub.Faults` (set e.g. ``faults.commit_error = 1``),
    ``stats`` its byte counters. ``env()`` is the environment a subprocess client needs.
    """

    def __init__(self, server, *, token: str, user: str) -> None:
        self.server = server
        self.url: str = server.url
        self.token = token
        self.user = user
        self.org = "acme"
        self.read_token = HUB_READ_TOKEN
        self.other_token = HUB_OTHER_TOKEN
        self.data_dir = server.data_dir
        self.faults = server.faults
        self.stats = server.stats

    def api(self, token: str | None = None):
        from huggingface_hub import HfApi

        return HfApi(endpoint=self.url, token=token or self.token)

    def endpoint(self, token: str | None = None):
        from hf_custom.remote import Endpoint

        return Endpoint(url=self.url, token=token or self.token)

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(HF_ENDPOINT=self.url, HF_TOKEN=self.token, HF_HUB_OFFLINE="0")
        env.update(extra)
        return env


def _start_hub(data_dir, **options):
    from hf_custom.hub import Account, HubServer

    tokens = {
        HUB_TOKEN: Account("alice", orgs=("acme",)),
        HUB_READ_TOKEN: Account("alice", orgs=("acme",), write=False),
        HUB_OTHER_TOKEN: Account("bob"),
    }
    return HubServer(data_dir, tokens=tokens, **options).start()


@pytest.fixture
def local_hub(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    """The embedded Hub on a free 127.0.0.1 port with a fresh data dir (LFS mode, Xet off).

    huggingface_hub reads HF_HUB_OFFLINE into a module constant at import: it is lifted for the
    test (the only server reachable is this loopback one).
    """
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_XET", True)
    server = _start_hub(tmp_path_factory.mktemp("hub_data"), upload_mode="lfs")
    try:
        yield LocalHub(server, token=HUB_TOKEN, user="alice")
    finally:
        server.stop()
