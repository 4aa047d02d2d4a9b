"""Cached Python environments holding one transformers version each, for the verification matrix.

An environment lives in ``$HF_HOME/hf-custom/envs/<key>/``: a virtual environment with
``transformers==VERSION`` and the huggingface_hub and tokenizers versions that transformers
version requires (the installer resolves them). torch is never installed into it: the user's own
torch build is layered in by a ``.pth`` line naming the folder that holds it, so the child
verifies with exactly the torch the user has (and no multi-GB CUDA wheel is ever downloaded).
The environment's own site-packages come first on ``sys.path``, so its transformers,
huggingface_hub and tokenizers shadow the user's.

Building is atomic (a temporary folder renamed into place once the install is checked) and
locked per key, so concurrent builders wait for each other and reuse the result. The installer
is ``uv`` when it is on PATH or beside the interpreter (never resolving torch: it is overridden
away), else pip (the current interpreter's, else the environment's own).
A build that fails (no such version, registry unreachable) raises :class:`EnvBuildError`
naming the version; it is never skipped silently.

Nothing here imports torch or transformers: versions are read from package metadata.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from hf_custom.errors import HFCustomError, InputError, MissingDependency
from hf_custom.events import EventSink, Log, Progress, emit

__all__ = [
    "Env",
    "EnvBuildError",
    "Target",
    "available_versions",
    "ensure_env",
    "envs_root",
    "list_envs",
    "parse_specs",
    "remove_envs",
    "resolve_targets",
]

MARKER = "hf-custom-env.json"
TORCH_PTH = "_hf_custom_torch.pth"
_SPEC_RE = re.compile(r"^(latest(-\d+)?|installed|\d+(\.\d+){0,2})$")
_RELEASE_RE = re.compile(r"^\d+(\.\d+)*$")
_TAIL_LINES = 12


class EnvBuildError(HFCustomError):
    """An environment for one transformers version could not be built."""

    exit_code = 1


@dataclass(frozen=True)
class Env:
    """One built environment (its folder holds :data:`MARKER`)."""

    key: str
    path: Path
    transformers: str
    versions: Mapping[str, str] = field(default_factory=dict)  # package -> version, and python
    built_at: str = ""
    build_seconds: float = 0.0
    installer: str = ""

    @property
    def python(self) -> str:
        return str(self.path / "bin" / "python")

    def to_json(self) -> dict[str, object]:
        return {
            "key": self.key,
            "path": str(self.path),
            "transformers": self.transformers,
            "versions": dict(sorted(self.versions.items())),
            "built_at": self.built_at,
            "build_seconds": round(self.build_seconds, 3),
            "installer": self.installer,
        }


@dataclass(frozen=True)
class Target:
    """One column of the matrix: the spec asked for, the exact version, the interpreter.

    ``env`` is None for the installed transformers (verified with the current interpreter)."""

    spec: str
    version: str
    env: Env | None = None
    built: bool = False  # built by this call (False: reused or the installed version)

    @property
    def python(self) -> str | None:
        return self.env.python if self.env is not None else None

    @property
    def installed(self) -> bool:
        return self.env is None

    def to_json(self) -> dict[str, object]:
        return {
            "spec": self.spec,
            "version": self.version,
            "installed": self.installed,
            "env": self.env.key if self.env is not None else None,
            "built": self.built,
        }


# --------------------------------------------------------------------------------------------
# Specs and versions
# --------------------------------------------------------------------------------------------


def parse_specs(values: str | Sequence[str]) -> tuple[str, ...]:
    """Split ``--transformers`` values (repeatable, comma-separated) into validated specs.

    A spec is ``latest``, ``latest-N`` (the newest N.x), ``installed``, ``N.M`` (the newest
    N.M.x) or an exact ``N.M.P``. Duplicates are dropped, the order is kept."""
    items = [values] if isinstance(values, str) else list(values)
    out: list[str] = []
    for item in items:
        for part in str(item).split(","):
            spec = part.strip().lower()
            if not spec:
                continue
            if not _SPEC_RE.match(spec):
                raise InputError(
                    f"not a transformers version spec: {part.strip()!r}",
                    hint="use versions like 4.57, 5.24.0, latest, latest-4 or installed, "
                    "comma-separated or repeated: --transformers 4.57,latest",
                )
            if spec not in out:
                out.append(spec)
    return tuple(out)


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def matches(spec: str, version: str) -> bool:
    """Whether the exact ``version`` satisfies ``spec`` (``4.57`` matches ``4.57.6``)."""
    if spec.startswith("latest-"):
        return version.split(".")[0] == spec.split("-", 1)[1]
    if spec in ("latest", "installed"):
        return False
    return version == spec or version.startswith(spec + ".")


def pick(spec: str, versions: Sequence[str]) -> str | None:
    """The newest release in ``versions`` satisfying ``spec`` (None when there is none)."""
    releases = [v for v in versions if _RELEASE_RE.match(v)]
    good = releases if spec == "latest" else [v for v in releases if matches(spec, v)]
    return max(good, key=_key) if good else None


def installed_version() -> str | None:
    try:
        return importlib.metadata.version("transformers")
    except importlib.metadata.PackageNotFoundError:
        return None


def available_versions(*, timeout: float = 120) -> tuple[str, ...]:
    """The transformers versions the package registry offers (``pip index versions``)."""
    cmd = [sys.executable, "-m", "pip", "index", "versions", "transformers", "--json"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EnvBuildError(
            f"cannot list the transformers versions on the package registry: {exc}",
            hint="check the network, or ask for exact versions (--transformers 4.57.6)",
        ) from exc
    try:
        doc = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else {}
    except ValueError:
        doc = {}
    versions = doc.get("versions") if isinstance(doc, dict) else None
    if proc.returncode != 0 or not isinstance(versions, list):
        raise EnvBuildError(
            "cannot list the transformers versions on the package registry: "
            + (_tail(proc.stderr + proc.stdout) or f"pip exited with {proc.returncode}"),
            hint="check the network, or ask for exact versions (--transformers 4.57.6)",
        )
    return tuple(str(v) for v in versions)


# --------------------------------------------------------------------------------------------
# The cache
# --------------------------------------------------------------------------------------------


def envs_root(hf_home: str | Path | None = None) -> Path:
    """``$HF_HOME/hf-custom/envs`` (HF_HOME read now, default ``~/.cache/huggingface``)."""
    home = hf_home or os.environ.get("HF_HOME") or Path.home() / ".cache" / "huggingface"
    return Path(home).expanduser() / "hf-custom" / "envs"


def _torch_site() -> tuple[Path, str]:
    """The folder holding the current interpreter's torch, and torch's version."""
    spec = importlib.util.find_spec("torch")
    if spec is None or not spec.origin:
        raise MissingDependency("torch", purpose="verifying against other transformers versions")
    return Path(spec.origin).resolve().parent.parent, importlib.metadata.version("torch")


def env_key(version: str, *, torch_version: str) -> str:
    py = f"{sys.version_info.major}.{sys.version_info.minor}"
    torch = re.sub(r"[^A-Za-z0-9.]+", "_", torch_version)
    return f"transformers-{version}-py{py}-torch-{torch}"


def _load(path: Path) -> Env | None:
    try:
        doc = json.loads((path / MARKER).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    return Env(
        key=path.name,
        path=path,
        transformers=str(doc.get("transformers", "")),
        versions={str(k): str(v) for k, v in (doc.get("versions") or {}).items()},
        built_at=str(doc.get("built_at", "")),
        build_seconds=float(doc.get("build_seconds") or 0.0),
        installer=str(doc.get("installer", "")),
    )


def _usable(env: Env) -> bool:
    """The interpreter is there and the layered torch folder still exists."""
    if not Path(env.python).exists():
        return False
    pth = next(iter((env.path / "lib").glob(f"python*/site-packages/{TORCH_PTH}")), None)
    if pth is None:
        return False
    line = pth.read_text(encoding="utf-8").strip()
    return bool(line) and (Path(line) / "torch").is_dir()


def list_envs(*, root: Path | None = None) -> tuple[Env, ...]:
    """Every complete environment in the cache, sorted by key."""
    root = envs_root() if root is None else root
    if not root.is_dir():
        return ()
    envs = [_load(p) for p in sorted(root.iterdir()) if p.is_dir() and not p.name.startswith(".")]
    return tuple(e for e in envs if e is not None)


def remove_envs(selectors: Sequence[str], *, root: Path | None = None) -> tuple[Env, ...]:
    """Remove the environments whose key or transformers version (or ``N.M`` prefix) is in
    ``selectors``; ``all`` removes every one. Returns what was removed."""
    root = envs_root() if root is None else root
    chosen = []
    for env in list_envs(root=root):
        if any(s in ("all", env.key) or matches(s, env.transformers) for s in selectors):
            chosen.append(env)
    unmatched = [
        s
        for s in selectors
        if s != "all" and not any(s == e.key or matches(s, e.transformers) for e in chosen)
    ]
    if unmatched:
        raise InputError(
            f"no cached environment matches {', '.join(unmatched)}",
            path=str(root),
            hint="hf-custom envs list shows the cached environments and their keys",
        )
    for env in chosen:
        with _locked(root, env.key):
            _rmtree_atomic(env.path)
    return tuple(chosen)


def _rmtree_atomic(path: Path) -> None:
    if not path.exists():
        return
    trash = path.with_name(f".trash-{path.name}-{os.getpid()}")
    path.replace(trash)
    shutil.rmtree(trash, ignore_errors=True)


@contextlib.contextmanager
def _locked(root: Path, key: str) -> Iterator[None]:
    root.mkdir(parents=True, exist_ok=True)
    with open(root / f".{key}.lock", "a+b") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


# --------------------------------------------------------------------------------------------
# Building
# --------------------------------------------------------------------------------------------


def ensure_env(
    version: str,
    *,
    root: Path | None = None,
    on_event: EventSink | None = None,
    timeout: float = 1800,
    installer: str | None = None,
) -> tuple[Env, bool]:
    """The environment for the exact transformers ``version``, built if missing.

    ``installer`` (``uv`` or ``pip``) forces the installer of a build; by default uv when it is
    found (:func:`find_uv`), else pip. Returns ``(env, built)``; ``built`` is False when a
    cached environment was reused."""
    if installer not in (None, *INSTALLERS):
        raise InputError(f"unknown installer {installer!r}", hint="use uv or pip")
    if not _RELEASE_RE.match(version):
        raise InputError(f"not an exact transformers version: {version!r}", hint="e.g. 4.57.6")
    root = envs_root() if root is None else root
    site, torch_version = _torch_site()
    key = env_key(version, torch_version=torch_version)
    path = root / key
    with _locked(root, key):
        env = _load(path)
        if env is not None and _usable(env):
            return env, False
        if path.exists():  # incomplete, or its torch folder moved: rebuild
            emit(on_event, Log(f"environment {key} is stale: rebuilding", level="warning"))
            _rmtree_atomic(path)
        env = _build(
            version,
            key=key,
            root=root,
            site=site,
            on_event=on_event,
            timeout=timeout,
            installer=installer,
        )
        return env, True


def _build(
    version: str,
    *,
    key: str,
    root: Path,
    site: Path,
    on_event: EventSink | None,
    timeout: float,
    installer: str | None,
) -> Env:
    task = f"environment transformers {version}"
    emit(on_event, Log(f"building the environment for transformers {version} (first use)"))
    emit(on_event, Progress(task, 0, 3, unit="steps"))
    start = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{key}-", dir=root))
    try:
        _run([sys.executable, "-m", "venv", "--without-pip", str(tmp)], version, timeout=300)
        python = tmp / "bin" / "python"
        site_dirs = list((tmp / "lib").glob("python*/site-packages"))
        if not site_dirs:
            raise EnvBuildError(f"the new environment for transformers {version} has no "
                                "site-packages folder", path=str(tmp))  # fmt: skip
        (site_dirs[0] / TORCH_PTH).write_text(f"{site}\n", encoding="utf-8")
        emit(on_event, Progress(task, 1, 3, unit="steps"))
        used = _install(python, version, timeout=timeout, installer=installer)
        emit(on_event, Progress(task, 2, 3, unit="steps"))
        versions = _probe(python, version)
        if versions.get("transformers") != version:
            raise EnvBuildError(
                f"the environment for transformers {version} imports transformers "
                f"{versions.get('transformers')} instead",
                hint="report this with the output of: hf-custom envs list --format json",
            )
        seconds = time.perf_counter() - start
        doc = {
            "schema": 1,
            "transformers": version,
            "versions": versions,
            "torch_site": str(site),
            "built_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "build_seconds": round(seconds, 3),
            "installer": used,
        }
        marker_tmp = tmp / (MARKER + ".tmp")
        marker_tmp.write_text(json.dumps(doc, indent=2, sort_keys=True), encoding="utf-8")
        marker_tmp.replace(tmp / MARKER)
        tmp.replace(root / key)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    emit(on_event, Progress(task, 3, 3, unit="steps"))
    env = _load(root / key)
    assert env is not None
    return env


# Never resolved by uv: the user's own torch is layered in by the .pth line. uv does not look
# through .pth folders for installed packages (pip does), so these are overridden away.
NEVER_RESOLVED = ("torch", "torchvision", "torchaudio", "triton")
INSTALLERS = ("uv", "pip")


def find_uv() -> str | None:
    """The ``uv`` executable: on PATH, else beside the current interpreter (``pip install uv``
    into the venv that runs hf-custom, without activating it)."""
    found = shutil.which("uv")
    if found:
        return found
    beside = Path(sys.executable).parent / "uv"
    return str(beside) if beside.is_file() and os.access(beside, os.X_OK) else None


def uv_command(uv: str, python: Path, requirement: str, *, overrides: Path) -> list[str]:
    """``uv pip install`` of ``requirement`` into ``python``'s environment, with torch (and its
    companions) excluded from the resolution by ``overrides`` (written here)."""
    overrides.write_text(
        "".join(f'{name}; sys_platform == "never"\n' for name in NEVER_RESOLVED), encoding="utf-8"
    )
    return [uv, "pip", "install", "--python", str(python), "--override", str(overrides),
            requirement]  # fmt: skip


def _install(python: Path, version: str, *, timeout: float, installer: str | None) -> str:
    """Install transformers==version into the environment; returns the installer's name.

    ``installer``: ``uv``, ``pip``, or None for uv when it is found, else pip."""
    req = f"transformers=={version}"
    uv = find_uv() if installer in (None, "uv") else None
    if installer == "uv" and uv is None:
        raise EnvBuildError(
            f"cannot build the environment for transformers {version}: uv is not installed",
            hint="pip install uv, or let hf-custom use pip",
        )
    if uv:
        cmd = uv_command(uv, python, req, overrides=python.parent.parent / "uv-overrides.txt")
        name = "uv"
    elif importlib.util.find_spec("pip") is not None:
        cmd = [sys.executable, "-m", "pip", "--python", str(python), "install",
               "--no-input", "--progress-bar", "off", req]  # fmt: skip
        name = "pip"
    else:
        _run([str(python), "-m", "ensurepip", "--default-pip"], version, timeout=300)
        cmd = [str(python), "-m", "pip", "install", "--no-input", "--progress-bar", "off", req]
        name = "pip"
    _run(cmd, version, timeout=timeout)
    return name


def _probe(python: Path, version: str) -> dict[str, str]:
    code = (
        "import json, platform\n"
        "from importlib.metadata import version as v\n"
        "out = {'python': platform.python_version()}\n"
        "for name in ('transformers', 'huggingface_hub', 'tokenizers', 'safetensors', 'torch'):\n"
        "    try:\n"
        "        out[name] = v(name)\n"
        "    except Exception:\n"
        "        pass\n"
        "import transformers, torch\n"
        "out['transformers'] = transformers.__version__\n"
        "print(json.dumps(out))\n"
    )
    proc = _run([str(python), "-c", code], version, timeout=300)
    try:
        doc = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError) as exc:
        raise EnvBuildError(
            f"the environment for transformers {version} does not report its versions",
            hint="remove it (hf-custom envs remove " + version + ") and try again",
        ) from exc
    return {str(k): str(v) for k, v in doc.items()}


def _run(cmd: list[str], version: str, *, timeout: float) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    try:
        proc = subprocess.run(
            cmd, capture_output=True, text=True, timeout=timeout, check=False, env=env
        )
    except subprocess.TimeoutExpired as exc:
        raise EnvBuildError(
            f"building the environment for transformers {version} did not finish within "
            f"{timeout:g} s ({Path(cmd[0]).name} {' '.join(cmd[1:3])})",
            hint="check the network and try again",
        ) from exc
    except OSError as exc:
        raise EnvBuildError(
            f"cannot build the environment for transformers {version}: cannot run {cmd[0]}: "
            f"{exc.strerror or exc}"
        ) from exc
    if proc.returncode != 0:
        output = proc.stderr + "\n" + proc.stdout
        raise EnvBuildError(
            f"cannot build the environment for transformers {version}: {_reason(output)}",
            hint=f"check that transformers {version} exists (pip index versions transformers) "
            "and that the package registry is reachable; the installer said:\n" + _tail(output),
        )
    return proc


def _reason(output: str) -> str:
    low = output.lower()
    if (
        "no matching distribution" in low
        or "could not find a version" in low
        or ("no solution found" in low or "no version of transformers" in low)
    ):
        return "no such version on the package registry"
    network = ("network is unreachable", "name resolution", "failed to establish",
               "max retries exceeded", "connection refused", "timed out", "offline")  # fmt: skip
    if any(n in low for n in network):
        return "the package registry cannot be reached (no network?)"
    return "the installer failed"


def _tail(text: str) -> str:
    lines = [
        line
        for line in text.strip().splitlines()
        if line.strip() and not line.startswith("WARNING: Location")
    ]
    return "\n".join(lines[-_TAIL_LINES:])


# --------------------------------------------------------------------------------------------
# Specs -> targets
# --------------------------------------------------------------------------------------------


def resolve_targets(
    specs: Sequence[str],
    *,
    root: Path | None = None,
    on_event: EventSink | None = None,
) -> tuple[Target, ...]:
    """One :class:`Target` per distinct exact version the specs name, environments built.

    ``installed`` (and any spec the installed transformers satisfies, like ``5.24`` when 5.24.0
    is installed) is verified with the current interpreter, no environment needed. ``N.M`` is
    satisfied by a cached ``N.M.x`` environment without asking the registry; ``latest`` and
    ``latest-N`` always ask it."""
    root = envs_root() if root is None else root
    have = installed_version()
    cached = [e.transformers for e in list_envs(root=root)]
    listed: tuple[str, ...] | None = None
    out: list[Target] = []
    for spec in specs:
        if spec == "installed" and have is None:
            raise MissingDependency("transformers", purpose="--transformers installed")
        if have and (spec == "installed" or matches(spec, have)):
            version = have
        elif spec.count(".") == 2:
            version = spec
        else:
            found = pick(spec, cached) if spec.count(".") == 1 else None
            if found is None:
                if listed is None:
                    emit(on_event, Log("asking the package registry for transformers versions"))
                    listed = available_versions()
                found = pick(spec, listed)
            if found is None:
                raise EnvBuildError(
                    f"no transformers release matches {spec!r} on the package registry",
                    hint="pip index versions transformers lists them",
                )
            version = found
        if any(t.version == version for t in out):
            continue
        if version == have:
            out.append(Target(spec=spec, version=version))
            continue
        env, built = ensure_env(version, root=root, on_event=on_event)
        out.append(Target(spec=spec, version=version, env=env, built=built))
    return tuple(out)
